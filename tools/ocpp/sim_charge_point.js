#!/usr/bin/env node
'use strict';
// A simulated OCPP 1.6-J charge point for `tools/evnet up --ocpp`: what a
// real one does, so the console shows an OCPP CP beside the simulated
// Engines. It speaks through ocpp-rpc (strict mode: every message checked
// against the OCPP 1.6 JSON schemas), the package tests/ocpp/client pins.
//
//   node tools/ocpp/sim_charge_point.js --url ws://127.0.0.1:9000/ocpp --id OC1 --password P
//
// Behaviour: BootNotification (again at the interval it is given, until
// Accepted), then Heartbeat at the interval it is given
// and StatusNotification Available. RemoteStartTransaction is accepted and
// followed by StartTransaction (meterStart = its meter), status Charging and
// MeterValues every second at 1 kWh per second (the simulated Engines'
// rate); RemoteStopTransaction ends it (StopTransaction, status Available).
// ChangeAvailability Inoperative/Operative switches it Unavailable/Available.
// It reconnects by itself (ocpp-rpc's backoff) and prints one line per
// event on stdout.

const path = require('path');
const { RPCClient } = require(path.join(__dirname, '..', '..', 'tests', 'ocpp', 'client', 'node_modules', 'ocpp-rpc'));

function usage(problem) {
    process.stderr.write(`${problem ? 'error: ' + problem + '\n' : ''}` +
        'usage: sim_charge_point.js --url ws://HOST:PORT/ocpp --id CP_ID (--password P | --password-file FILE)\n');
    process.exit(2);
}

const opts = {};
for (let i = 2; i < process.argv.length; i += 2) {
    const key = process.argv[i];
    const value = process.argv[i + 1];
    if (!['--url', '--id', '--password', '--password-file'].includes(key) || value === undefined) usage(`bad argument ${key}`);
    opts[key.slice(2)] = value;
}
// A file keeps the password out of the process list (ps shows arguments).
if (opts['password-file'] !== undefined) {
    try {
        opts.password = require('fs').readFileSync(opts['password-file'], 'utf8').trim();
    } catch (e) {
        usage(`cannot read --password-file: ${e.message}`);
    }
}
if (!opts.url || !opts.id || !opts.password) usage('--url, --id and --password (or --password-file) are required');

const say = (event, fields = {}) => process.stdout.write(JSON.stringify({ event, cp: opts.id, ...fields }) + '\n');
const now = () => new Date().toISOString();

let meterWh = 0;          // the energy register, Wh
let tx = null;            // { id, timer }
let heartbeat = null;
let inoperative = false;  // ChangeAvailability Inoperative in force
// The status when no transaction runs.
const idle = () => (inoperative ? 'Unavailable' : 'Available');

const client = new RPCClient({
    endpoint: opts.url,
    identity: opts.id,
    password: opts.password,
    protocols: ['ocpp1.6'],
    strictMode: true,
    reconnect: true,
    callConcurrency: 1,
});

async function status(s) {
    await client.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: s, timestamp: now() });
    say('status', { status: s });
}

async function start(idTag) {
    const answer = await client.call('StartTransaction', { connectorId: 1, idTag, meterStart: meterWh, timestamp: now() });
    if (answer.idTagInfo.status !== 'Accepted') {
        say('refused', { idTag, status: answer.idTagInfo.status });
        return;
    }
    const id = answer.transactionId;
    await status('Charging');
    tx = { id, timer: setInterval(() => {
        meterWh += 1000;
        client.call('MeterValues', {
            connectorId: 1, transactionId: id,
            meterValue: [{ timestamp: now(), sampledValue: [{ value: String(meterWh), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }],
        }).catch((e) => say('error', { message: e.message }));
    }, 1000) };
    say('started', { transactionId: id, idTag });
}

async function stop(reason) {
    if (!tx) return;
    const { id, timer } = tx;
    clearInterval(timer);
    tx = null;
    await client.call('StopTransaction', { transactionId: id, meterStop: meterWh, timestamp: now(), reason });
    await status(idle());
    say('stopped', { transactionId: id, meterStop: meterWh });
}

client.handle('RemoteStartTransaction', ({ params }) => {
    if (tx || inoperative) return { status: 'Rejected' };
    setImmediate(() => start(params.idTag).catch((e) => say('error', { message: e.message })));
    return { status: 'Accepted' };
});
client.handle('RemoteStopTransaction', ({ params }) => {
    if (!tx || tx.id !== params.transactionId) return { status: 'Rejected' };
    setImmediate(() => stop('Remote').catch((e) => say('error', { message: e.message })));
    return { status: 'Accepted' };
});
client.handle('ChangeAvailability', ({ params }) => {
    inoperative = params.type === 'Inoperative';
    // During a transaction the change waits for its end (OCPP 1.6: Scheduled).
    if (tx) return { status: inoperative ? 'Scheduled' : 'Accepted' };
    setImmediate(() => status(idle()).catch((e) => say('error', { message: e.message })));
    return { status: 'Accepted' };
});

client.on('open', async () => {
    say('open');
    try {
        // Pending or Rejected: nothing but BootNotification again, after the
        // interval it was given (OCPP 1.6, 4.2).
        let boot;
        for (;;) {
            boot = await client.call('BootNotification', { chargePointVendor: 'evnet', chargePointModel: 'sim' });
            say('boot', { status: boot.status, interval: boot.interval });
            if (boot.status === 'Accepted' || client.state !== RPCClient.OPEN) break;
            await new Promise((resolve) => setTimeout(resolve, Math.max(1, boot.interval) * 1000));
        }
        if (boot.status !== 'Accepted') return;
        clearInterval(heartbeat);
        heartbeat = setInterval(() => client.call('Heartbeat', {}).catch(() => {}), Math.max(1, boot.interval) * 1000);
        await status(tx ? 'Charging' : idle());
    } catch (e) {
        say('error', { message: e.message });
    }
});
client.on('close', ({ code, reason }) => say('close', { code, reason: String(reason || '') }));
client.on('badMessage', ({ error }) => say('error', { message: error.message }));

process.on('SIGTERM', () => client.close({ force: true }).finally(() => process.exit(0)));
process.on('SIGINT', () => client.close({ force: true }).finally(() => process.exit(0)));

client.connect().catch((e) => say('error', { message: e.message }));
