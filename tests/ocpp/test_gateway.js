#!/usr/bin/env node
'use strict';
// Integration test of EV_OCPP, the OCPP 1.6-J gateway (issue 10), end to end:
// EV_Central, EV_OCPP, EV_Driver and a real OCPP 1.6-J client
// (tests/ocpp/client/charge_point.js on the npm package ocpp-rpc, strict mode).
//
//   node tests/ocpp/test_gateway.js [BUILD_ROOT [SOURCE_ROOT]]
//
// Everything runs in a fresh temporary directory, on free ports it picks
// itself. Every wait is on an event and bounded (WAIT_MS); every child is killed
// on exit. One line per check; exit 0 only if every check passed, 1 otherwise.
// The temporary directory (with every child's output) is kept on failure.

const fs = require('fs');
const os = require('os');
const path = require('path');
const { freePorts } = require('./ports');
const readline = require('readline');
const { spawn, execFileSync } = require('child_process');

const WAIT_MS = 20000;        // bound on any single awaited event
const TOTAL_MS = 280000;      // bound on the whole test (meson's timeout is 300 s)

const sourceRoot = path.resolve(process.argv[3] || path.join(__dirname, '..', '..'));
const buildRoot = path.resolve(process.argv[2] || path.join(sourceRoot, 'build'));
const BIN = {
    central: path.join(buildRoot, 'src', 'central', 'EV_Central'),
    gateway: path.join(buildRoot, 'src', 'gateway', 'EV_OCPP'),
    driver: path.join(buildRoot, 'src', 'driver', 'EV_Driver'),
    keys: path.join(buildRoot, 'tools', 'evnet_keys'),
};
const CLIENT_DIR = path.join(sourceRoot, 'tests', 'ocpp', 'client');
const CP_JS = path.join(CLIENT_DIR, 'charge_point.js');

const CP_ID = 'OC1';
const CP_PASSWORD = 'oc1-secret-password';
const NEW_PASSWORD = 'oc1-changed-password-42';  // set in check 12
const PRICE = 0.30;
const HEARTBEAT_S = 30;

// ---------------------------------------------------------------- bookkeeping
const children = [];
let tmp = null;
let passed = 0;
let failed = 0;
let finishing = false;

function log(line) { process.stdout.write(line + '\n'); }

function killAll(signal) {
    for (const c of children) {
        if (c.exitCode === null && c.signalCode === null) {
            try { c.kill(signal); } catch (e) { /* already gone */ }
        }
    }
}
process.on('exit', () => killAll('SIGKILL'));
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
        log(`# interrupted by ${sig}${tmp ? `; kept ${tmp}` : ''}`);
        killAll('SIGKILL');
        process.exit(1);
    });
}

async function finish(code) {
    if (finishing) return;
    finishing = true;
    killAll('SIGTERM');
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline && children.some((c) => c.exitCode === null && c.signalCode === null)) {
        await new Promise((r) => setTimeout(r, 50));
    }
    killAll('SIGKILL');
    if (tmp) {
        if (code === 0) fs.rmSync(tmp, { recursive: true, force: true });
        else log(`# kept ${tmp} (every child's stdout/stderr is there)`);
    }
    process.exit(code);
}

const watchdog = setTimeout(() => {
    log(`FAIL: the whole test took longer than ${TOTAL_MS / 1000} s`);
    finish(1);
}, TOTAL_MS);
watchdog.unref();

// ---------------------------------------------------------------- child processes
// A child whose stdout is JSON lines. Every event is kept, in order; waits scan
// the events from a position (a mark) on, so nothing that came early is lost.
class Proc {
    constructor(name, cmd, args, opts = {}) {
        this.name = name;
        this.events = [];
        this.waiters = [];
        this.exited = null;
        const out = fs.createWriteStream(path.join(tmp, `${name}.out`));
        const err = fs.createWriteStream(path.join(tmp, `${name}.err`));
        this.child = spawn(cmd, args, { cwd: tmp, stdio: ['pipe', 'pipe', 'pipe'], ...opts });
        children.push(this.child);
        this.child.stdin.on('error', () => {});
        this.child.stderr.pipe(err);
        readline.createInterface({ input: this.child.stdout, crlfDelay: Infinity }).on('line', (line) => {
            out.write(line + '\n');
            let ev;
            try { ev = JSON.parse(line); } catch (e) { return; }
            if (!ev || typeof ev !== 'object') return;
            this.events.push(ev);
            this.poke();
        });
        this.child.on('exit', (code, signal) => {
            this.exited = { code, signal };
            this.poke();
        });
        this.child.on('error', (e) => {
            this.exited = { code: null, signal: null, error: e.message };
            this.poke();
        });
    }
    poke() { for (const w of [...this.waiters]) w(); }
    mark() { return this.events.length; }
    send(obj) { this.child.stdin.write((typeof obj === 'string' ? obj : JSON.stringify(obj)) + '\n'); }
    find(pred, from = 0) {
        for (let i = from; i < this.events.length; i++) if (pred(this.events[i])) return i;
        return -1;
    }
    all(pred, from = 0) { return this.events.slice(from).filter(pred); }
    // Resolves with the first event from `from` on that matches; rejects after
    // `ms` (or when the child exits) with a message naming what was awaited.
    waitFor(pred, what, from = 0, ms = WAIT_MS) {
        return new Promise((resolve, reject) => {
            let timer = null;
            const done = () => {
                clearTimeout(timer);
                this.waiters = this.waiters.filter((w) => w !== check);
            };
            const check = () => {
                const i = this.find(pred, from);
                if (i >= 0) {
                    done();
                    resolve(this.events[i]);
                } else if (this.exited) {
                    done();
                    reject(new Error(`${this.name} exited (${JSON.stringify(this.exited)}) while awaiting ${what}`));
                }
            };
            timer = setTimeout(() => {
                done();
                const last = this.events.slice(-3).map((e) => JSON.stringify(e).slice(0, 240)).join(' | ');
                reject(new Error(`timed out after ${ms / 1000} s awaiting ${what} from ${this.name}; its last events: ${last}`));
            }, ms);
            this.waiters.push(check);
            check();
        });
    }
}

// ---------------------------------------------------------------- helpers
function assert(cond, msg) { if (!cond) throw new Error(msg); }
function assertEq(actual, expected, what) {
    const a = JSON.stringify(actual);
    const e = JSON.stringify(expected);
    if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}
function near(actual, expected, what) {
    if (typeof actual !== 'number' || Math.abs(actual - expected) > 1e-9) {
        throw new Error(`${what}: expected ${expected}, got ${JSON.stringify(actual)}`);
    }
}

async function check(n, name, fn) {
    try {
        await fn();
        passed++;
        log(`ok ${n} - ${name}`);
    } catch (e) {
        failed++;
        log(`FAIL ${n} - ${name}: ${e.message}`);
    }
}

const freePort = () => freePorts(1);
// Central binds <port> and <port>+1.
const freePortPair = () => freePorts(2);

const isTicketFor = (chargeId) => (e) => e.event === 'ticket' && e.charge_id === chargeId;
const iso = () => new Date().toISOString();

// ---------------------------------------------------------------- the charge point
class ChargePoint extends Proc {
    constructor(name, url, extra = []) {
        super(name, process.execPath, [CP_JS, '--url', url, '--id', CP_ID, '--strict', ...extra]);
        this.tagNo = 0;
    }
    tag() { return `${this.name}-${++this.tagNo}`; }
    // Sends a command with a fresh tag; resolves with the first event with that
    // tag that `pred` accepts.
    async cmd(obj, pred, what) {
        const tag = this.tag();
        const from = this.mark();
        this.send({ ...obj, tag });
        return this.waitFor((e) => e.tag === tag && pred(e), what, from);
    }
    connect(extra = {}) {
        return this.cmd({ cmd: 'connect', ...extra }, (e) => ['open', 'refused', 'error'].includes(e.event),
            `the answer to connect ${JSON.stringify(extra)}`);
    }
    // An OCPP CALL; resolves with the result payload (throws on a CALLERROR).
    async call(action, payload, extra = {}) {
        const ev = await this.cmd({ cmd: 'call', action, payload, ...extra },
            (e) => e.event === 'result' || e.event === 'call_error', `the answer to ${action}`);
        if (ev.event !== 'result') throw new Error(`${action} ${JSON.stringify(payload)} got ${JSON.stringify(ev)}`);
        return ev.payload;
    }
    waitCall(action, from, extraPred = () => true) {
        return this.waitFor((e) => e.event === 'call' && e.action === action && extraPred(e),
            `a ${action} CALL from the gateway`, from);
    }
    status(status, errorCode = 'NoError') {
        return this.call('StatusNotification', { connectorId: 1, errorCode, status, timestamp: iso() });
    }
}

// ---------------------------------------------------------------- the test
async function main() {
    for (const [what, file] of Object.entries(BIN)) {
        if (!fs.existsSync(file)) {
            log(`FAIL: ${what} binary ${file} is missing (build first)`);
            return 1;
        }
    }
    if (!fs.existsSync(path.join(CLIENT_DIR, 'node_modules', 'ocpp-rpc'))) {
        log(`FAIL: ${path.join(CLIENT_DIR, 'node_modules')} has no ocpp-rpc: run ` +
            `'npm ci --prefix tests/ocpp/client' (tools/evnet test does it)`);
        return 1;
    }
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'evnet-ocpp-'));
    log(`# temp dir ${tmp}`);
    fs.writeFileSync(path.join(tmp, 'db.json'), JSON.stringify({
        cps: [{ id: CP_ID, location: 'Parking 1', price: PRICE, ocpp_password: CP_PASSWORD }],
        drivers: [{ id: 'D1', name: 'Ana' }],
    }));
    execFileSync(BIN.keys, ['init', '--config', 'db.json', '--db', 'central.db', '--keys', 'keys'],
        { cwd: tmp, stdio: ['ignore', 'ignore', 'pipe'] });

    // ---- Central, on a free pair of ports (retried if another process takes them first)
    let central;
    let centralPort;
    for (let attempt = 1; ; attempt++) {
        centralPort = await freePortPair();
        central = new Proc(`central${attempt}`, BIN.central, [String(centralPort), '--config', 'db.json',
            '--db', 'central.db', '--keys', 'keys', '--headless']);
        try {
            await central.waitFor((e) => e.event === 'started', 'Central\'s "started"');
            break;
        } catch (e) {
            central.child.kill('SIGKILL');
            if (attempt >= 3) throw e;
        }
    }
    // ---- the gateway (ws://)
    let gateway;
    for (let attempt = 1; ; attempt++) {
        const wsPort = await freePort();
        gateway = new Proc(`gateway${attempt}`, BIN.gateway, ['127.0.0.1', String(centralPort),
            '--listen', String(wsPort), '--bind', '127.0.0.1', '--db', 'gw.db', '--keys', 'keys',
            '--heartbeat', String(HEARTBEAT_S), '--headless']);
        try {
            const st = await gateway.waitFor((e) => e.event === 'started' && e.listen !== undefined,
                'the gateway\'s "started" with its port');
            assertEq(st.listen, wsPort, 'the gateway\'s listening port');
            gateway.port = wsPort;
            break;
        } catch (e) {
            gateway.child.kill('SIGKILL');
            if (attempt >= 3) throw e;
        }
    }
    const wsUrl = `ws://127.0.0.1:${gateway.port}/ocpp`;
    // ---- the driver
    const driver = new Proc('driver', BIN.driver, ['127.0.0.1', String(centralPort), 'D1', '--keys', 'keys', '--headless']);
    await driver.waitFor((e) => e.event === 'central' && e.status === 'connected', 'the driver connected to Central');
    await driver.waitFor((e) => e.event === 'stream', 'the driver subscribed to Central\'s stream');

    const centralState = (state) => (e) => e.event === 'cp_state' && e.cp === CP_ID && e.state === state;

    // ---- 2 first: refusals, while nothing else is connected as OC1
    await check(2, 'a wrong Basic password and an unknown charge point id are refused with HTTP 401, and audited', async () => {
        const bad = new ChargePoint('cp_bad', wsUrl, ['--password', 'not-the-password']);
        await bad.waitFor((e) => e.event === 'ready', 'the charge point harness ready');
        const gwFrom = gateway.mark();
        let r = await bad.connect();
        assertEq(r.event, 'refused', 'the event for a wrong password');
        assertEq(r.status, 401, 'the HTTP status for a wrong password');
        const gr = await gateway.waitFor((e) => e.event === 'refused' && e.cp === CP_ID,
            'the gateway\'s "refused" for OC1', gwFrom);
        assertEq(gr.status, 401, 'the gateway\'s refused status');
        const audit = execFileSync(BIN.central, ['--audit', '--db', 'central.db'], { cwd: tmp, encoding: 'utf8' })
            .split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
        const hit = audit.filter((a) => a.outcome === 'refused: wrong OCPP password' &&
            JSON.stringify(a.params || {}).includes(`cp:${CP_ID}`));
        assert(hit.length >= 1, `Central's audit has no entry with outcome "refused: wrong OCPP password" for cp:${CP_ID}`);

        // An id the registry does not know (the gateway holds no key for it either).
        const gwFrom2 = gateway.mark();
        r = await bad.connect({ id: 'NOSUCHCP', password: 'whatever-password' });
        assertEq(r.event, 'refused', 'the event for an unknown charge point id');
        assertEq(r.status, 401, 'the HTTP status for an unknown charge point id');
        const gr2 = await gateway.waitFor((e) => e.event === 'refused' && e.cp === 'NOSUCHCP',
            'the gateway\'s "refused" for NOSUCHCP', gwFrom2);
        assertEq(gr2.status, 401, 'the gateway\'s refused status for NOSUCHCP');
        // Refusals the gateway decides alone never reach Central: the gateway audits
        // every refused upgrade in its own store (EV_OCPP --audit).
        const gwFrom3 = gateway.mark();
        const pr = await bad.cmd({ cmd: 'probe', path: '/not-ocpp/OC1' }, (e) => e.event === 'probe_result',
            'a probe on a wrong path');
        assertEq(pr.status, 404, 'the HTTP status for a wrong path');
        await gateway.waitFor((e) => e.event === 'refused' && e.status === 404 && e.path !== undefined,
            'the gateway\'s "refused" for the wrong path', gwFrom3);
        await gateway.waitFor((e) => e.event === 'refused' && e.status === 401 && e.path === '/ocpp/NOSUCHCP',
            'the server\'s "refused" for NOSUCHCP', gwFrom2);
        const gwAudit = execFileSync(BIN.gateway, ['--audit', '--db', 'gw.db'], { cwd: tmp, encoding: 'utf8' })
            .split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
        const rowFor = (pred, what) => {
            const row = gwAudit.find(pred);
            assert(row, `the gateway's audit has no row for ${what}: ${JSON.stringify(gwAudit)}`);
            return row;
        };
        rowFor((a) => a.cp === 'NOSUCHCP' && a.status === 401 && /no key for CP NOSUCHCP/.test(a.reason), 'NOSUCHCP (no key)');
        rowFor((a) => a.cp === CP_ID && a.status === 401 && /refused by CENTRAL/.test(a.reason), 'OC1\'s wrong password');
        rowFor((a) => a.status === 404 && a.path === '/not-ocpp/OC1', 'the wrong path');
        assert(!JSON.stringify(gwAudit).includes('not-the-password'), 'a password in the gateway\'s audit');
        bad.send({ cmd: 'quit' });
        await bad.waitFor((e) => e.event === 'bye', 'the refused charge point quits');
    });

    // ---- 1: boot
    const cp = new ChargePoint('cp', wsUrl, ['--password', CP_PASSWORD]);
    await cp.waitFor((e) => e.event === 'ready', 'the charge point harness ready');
    await check(1, 'BootNotification with the right password: Accepted, interval 30; OC1 ACTIVE at Central', async () => {
        const cFrom = central.mark();
        const r = await cp.connect();
        assertEq(r.event, 'open', 'the connect outcome');
        assertEq(r.protocol, 'ocpp1.6', 'the subprotocol');
        const boot = await cp.call('BootNotification', { chargePointVendor: 'evnet-test', chargePointModel: 'node' });
        assertEq(boot.status, 'Accepted', 'BootNotification status');
        assertEq(boot.interval, HEARTBEAT_S, 'BootNotification interval');
        assert(!Number.isNaN(Date.parse(boot.currentTime)), `BootNotification currentTime ${boot.currentTime}`);
        await cp.status('Available');
        await central.waitFor(centralState('ACTIVE'), 'Central\'s cp_state OC1 ACTIVE', cFrom);
        await central.waitFor((e) => e.event === 'engine' && e.cp === CP_ID && e.status === 'connected',
            'Central\'s "engine connected" for OC1', cFrom);
    });

    // One charge started remotely from the driver: returns what was seen.
    async function remoteStart(meterStart) {
        const cpFrom = cp.mark();
        const dFrom = driver.mark();
        driver.send(`charge ${CP_ID}`);
        const auth = await driver.waitFor((e) => e.event === 'authorized' || e.event === 'denied',
            'the driver\'s "authorized"', dFrom);
        assertEq(auth.event, 'authorized', `the driver's answer (${JSON.stringify(auth)})`);
        const rs = await cp.waitCall('RemoteStartTransaction', cpFrom);
        assertEq(rs.payload.idTag, 'D1', 'RemoteStartTransaction idTag');
        await cp.status('Preparing');
        const st = await cp.call('StartTransaction', { connectorId: rs.payload.connectorId ?? 1, idTag: 'D1',
            meterStart, timestamp: iso() });
        assertEq(st.idTagInfo.status, 'Accepted', 'StartTransaction idTagInfo.status');
        assert(Number.isInteger(st.transactionId), `StartTransaction transactionId ${st.transactionId}`);
        await cp.status('Charging');
        return { chargeId: auth.charge_id, tx: st.transactionId, rs };
    }

    // ---- 3: a remote-started charge to its ticket
    let tx3;
    await check(3, 'driver "charge OC1" -> RemoteStart(D1) -> Start(1000) -> Meter(2500 Wh) -> progress 1.5 kWh 0.45 -> Stop(4500) -> ticket 3.5 kWh 1.05', async () => {
        const cFrom = central.mark();
        const dFrom = driver.mark();
        const { chargeId, tx, rs } = await remoteStart(1000);
        tx3 = tx;
        assertEq(rs.payload.connectorId, 1, 'RemoteStartTransaction connectorId');
        await cp.call('MeterValues', { connectorId: 1, transactionId: tx, meterValue: [{ timestamp: iso(),
            sampledValue: [{ value: '2500', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }] });
        const prog = await driver.waitFor((e) => e.event === 'progress' && e.charge_id === chargeId && e.kwh > 0,
            'the driver\'s progress with kWh > 0', dFrom);
        near(prog.kwh, 1.5, 'driver progress kwh');
        near(prog.amount, 0.45, 'driver progress amount');
        const stop = await cp.call('StopTransaction', { transactionId: tx, meterStop: 4500, timestamp: iso(), reason: 'EVDisconnected' });
        if (stop.idTagInfo) assertEq(stop.idTagInfo.status, 'Accepted', 'StopTransaction idTagInfo.status');
        await cp.status('Finishing');
        await cp.status('Available');
        const t = await driver.waitFor(isTicketFor(chargeId), `the driver's ticket for ${chargeId}`, dFrom);
        near(t.kwh, 3.5, 'driver ticket kwh');
        near(t.amount, 1.05, 'driver ticket amount');
        const ct = await central.waitFor(isTicketFor(chargeId), `Central's ticket line for ${chargeId}`, cFrom);
        assertEq(ct.cp, CP_ID, 'Central ticket cp');
        assertEq(ct.driver, 'D1', 'Central ticket driver');
        near(ct.kwh, 3.5, 'Central ticket kwh');
        near(ct.amount, 1.05, 'Central ticket amount');
        near(ct.price, PRICE, 'Central ticket price');
        await central.waitFor(centralState('ACTIVE'), 'Central\'s cp_state OC1 ACTIVE after the ticket', cFrom);
    });

    // ---- 10: a charge started at the charge point with an idTag
    await check(10, 'a charge started at the charge point: Authorize(D1) Accepted once Central confirmed, Start(0) -> Stop(1500) -> ticket 1.5 kWh 0.45; an unregistered idTag is Invalid', async () => {
        const cFrom = central.mark();
        const dFrom = driver.mark();
        const auth = await cp.call('Authorize', { idTag: 'D1' });
        assertEq(auth.idTagInfo.status, 'Accepted', 'Authorize D1');
        const start = await cp.call('StartTransaction', { connectorId: 1, idTag: 'D1', meterStart: 0, timestamp: iso() });
        assertEq(start.idTagInfo.status, 'Accepted', 'StartTransaction D1');
        await cp.status('Charging');
        const stop = await cp.call('StopTransaction', { transactionId: start.transactionId, meterStop: 1500, timestamp: iso() });
        if (stop.idTagInfo) assertEq(stop.idTagInfo.status, 'Accepted', 'StopTransaction idTagInfo.status');
        await cp.status('Available');
        const t = await driver.waitFor((e) => e.event === 'ticket' && e.cp === CP_ID && Math.abs(e.kwh - 1.5) < 1e-9,
            'the driver\'s ticket for the charge started at the charge point', dFrom);
        near(t.amount, 0.45, 'driver ticket amount');
        const ct = await central.waitFor(isTicketFor(t.charge_id), `Central's ticket line for ${t.charge_id}`, cFrom);
        assertEq(ct.driver, 'D1', 'Central ticket driver');
        const bad = await cp.call('Authorize', { idTag: 'NOBODY' });
        assertEq(bad.idTagInfo.status, 'Invalid', 'Authorize of an unregistered idTag');
        await central.waitFor(centralState('ACTIVE'), 'Central\'s cp_state OC1 ACTIVE after the ticket', cFrom);
    });

    // ---- 4: operator STOP while charging, then RESUME
    await check(4, 'Central "stop OC1" while charging -> RemoteStopTransaction then ChangeAvailability Inoperative; StopTransaction -> ticket; "resume OC1" -> Operative', async () => {
        const cFrom = central.mark();
        const dFrom = driver.mark();
        const { chargeId, tx } = await remoteStart(5000);
        await cp.call('MeterValues', { connectorId: 1, transactionId: tx, meterValue: [{ timestamp: iso(),
            sampledValue: [{ value: '5.5', measurand: 'Energy.Active.Import.Register', unit: 'kWh' }] }] });
        await driver.waitFor((e) => e.event === 'progress' && e.charge_id === chargeId && e.kwh > 0,
            'the driver\'s progress (0.5 kWh from a kWh sample)', dFrom).then((p) => near(p.kwh, 0.5, 'progress kwh (kWh sample)'));
        const cpFrom = cp.mark();
        central.send(`stop ${CP_ID}`);
        const rstop = await cp.waitCall('RemoteStopTransaction', cpFrom);
        assertEq(rstop.payload.transactionId, tx, 'RemoteStopTransaction transactionId');
        const ca = await cp.waitCall('ChangeAvailability', cpFrom);
        assertEq(ca.payload.type, 'Inoperative', 'ChangeAvailability type after stop');
        const order = cp.all((e) => e.event === 'call', cpFrom).map((e) => e.action);
        assertEq(order.slice(0, 2), ['RemoteStopTransaction', 'ChangeAvailability'], 'the CALLs after stop, in order');
        await cp.call('StopTransaction', { transactionId: tx, meterStop: 6000, timestamp: iso(), reason: 'Remote' });
        await cp.status('Finishing');
        const t = await driver.waitFor(isTicketFor(chargeId), `the driver's ticket for ${chargeId}`, dFrom);
        near(t.kwh, 1.0, 'driver ticket kwh');
        near(t.amount, 0.30, 'driver ticket amount');
        const ct = await central.waitFor(isTicketFor(chargeId), `Central's ticket line for ${chargeId}`, cFrom);
        near(ct.kwh, 1.0, 'Central ticket kwh');
        await cp.status('Unavailable');
        const rFrom = cp.mark();
        const cResume = central.mark();
        central.send(`resume ${CP_ID}`);
        const op = await cp.waitCall('ChangeAvailability', rFrom);
        assertEq(op.payload.type, 'Operative', 'ChangeAvailability type after resume');
        await cp.status('Available');
        await central.waitFor(centralState('ACTIVE'), 'Central\'s cp_state OC1 ACTIVE after resume', cResume);
    });

    // ---- 5: a fault
    await check(5, 'StatusNotification Faulted -> Central BROKEN (fault); Available -> ACTIVE', async () => {
        const cFrom = central.mark();
        await cp.status('Faulted', 'GroundFailure');
        await central.waitFor(centralState('BROKEN'), 'Central\'s cp_state OC1 BROKEN', cFrom);
        await central.waitFor((e) => e.event === 'fault' && e.cp === CP_ID, 'Central\'s fault event for OC1', cFrom);
        const aFrom = central.mark();
        await cp.status('Available');
        await central.waitFor(centralState('ACTIVE'), 'Central\'s cp_state OC1 ACTIVE after Available', aFrom);
    });

    // ---- 11: out of service by the charge point's own say
    await check(11, 'StatusNotification Unavailable (connector 0) -> Central OUT_OF_ORDER, out_of_service; a driver\'s charge denied, no RemoteStart; Available -> ACTIVE', async () => {
        const cFrom = central.mark();
        await cp.call('StatusNotification', { connectorId: 0, errorCode: 'NoError', status: 'Unavailable', timestamp: iso() });
        await central.waitFor(centralState('OUT_OF_ORDER'), 'Central\'s cp_state OC1 OUT_OF_ORDER', cFrom);
        await central.waitFor((e) => e.event === 'out_of_service' && e.cp === CP_ID && e.out_of_service === true,
            'Central\'s out_of_service event for OC1', cFrom);
        const dFrom = driver.mark();
        const cpFrom = cp.mark();
        driver.send(`charge ${CP_ID}`);
        const d = await driver.waitFor((e) => e.event === 'authorized' || e.event === 'denied',
            'the driver\'s answer at an out-of-service CP', dFrom);
        assertEq(d.event, 'denied', `the driver's answer (${JSON.stringify(d)})`);
        const aFrom = central.mark();
        await cp.call('StatusNotification', { connectorId: 0, errorCode: 'NoError', status: 'Available', timestamp: iso() });
        await central.waitFor(centralState('ACTIVE'), 'Central\'s cp_state OC1 ACTIVE after Available', aFrom);
        await central.waitFor((e) => e.event === 'out_of_service' && e.cp === CP_ID && e.out_of_service === false,
            'Central\'s out_of_service=false event for OC1', aFrom);
        const starts = cp.all((e) => e.event === 'call' && e.action === 'RemoteStartTransaction', cpFrom);
        assertEq(starts.length, 0, 'RemoteStartTransaction CALLs while out of service');
    });

    // ---- 6: malformed frames
    await check(6, 'malformed frames: FormationViolation, ProtocolError, NotImplemented; still usable; a stray CALLRESULT or CALLERROR is not answered; MeterValues and StopTransaction for a transaction never given are answered and bill nothing', async () => {
        const rawReply = async (text) => {
            const ev = await cp.cmd({ cmd: 'raw', text }, (e) => e.event === 'raw_reply', `the reply to raw ${text}`);
            let f;
            try { f = JSON.parse(ev.text); } catch (e) { throw new Error(`reply to ${text} is not JSON: ${ev.text}`); }
            assert(Array.isArray(f) && f[0] === 4 && f.length === 5, `reply to ${text} is not a CALLERROR: ${ev.text}`);
            return f;
        };
        let f = await rawReply('not json');
        assertEq(f[2], 'FormationViolation', 'the CALLERROR code for "not json"');
        f = await rawReply('[2,"x"]');
        assertEq(f[2], 'ProtocolError', 'the CALLERROR code for [2,"x"]');
        assertEq(f[1], 'x', 'the CALLERROR id for [2,"x"]');
        f = await rawReply('[2,"u-1","NoSuchAction",{}]');
        assertEq(f[2], 'NotImplemented', 'the CALLERROR code for an unknown action');
        assertEq(f[1], 'u-1', 'the CALLERROR id for an unknown action');
        const hb = await cp.call('Heartbeat', {});
        assert(!Number.isNaN(Date.parse(hb.currentTime)), `Heartbeat currentTime ${hb.currentTime}`);
        // A CALLRESULT for an id the gateway never used: it must not be answered.
        // The frames after it are answered in order, so once the Heartbeat after it
        // is answered, any reply to it would already be here.
        const sFrom = cp.mark();
        const gFrom = gateway.mark();
        await cp.cmd({ cmd: 'raw', text: '[3,"never-used-by-the-gateway",{}]' }, (e) => e.event === 'raw_sent', 'raw_sent');
        await cp.call('Heartbeat', {});
        const replies = cp.all((e) => e.event === 'raw_reply' || e.event === 'bad_frame', sFrom);
        assertEq(replies, [], 'replies to the stray CALLRESULT');
        await gateway.waitFor((e) => e.event === 'ocpp' && e.id === 'never-used-by-the-gateway' && e.unexpected === true,
            'the gateway\'s note of the unexpected CALLRESULT', gFrom);
        // Out of order: a CALLERROR for a CALL never made (not answered either), and
        // messages for a transaction the gateway never gave: answered, billed nothing.
        const oFrom = cp.mark();
        const cOut = central.mark();
        await cp.cmd({ cmd: 'raw', text: '[4,"never-asked-either","GenericError","",{}]' }, (e) => e.event === 'raw_sent', 'raw_sent');
        await cp.call('MeterValues', { connectorId: 1, transactionId: 987654, meterValue: [{ timestamp: iso(),
            sampledValue: [{ value: '100', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }] });
        const stray = await cp.call('StopTransaction', { transactionId: 987654, meterStop: 5000, timestamp: iso() });
        assertEq(stray.idTagInfo && stray.idTagInfo.status, 'Invalid', 'StopTransaction for a transaction never given');
        await cp.call('Heartbeat', {});
        assertEq(cp.all((e) => e.event === 'raw_reply' || e.event === 'bad_frame', oFrom), [], 'replies to the stray CALLERROR');
        assertEq(central.all((e) => e.event === 'ticket' || (e.event === 'charge' && e.cp === CP_ID), cOut), [],
            'tickets or charges at Central for a transaction never given');
        const closes = cp.all((e) => e.event === 'close', sFrom);
        assertEq(closes, [], 'connection closes during the malformed frames');
    });

    // ---- 7: a lost connection mid-charge, queued Meter/Stop, a replayed Stop
    await check(7, 'connection lost mid-charge: queued MeterValues+StopTransaction delivered on reconnect; a replayed StopTransaction is billed once', async () => {
        const cFrom = central.mark();
        const dFrom = driver.mark();
        const { chargeId, tx } = await remoteStart(10000);
        const gFrom = gateway.mark();
        const cl = await cp.cmd({ cmd: 'close', force: true }, (e) => e.event === 'close' || e.event === 'not_connected', 'close');
        assertEq(cl.event, 'close', 'the forced close');
        await gateway.waitFor((e) => e.event === 'disconnected' && e.cp === CP_ID, 'the gateway\'s "disconnected"', gFrom);
        const stopPayload = { transactionId: tx, meterStop: 12000, timestamp: iso(), reason: 'EVDisconnected' };
        const mTag = cp.tag();
        const sTag = cp.tag();
        const qFrom = cp.mark();
        cp.send({ cmd: 'call', action: 'MeterValues', queue: true, tag: mTag, payload: { connectorId: 1, transactionId: tx,
            meterValue: [{ timestamp: iso(), sampledValue: [{ value: '11000', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }] } });
        cp.send({ cmd: 'call', action: 'StopTransaction', queue: true, tag: sTag, payload: stopPayload });
        await cp.waitFor((e) => e.tag === mTag && e.event === 'queued', 'MeterValues queued', qFrom);
        await cp.waitFor((e) => e.tag === sTag && e.event === 'queued', 'StopTransaction queued', qFrom);
        // The charge point comes straight back. If the gateway refuses it, it
        // retries (as a real one would, bounded) so that the rest is still
        // checked; the refusal still fails this check.
        let defect = null;
        const rcFrom = gateway.mark();
        const retryUntil = Date.now() + WAIT_MS;
        for (let attempt = 1; ; attempt++) {
            const r = await cp.cmd({ cmd: 'reconnect' }, (e) => ['open', 'refused', 'error'].includes(e.event), 'reconnect');
            if (r.event === 'open') break;
            if (attempt === 1) {
                const why = gateway.all((e) => e.event === 'refused' && e.cp === CP_ID, rcFrom).map((e) => e.reason);
                defect = `the reconnect right after the lost connection was refused (${JSON.stringify(r)}; ` +
                    `gateway's reason: ${JSON.stringify(why)})`;
            }
            if (Date.now() > retryUntil) throw new Error(`${defect}; and still refused after ${WAIT_MS / 1000} s of retries`);
            await new Promise((res) => setTimeout(res, 500));  // a charge point's retry back-off
        }
        const mr = await cp.waitFor((e) => e.tag === mTag && (e.event === 'result' || e.event === 'call_error'), 'the answer to the queued MeterValues', qFrom);
        assertEq(mr.event, 'result', `the queued MeterValues (${JSON.stringify(mr)})`);
        const sr = await cp.waitFor((e) => e.tag === sTag && (e.event === 'result' || e.event === 'call_error'), 'the answer to the queued StopTransaction', qFrom);
        assertEq(sr.event, 'result', `the queued StopTransaction (${JSON.stringify(sr)})`);
        await cp.call('BootNotification', { chargePointVendor: 'evnet-test', chargePointModel: 'node' });
        await cp.status('Available');
        const t = await driver.waitFor(isTicketFor(chargeId), `the driver's ticket for ${chargeId}`, dFrom);
        near(t.kwh, 2.0, 'driver ticket kwh');
        near(t.amount, 0.60, 'driver ticket amount');
        const ct = await central.waitFor(isTicketFor(chargeId), `Central's ticket line for ${chargeId}`, cFrom);
        near(ct.kwh, 2.0, 'Central ticket kwh');
        // The replay, answered again.
        const replay = await cp.call('StopTransaction', stopPayload);
        if (replay.idTagInfo) assertEq(replay.idTagInfo.status, 'Accepted', 'the replayed StopTransaction idTagInfo.status');
        // A barrier: one more charge to its ticket, over the same links. A second
        // ticket for the replayed charge would have come before this one's.
        const b = await remoteStart(20000);
        await cp.call('StopTransaction', { transactionId: b.tx, meterStop: 20500, timestamp: iso(), reason: 'Local' });
        await cp.status('Available');
        const bt = await driver.waitFor(isTicketFor(b.chargeId), `the driver's ticket for ${b.chargeId}`, dFrom);
        near(bt.kwh, 0.5, 'the barrier charge\'s kwh');
        await central.waitFor(isTicketFor(b.chargeId), `Central's ticket line for ${b.chargeId}`, cFrom);
        assertEq(driver.all(isTicketFor(chargeId), dFrom).length, 1, `driver tickets for ${chargeId}`);
        assertEq(central.all(isTicketFor(chargeId), cFrom).length, 1, `Central ticket lines for ${chargeId}`);
        assert(b.tx !== tx && tx !== tx3, `transactionIds are distinct (${tx3}, ${tx}, ${b.tx})`);
        if (defect) throw new Error(`${defect}; after retrying, the queued calls were delivered and billed once`);
    });

    // ---- 9: a refused attempt must not disturb the connected charge point
    await check(9, 'a wrong-password upgrade for a connected CP\'s id is refused and leaves its session working (a driver\'s charge still reaches it)', async () => {
        const gFrom = gateway.mark();
        const pr = await cp.cmd({ cmd: 'probe', password: 'not-the-password' }, (e) => e.event === 'probe_result',
            'a probe with a wrong password');
        assertEq([pr.outcome, pr.status], ['refused', 401], 'the wrong-password probe (outcome, status)');
        await gateway.waitFor((e) => e.event === 'refused' && e.cp === CP_ID, 'the gateway\'s "refused" for the probe', gFrom);
        await cp.call('Heartbeat', {});
        const { chargeId, tx } = await remoteStart(30000);
        const dFrom = driver.mark();
        await cp.call('StopTransaction', { transactionId: tx, meterStop: 30100, timestamp: iso(), reason: 'Local' });
        await cp.status('Available');
        const t = await driver.waitFor(isTicketFor(chargeId), `the driver's ticket for ${chargeId}`, dFrom);
        near(t.kwh, 0.1, 'driver ticket kwh');
    });

    // OC1 leaves this gateway; check 8 brings it back through another one,
    // once Central has seen it go.
    // (From Central's latest cp_state of OC1 on: it may already show DISCONNECTED.)
    const states = central.events.map((e, i) => [e, i]).filter(([e]) => e.event === 'cp_state' && e.cp === CP_ID);
    const leftFrom = states.length ? states[states.length - 1][1] : 0;
    cp.send({ cmd: 'quit' });
    await cp.waitFor((e) => e.event === 'bye', 'the charge point quits').catch(() => {});
    const leftAt = Date.now();
    await central.waitFor(centralState('DISCONNECTED'), 'Central\'s cp_state OC1 DISCONNECTED after the charge point quit', leftFrom)
        .then(() => log(`# Central saw OC1 go ${Date.now() - leftAt} ms after it quit`),
            (e) => log(`# ${e.message}`));

    // ---- 8: security profile 2, wss://
    await check(8, 'profile 2: wss:// with a self-signed certificate (--ca), BootNotification Accepted', async () => {
        try {
            execFileSync('openssl', ['version'], { stdio: 'ignore' });
        } catch (e) {
            throw new Error('the openssl CLI is missing (apt-get install openssl): it makes the test certificate');
        }
        execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem',
            '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
        { cwd: tmp, stdio: ['ignore', 'ignore', 'pipe'] });
        let gw2;
        for (let attempt = 1; ; attempt++) {
            const port = await freePort();
            gw2 = new Proc(`gateway_tls${attempt}`, BIN.gateway, ['127.0.0.1', String(centralPort), '--listen', String(port),
                '--bind', '127.0.0.1', '--db', 'gw2.db', '--keys', 'keys', '--heartbeat', String(HEARTBEAT_S),
                '--tls-cert', 'cert.pem', '--tls-key', 'key.pem', '--headless']);
            try {
                const st = await gw2.waitFor((e) => e.event === 'started' && e.listen !== undefined, 'the TLS gateway\'s "started"');
                assertEq(st.listen, port, 'the TLS gateway\'s port');
                gw2.port = port;
                break;
            } catch (e) {
                gw2.child.kill('SIGKILL');
                if (attempt >= 3) throw e;
            }
        }
        const tls = new ChargePoint('cp_tls', `wss://127.0.0.1:${gw2.port}/ocpp`,
            ['--password', CP_PASSWORD, '--ca', path.join(tmp, 'cert.pem')]);
        await tls.waitFor((e) => e.event === 'ready', 'the TLS charge point harness ready');
        const pr = await tls.cmd({ cmd: 'probe', password: 'not-the-password' }, (e) => e.event === 'probe_result',
            'a wss:// probe with a wrong password');
        assertEq([pr.outcome, pr.status], ['refused', 401], 'a wrong password over wss:// (outcome, status)');
        const r = await tls.connect();
        assertEq(r.event, 'open', `the wss:// connect (${JSON.stringify(r)})`);
        assertEq(r.protocol, 'ocpp1.6', 'the subprotocol over wss://');
        const boot = await tls.call('BootNotification', { chargePointVendor: 'evnet-test', chargePointModel: 'node-tls' });
        assertEq(boot.status, 'Accepted', 'BootNotification status over wss://');
        assertEq(boot.interval, HEARTBEAT_S, 'BootNotification interval over wss://');
        tls.send({ cmd: 'quit' });
        await tls.waitFor((e) => e.event === 'bye', 'the TLS charge point quits').catch(() => {});
    });

    // ---- 12: Central refuses a charge point already connected
    await check(12, 'BootNotification Rejected once Central refuses a connected charge point (its password changed while Central was down), SecurityError for other CALLs, Central shows it DISCONNECTED; the new password -> Accepted', async () => {
        const cp12 = new ChargePoint('cp12', wsUrl, ['--password', CP_PASSWORD]);
        await cp12.waitFor((e) => e.event === 'ready', 'the charge point harness ready');
        const upFrom = central.mark();
        let r = await cp12.connect();
        assertEq(r.event, 'open', `the connect with the password (${JSON.stringify(r)})`);
        let boot = await cp12.call('BootNotification', { chargePointVendor: 'evnet-test', chargePointModel: 'node' });
        assertEq(boot.status, 'Accepted', 'BootNotification status before the change');
        await central.waitFor(centralState('ACTIVE'), 'Central\'s cp_state OC1 ACTIVE', upFrom);
        // Central goes down; the operator sets a new password; Central comes back on the same ports.
        central.send('quit');
        await new Promise((resolve, reject) => {
            const t = setTimeout(() => reject(new Error('Central did not exit within 10 s of "quit"')), 10000);
            const poll = () => (central.exited ? (clearTimeout(t), resolve()) : setTimeout(poll, 50));
            poll();
        });
        execFileSync(BIN.keys, ['ocpp-password', CP_ID, '--keys', 'keys', '--db', 'central.db'],
            { cwd: tmp, input: NEW_PASSWORD + '\n', stdio: ['pipe', 'ignore', 'pipe'] });
        const gwFrom = gateway.mark();
        const restartedAt = Date.now() - 1000;
        central = new Proc('central_again', BIN.central, [String(centralPort), '--config', 'db.json',
            '--db', 'central.db', '--keys', 'keys', '--headless']);
        await central.waitFor((e) => e.event === 'started', 'Central\'s "started" again');
        // The gateway's Monitor authenticates again with the password the connection presented: refused.
        const rej = await gateway.waitFor((e) => e.event === 'rejected' && e.cp === CP_ID,
            'the gateway\'s "rejected" for OC1', gwFrom);
        assert(typeof rej.reason === 'string' && rej.reason.length > 0, `a reason for the rejection: ${JSON.stringify(rej)}`);
        boot = await cp12.call('BootNotification', { chargePointVendor: 'evnet-test', chargePointModel: 'node' });
        assertEq(boot.status, 'Rejected', 'BootNotification status once Central refused the charge point');
        assertEq(boot.interval, 10, 'BootNotification retry interval when Rejected');
        const hb = await cp12.cmd({ cmd: 'call', action: 'Heartbeat', payload: {} },
            (e) => e.event === 'result' || e.event === 'call_error', 'the answer to a Heartbeat while Rejected');
        assertEq([hb.event, hb.code], ['call_error', 'SecurityError'], 'a Heartbeat while Rejected');
        assert(central.find(centralState('ACTIVE')) < 0, 'Central never shows the refused charge point ACTIVE');
        const audit = execFileSync(BIN.central, ['--audit', '--db', 'central.db'], { cwd: tmp, encoding: 'utf8' })
            .split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
        const refusedAt = audit.filter((a) => a.outcome === 'refused: wrong OCPP password' &&
            JSON.stringify(a.params || {}).includes(`cp:${CP_ID}`) && a.time_ms >= restartedAt);
        assert(refusedAt.length >= 1, `Central's audit has no refusal of OC1's old password after the restart: ${JSON.stringify(audit.slice(-3))}`);
        // Connecting again with the new password: Accepted.
        await cp12.cmd({ cmd: 'close' }, (e) => e.event === 'close' || e.event === 'not_connected', 'the charge point closes');
        const again = central.mark();
        r = await cp12.connect({ password: NEW_PASSWORD });
        assertEq(r.event, 'open', `the connect with the new password (${JSON.stringify(r)})`);
        boot = await cp12.call('BootNotification', { chargePointVendor: 'evnet-test', chargePointModel: 'node' });
        assertEq(boot.status, 'Accepted', 'BootNotification status with the new password');
        await central.waitFor(centralState('ACTIVE'), 'Central\'s cp_state OC1 ACTIVE with the new password', again);
        cp12.send({ cmd: 'quit' });
        await cp12.waitFor((e) => e.event === 'bye', 'the charge point quits').catch(() => {});
    });

    // ---- 13: Central revokes a connected charge point
    await check(13, 'Central "revoke OC1" while it is connected: the gateway sees its key refused, BootNotification Rejected, SecurityError for other CALLs; a new connection is refused with 401 and audited by the gateway', async () => {
        const cp13 = new ChargePoint('cp13', wsUrl, ['--password', NEW_PASSWORD]);
        await cp13.waitFor((e) => e.event === 'ready', 'the charge point harness ready');
        const upFrom = central.mark();
        let r = await cp13.connect();
        assertEq(r.event, 'open', `the connect (${JSON.stringify(r)})`);
        let boot = await cp13.call('BootNotification', { chargePointVendor: 'evnet-test', chargePointModel: 'node' });
        assertEq(boot.status, 'Accepted', 'BootNotification status before the revocation');
        await central.waitFor(centralState('ACTIVE'), 'Central\'s cp_state OC1 ACTIVE', upFrom);
        const gwFrom = gateway.mark();
        central.send(`revoke ${CP_ID}`);
        const rej = await gateway.waitFor((e) => e.event === 'rejected' && e.cp === CP_ID,
            'the gateway\'s "rejected" for OC1 after the revocation', gwFrom);
        assert(/key/.test(rej.reason), `the rejection names the key: ${JSON.stringify(rej)}`);
        boot = await cp13.call('BootNotification', { chargePointVendor: 'evnet-test', chargePointModel: 'node' });
        assertEq(boot.status, 'Rejected', 'BootNotification status once revoked');
        const st = await cp13.cmd({ cmd: 'call', action: 'StatusNotification',
            payload: { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: iso() } },
        (e) => e.event === 'result' || e.event === 'call_error', 'the answer to a StatusNotification while Rejected');
        assertEq([st.event, st.code], ['call_error', 'SecurityError'], 'a StatusNotification while Rejected');
        await cp13.cmd({ cmd: 'close' }, (e) => e.event === 'close' || e.event === 'not_connected', 'the charge point closes');
        const reFrom = gateway.mark();
        r = await cp13.connect();
        assertEq([r.event, r.status], ['refused', 401], `a new connection of the revoked charge point (${JSON.stringify(r)})`);
        await gateway.waitFor((e) => e.event === 'refused' && e.status === 401 && e.path === `/ocpp/${CP_ID}`,
            'the server\'s "refused" for the revoked OC1', reFrom);
        const gwAudit = execFileSync(BIN.gateway, ['--audit', '--db', 'gw.db'], { cwd: tmp, encoding: 'utf8' })
            .split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
        assert(gwAudit.some((a) => a.cp === CP_ID && a.status === 401 && /revoked/.test(a.reason)),
            `the gateway's audit has no refusal of the revoked OC1: ${JSON.stringify(gwAudit.slice(-3))}`);
        cp13.send({ cmd: 'quit' });
        await cp13.waitFor((e) => e.event === 'bye', 'the charge point quits').catch(() => {});
    });

    log(`# ${passed} passed, ${failed} failed`);
    return failed === 0 && passed === 13 ? 0 : 1;  // every check above ran
}

main().then((code) => finish(code), (e) => {
    log(`FAIL: ${e.message}`);
    log(`# ${passed} passed, ${failed + 1} failed`);
    finish(1);
});
