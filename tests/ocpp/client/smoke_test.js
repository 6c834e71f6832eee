#!/usr/bin/env node
'use strict';
// Proves the charge point harness works without evnet's gateway: an ocpp-rpc
// RPCServer (strict mode, subprotocol ocpp1.6, Basic auth) plays the back end,
// charge_point.js runs as a child process driven over stdin/stdout.
// Exit 0 on success; 1 with a message on failure. Every wait is bounded.

const path = require('path');
const { spawn } = require('child_process');
const readline = require('readline');
const { RPCServer } = require('ocpp-rpc');

const CP_ID = 'SMOKE-CP-1';
const PASSWORD = 'correct horse battery staple';
const WAIT_MS = 10000;          // bound on any single expected event
const TOTAL_MS = 60000;         // bound on the whole test

let server, httpServer, child;
let checks = 0;

function fail(msg) {
    process.stderr.write(`smoke_test: FAIL: ${msg}\n`);
    try { child?.kill('SIGKILL'); } catch (e) { /* already gone */ }
    process.exit(1);
}
function check(cond, msg) {
    if (!cond) fail(msg);
    checks++;
}
const watchdog = setTimeout(() => fail(`the whole test took longer than ${TOTAL_MS} ms`), TOTAL_MS);

// ---------------------------------------------------------------- the back end
const received = [];            // {action, params} of every CALL the server handled
let serverClient = null;
const serverClientWaiters = [];

async function startServer() {
    server = new RPCServer({ protocols: ['ocpp1.6'], strictMode: true, pingIntervalMs: 0 });
    server.auth((accept, reject, handshake) => {
        const pw = handshake.password ? handshake.password.toString('utf8') : null;
        if (handshake.identity === CP_ID && pw === PASSWORD) accept({ id: handshake.identity });
        else reject(401, 'Unauthorized');
    });
    server.on('client', (c) => {
        serverClient = c;
        const record = (action, reply) => ({ params }) => { received.push({ action, params }); return reply(params); };
        c.handle('BootNotification', record('BootNotification', () => ({
            status: 'Accepted', currentTime: new Date().toISOString(), interval: 300 })));
        c.handle('Heartbeat', record('Heartbeat', () => ({ currentTime: new Date().toISOString() })));
        c.handle('StatusNotification', record('StatusNotification', () => ({})));
        c.handle('StartTransaction', record('StartTransaction', () => ({
            transactionId: 4242, idTagInfo: { status: 'Accepted' } })));
        c.handle('MeterValues', record('MeterValues', () => ({})));
        c.handle('StopTransaction', record('StopTransaction', () => ({ idTagInfo: { status: 'Accepted' } })));
        while (serverClientWaiters.length) serverClientWaiters.shift()(c);
    });
    httpServer = await server.listen(0, '127.0.0.1');
    return httpServer.address().port;
}

// ---------------------------------------------------------------- the charge point
const events = [];              // events not yet consumed by expect()
let waiter = null;
let childExit = null;

function startChild(port) {
    const script = path.join(__dirname, 'charge_point.js');
    child = spawn(process.execPath, [script, '--url', `ws://127.0.0.1:${port}/ocpp`,
        '--id', CP_ID, '--password', PASSWORD, '--strict', '--call-timeout', '5000'],
        { stdio: ['pipe', 'pipe', 'inherit'] });
    child.on('exit', (code, signal) => {
        childExit = { code, signal };
        if (waiter) waiter.check();
    });
    readline.createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', (line) => {
        let ev;
        try { ev = JSON.parse(line); } catch (e) { fail(`charge_point.js printed a non-JSON line: ${line}`); }
        events.push(ev);
        if (waiter) waiter.check();
    });
}

function send(cmd) {
    child.stdin.write((typeof cmd === 'string' ? cmd : JSON.stringify(cmd)) + '\n');
}

// Waits (bounded) for the first event that matches pred; fails on a timeout.
function expect(pred, what, ms = WAIT_MS) {
    return new Promise((resolve) => {
        const timer = setTimeout(() => {
            waiter = null;
            fail(`timed out after ${ms} ms waiting for ${what}; unconsumed events: ${JSON.stringify(events)}`);
        }, ms);
        waiter = {
            check() {
                const i = events.findIndex(pred);
                if (i >= 0) {
                    clearTimeout(timer);
                    waiter = null;
                    resolve(events.splice(i, 1)[0]);
                } else if (childExit) {
                    clearTimeout(timer);
                    fail(`charge_point.js exited (${JSON.stringify(childExit)}) while waiting for ${what}`);
                }
            },
        };
        waiter.check();
    });
}

// Sends a tagged command and waits for the event carrying its tag.
let tagSeq = 0;
async function run(cmd, what) {
    const tag = `t${++tagSeq}`;
    send({ ...cmd, tag });
    return expect((e) => e.tag === tag, what ?? `the reply to ${JSON.stringify(cmd)}`);
}
async function callOk(action, payload) {
    const ev = await run({ cmd: 'call', action, payload }, `the result of ${action}`);
    check(ev.event === 'result' && ev.action === action,
          `${action}: expected a result, got ${JSON.stringify(ev)}`);
    return ev.payload;
}

function waitServerClient() {
    if (serverClient) return Promise.resolve(serverClient);
    return new Promise((resolve) => serverClientWaiters.push(resolve));
}

// ---------------------------------------------------------------- the scenario
async function main() {
    const port = await startServer();
    startChild(port);
    await expect((e) => e.event === 'ready', 'the ready event');

    // A bad command line is reported, not fatal.
    send('this is not json');
    await expect((e) => e.event === 'bad_command', 'bad_command for a non-JSON line');
    send({ cmd: 'fly' });
    await expect((e) => e.event === 'bad_command', 'bad_command for an unknown cmd');

    // A wrong password is refused at the upgrade with 401.
    let ev = await run({ cmd: 'connect', password: 'wrong' }, 'the refused connect');
    check(ev.event === 'refused' && ev.status === 401, `wrong password: expected refused 401, got ${JSON.stringify(ev)}`);

    // The right password opens with subprotocol ocpp1.6.
    ev = await run({ cmd: 'connect', password: PASSWORD }, 'the connect');
    check(ev.event === 'open' && ev.protocol === 'ocpp1.6', `connect: expected open ocpp1.6, got ${JSON.stringify(ev)}`);
    const sc = await waitServerClient();
    check(sc.identity === CP_ID, `server saw identity ${sc.identity}`);

    const boot = await callOk('BootNotification', { chargePointVendor: 'evnet-test', chargePointModel: 'smoke' });
    check(boot.status === 'Accepted' && boot.interval === 300, `BootNotification result ${JSON.stringify(boot)}`);
    const hb = await callOk('Heartbeat', {});
    check(typeof hb.currentTime === 'string', `Heartbeat result ${JSON.stringify(hb)}`);
    await callOk('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' });
    const start = await callOk('StartTransaction', {
        connectorId: 1, idTag: 'DRIVER-1', meterStart: 1000, timestamp: new Date().toISOString() });
    check(start.transactionId === 4242 && start.idTagInfo.status === 'Accepted', `StartTransaction result ${JSON.stringify(start)}`);
    await callOk('MeterValues', {
        connectorId: 1, transactionId: 4242,
        meterValue: [{ timestamp: new Date().toISOString(), sampledValue: [
            { value: '3500', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }] });
    const stop = await callOk('StopTransaction', {
        transactionId: 4242, meterStop: 5500, timestamp: new Date().toISOString(), idTag: 'DRIVER-1' });
    check(stop.idTagInfo?.status === 'Accepted', `StopTransaction result ${JSON.stringify(stop)}`);

    const mv = received.find((r) => r.action === 'MeterValues');
    check(mv && mv.params.meterValue[0].sampledValue[0].measurand === 'Energy.Active.Import.Register',
          'the server did not receive the Energy.Active.Import.Register sample');
    check(received.map((r) => r.action).join(',') ===
          'BootNotification,Heartbeat,StatusNotification,StartTransaction,MeterValues,StopTransaction',
          `server saw calls in the wrong order: ${received.map((r) => r.action)}`);

    // Strict mode refuses to send a payload that breaks the schema.
    ev = await run({ cmd: 'call', action: 'StatusNotification', payload: { connectorId: 1 } }, 'the invalid call');
    check(ev.event === 'call_error' && ev.origin === 'local_validation',
          `an invalid StatusNotification should fail local validation, got ${JSON.stringify(ev)}`);

    // The server calls the charge point: default answers are Accepted.
    const rs = await sc.call('RemoteStartTransaction', { idTag: 'DRIVER-1', connectorId: 1 });
    check(rs.status === 'Accepted', `RemoteStartTransaction answered ${JSON.stringify(rs)}`);
    ev = await expect((e) => e.event === 'call' && e.action === 'RemoteStartTransaction', 'the call event');
    check(ev.payload.idTag === 'DRIVER-1', `call event payload ${JSON.stringify(ev.payload)}`);
    const ca = await sc.call('ChangeAvailability', { connectorId: 0, type: 'Inoperative' });
    check(ca.status === 'Accepted', `ChangeAvailability answered ${JSON.stringify(ca)}`);
    await expect((e) => e.event === 'call' && e.action === 'ChangeAvailability', 'the call event');

    // Answers are scriptable.
    ev = await run({ cmd: 'answer', action: 'RemoteStartTransaction', payload: { status: 'Rejected' } });
    check(ev.event === 'answer_set', `answer: ${JSON.stringify(ev)}`);
    const rs2 = await sc.call('RemoteStartTransaction', { idTag: 'DRIVER-2' });
    check(rs2.status === 'Rejected', `scripted answer: got ${JSON.stringify(rs2)}`);
    await expect((e) => e.event === 'call' && e.action === 'RemoteStartTransaction', 'the call event');
    // A CALL with no configured answer gets NotImplemented.
    let notImpl = null;
    try { await sc.call('Reset', { type: 'Soft' }); } catch (err) { notImpl = err; }
    check(notImpl?.rpcErrorCode === 'NotImplemented', `Reset without an answer: ${notImpl}`);
    await expect((e) => e.event === 'call' && e.action === 'Reset', 'the call event');

    // A malformed raw frame gets a CALLERROR, reported as raw_reply.
    ev = await run({ cmd: 'raw', text: '[2, "broken' }, 'raw_sent');
    check(ev.event === 'raw_sent', `raw: ${JSON.stringify(ev)}`);
    ev = await expect((e) => e.event === 'raw_reply' && e.tag === ev.tag, 'the raw reply');
    const reply = JSON.parse(ev.text);
    check(Array.isArray(reply) && reply[0] === 4, `malformed frame: expected a CALLERROR, got ${ev.text}`);
    // A well-formed CALL of an unknown action gets NotImplemented.
    ev = await run({ cmd: 'raw', text: '[2,"raw-2","NoSuchAction",{}]' }, 'raw_sent');
    ev = await expect((e) => e.event === 'raw_reply' && e.tag === ev.tag, 'the raw reply');
    const reply2 = JSON.parse(ev.text);
    check(reply2[0] === 4 && reply2[1] === 'raw-2' && reply2[2] === 'NotImplemented',
          `unknown action: expected CALLERROR NotImplemented, got ${ev.text}`);

    // A bare probe: the wrong password is refused, the right one opens.
    ev = await run({ cmd: 'probe', password: 'nope' });
    check(ev.event === 'probe_result' && ev.outcome === 'refused' && ev.status === 401, `probe: ${JSON.stringify(ev)}`);

    // Close, then reconnect; the connection still works.
    ev = await run({ cmd: 'close' }, 'the close');
    check(ev.event === 'close' && ev.code === 1000, `close: ${JSON.stringify(ev)}`);
    ev = await run({ cmd: 'call', action: 'Heartbeat', payload: {} });
    check(ev.event === 'call_error' && ev.code === 'NotConnected', `call while closed: ${JSON.stringify(ev)}`);
    // Queued while offline, sent after the reconnect (the charge point's offline queue).
    const qtag = 'queued-stop';
    send({ cmd: 'call', action: 'StopTransaction', queue: true, tag: qtag,
           payload: { transactionId: 4242, meterStop: 5500, timestamp: new Date().toISOString() } });
    await expect((e) => e.event === 'queued' && e.tag === qtag, 'the queued event');
    serverClient = null;
    ev = await run({ cmd: 'reconnect' }, 'the reconnect');
    check(ev.event === 'open', `reconnect: ${JSON.stringify(ev)}`);
    ev = await expect((e) => e.event === 'result' && e.tag === qtag, 'the replayed StopTransaction');
    check(received.filter((r) => r.action === 'StopTransaction').length === 2, 'StopTransaction was not replayed');
    await callOk('Heartbeat', {});

    // The server closing the connection is reported.
    const sc2 = await waitServerClient();
    await sc2.close({ code: 1001, reason: 'server going away' });
    ev = await expect((e) => e.event === 'close', 'the close event after the server closed');
    check(ev.code === 1001, `server close: ${JSON.stringify(ev)}`);

    send({ cmd: 'quit' });
    await expect((e) => e.event === 'bye', 'bye');
    await new Promise((resolve) => {
        if (childExit) return resolve();
        const t = setTimeout(() => fail('charge_point.js did not exit after quit'), WAIT_MS);
        child.on('exit', () => { clearTimeout(t); resolve(); });
    });
    check(childExit.code === 0, `charge_point.js exit ${JSON.stringify(childExit)}`);

    await server.close({ force: true });
    clearTimeout(watchdog);
    process.stdout.write(`smoke_test: ${checks} checks passed\n1 passed, 0 failed\n`);
    process.exit(0);
}

main().catch((err) => fail(err.stack || String(err)));
