#!/usr/bin/env node
'use strict';
// A scriptable OCPP 1.6-J charge point for evnet's integration tests, built on
// the npm package ocpp-rpc (a real OCPP-J client that no one here wrote).
//
// Commands come on stdin, one JSON object per line; events go to stdout, one
// JSON object per line. See README.md beside this file for the vocabulary.

const fs = require('fs');
const readline = require('readline');
const { setTimeout: sleep } = require('timers/promises');
const WebSocket = require('ws');
const {
    RPCClient, createRPCError, RPCError, TimeoutError, UnexpectedHttpResponse,
} = require('ocpp-rpc');

const USAGE = `usage: node charge_point.js --url ws://HOST:PORT/ocpp --id CP_ID
       [--password P] [--ca FILE] [--insecure] [--strict]
       [--call-timeout MS] [--ping-ms MS] [--trace]
  --url           endpoint; the charge point id is appended as the last path segment
  --id            charge point id (also the Basic-auth user name)
  --password      Basic-auth password (OCPP security profile 1/2)
  --ca            PEM file of the CA that signed the server's certificate (wss://)
  --insecure      do not verify the server's certificate (wss://)
  --strict        ocpp-rpc strict mode: validate every message against the OCPP 1.6 schemas
  --call-timeout  milliseconds to wait for a CALLRESULT (default 30000)
  --ping-ms       WebSocket ping interval in ms, 0 for none (default 0)
  --trace         also report every frame sent and received as {"event":"frame",...}`;

// ---------------------------------------------------------------- output
function emit(obj) {
    // Writes to a pipe are synchronous on Linux, so each line is flushed.
    try {
        process.stdout.write(JSON.stringify(obj) + '\n');
    } catch (err) {
        // stdout gone: nothing to report to.
    }
}
function withTag(obj, tag) {
    if (tag !== undefined) obj.tag = tag;
    return obj;
}

// ---------------------------------------------------------------- arguments
function parseArgs(argv) {
    const opts = {
        url: null, id: null, password: null, ca: null, insecure: false,
        strict: false, callTimeoutMs: 30000, pingMs: 0, trace: false,
    };
    const valued = {
        '--url': 'url', '--id': 'id', '--password': 'password', '--ca': 'ca',
        '--call-timeout': 'callTimeoutMs', '--ping-ms': 'pingMs',
    };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === '--help' || a === '-h') {
            process.stdout.write(USAGE + '\n');
            process.exit(0);
        } else if (a === '--strict') {
            opts.strict = true;
        } else if (a === '--insecure') {
            opts.insecure = true;
        } else if (a === '--trace') {
            opts.trace = true;
        } else if (valued[a]) {
            if (i + 1 >= argv.length) throw Error(`${a} needs a value`);
            opts[valued[a]] = argv[++i];
        } else {
            throw Error(`unknown argument '${a}'`);
        }
    }
    if (!opts.url) throw Error('--url is required');
    if (!opts.id) throw Error('--id is required');
    if (!/^wss?:\/\//.test(opts.url)) throw Error('--url must start with ws:// or wss://');
    for (const k of ['callTimeoutMs', 'pingMs']) {
        const n = Number(opts[k]);
        if (!Number.isInteger(n) || n < 0) throw Error(`bad number for ${k}: '${opts[k]}'`);
        opts[k] = n;
    }
    opts.url = opts.url.replace(/\/+$/, '');
    return opts;
}

let opts;
try {
    opts = parseArgs(process.argv.slice(2));
} catch (err) {
    process.stderr.write(`charge_point.js: ${err.message}\n${USAGE}\n`);
    process.exit(2);
}

let caPem;
if (opts.ca) {
    try {
        caPem = fs.readFileSync(opts.ca);
    } catch (err) {
        process.stderr.write(`charge_point.js: cannot read --ca ${opts.ca}: ${err.message}\n`);
        process.exit(2);
    }
}

function tlsOpts() {
    const o = {};
    if (caPem) o.ca = caPem;
    if (opts.insecure) o.rejectUnauthorized = false;
    return o;
}

// ---------------------------------------------------------------- answers to the server's CALLs
// action -> {payload} | {error: {code, description, details}}, with optional delay_ms.
const answers = new Map([
    ['RemoteStartTransaction', { payload: { status: 'Accepted' } }],
    ['RemoteStopTransaction', { payload: { status: 'Accepted' } }],
    ['ChangeAvailability', { payload: { status: 'Accepted' } }],
]);

// ---------------------------------------------------------------- the client
const client = new RPCClient({
    endpoint: opts.url,
    identity: opts.id,
    password: opts.password,
    protocols: ['ocpp1.6'],
    strictMode: opts.strict,
    reconnect: false,               // the test decides when to reconnect
    callTimeoutMs: opts.callTimeoutMs,
    pingIntervalMs: opts.pingMs,
    callConcurrency: 1,             // one outstanding CALL per direction (OCPP-J)
    wsOpts: { handshakeTimeout: 10000, ...tlsOpts() },
});

let isOpen = false;
let closeTag;                       // tag of a close command in progress
const pendingRawTags = [];          // {tag, id} of raw frames sent, oldest first

function frameId(text) {
    try {
        const f = JSON.parse(text);
        return Array.isArray(f) && typeof f[1] === 'string' ? f[1] : undefined;
    } catch (err) {
        return undefined;
    }
}
// The tag of the raw frame that a reply answers: the one with the same message id,
// else the oldest one whose id could not be read, else the oldest one.
function takeRawTag(replyText) {
    const id = frameId(replyText);
    let i = pendingRawTags.findIndex((r) => r.id !== undefined && r.id === id);
    if (i < 0) i = pendingRawTags.findIndex((r) => r.id === undefined);
    if (i < 0) i = 0;
    const [entry] = pendingRawTags.splice(i, 1);
    return entry?.tag;
}
const validationOrigin = new WeakMap();   // error -> where strict validation failed
const errorMessageId = new WeakMap();     // error -> message id of the failed CALL
const inboundErrors = new Map();          // message id -> CALLERROR frame as received

client.on('open', () => { isOpen = true; });
client.on('close', ({ code, reason }) => {
    if (!isOpen) return;            // a failed connect is reported by the connect command
    isOpen = false;
    emit(withTag({ event: 'close', code: code ?? null, reason: reason ?? '' }, closeTag));
    closeTag = undefined;
    pendingRawTags.length = 0;
});
client.on('socketError', (err) => {
    emit({ event: 'error', message: `socket: ${err.message}`, code: err.code });
});
client.on('message', ({ message, outbound }) => {
    if (opts.trace) emit({ event: 'frame', dir: outbound ? 'out' : 'in', text: String(message) });
});
client.on('response', ({ outbound, payload }) => {
    if (!outbound && Array.isArray(payload) && payload[0] === 4) {
        inboundErrors.set(payload[1], payload);
    }
});
client.on('callError', ({ outbound, messageId, error }) => {
    if (outbound && error && typeof error === 'object') errorMessageId.set(error, messageId);
});
client.on('strictValidationFailure', ({ outbound, isCall, method, params, result, error }) => {
    if (outbound && isCall) {
        validationOrigin.set(error, 'local_validation');
    } else if (!outbound && !isCall) {
        validationOrigin.set(error, 'response_validation');
    } else if (!outbound && isCall) {
        // The server's CALL broke the schema: ocpp-rpc answered it with a CALLERROR.
        emit({ event: 'invalid_call', action: method, payload: params,
               code: error.rpcErrorCode, description: error.message });
    } else {
        // Our configured answer broke the schema: ocpp-rpc sent InternalError instead.
        emit({ event: 'error', message: `answer to ${method} failed strict validation: ${error.message}`,
               payload: result });
    }
});
client.on('badMessage', ({ buffer, error, response }) => {
    const text = Buffer.isBuffer(buffer) ? buffer.toString('utf8') : String(buffer);
    if (response === null) {
        // A CALLRESULT or CALLERROR that matches no call of the library: the reply to a raw frame.
        emit(withTag({ event: 'raw_reply', text }, takeRawTag(text)));
    } else {
        // The server sent something malformed; ocpp-rpc answered with a CALLERROR.
        emit({ event: 'bad_frame', text, error: error?.message ?? String(error),
               answered: JSON.stringify(response) });
    }
});

client.handle(async ({ method, params, messageId, signal }) => {
    emit({ event: 'call', action: method, payload: params, id: messageId });
    const ans = answers.get(method);
    if (ans?.delay_ms) await sleep(ans.delay_ms, null, { signal });
    if (!ans) throw createRPCError('NotImplemented', `no answer configured for ${method}`);
    if (ans.error) {
        throw createRPCError(ans.error.code ?? 'GenericError', ans.error.description ?? '',
                             ans.error.details ?? {});
    }
    return ans.payload;
});

// ---------------------------------------------------------------- commands
// Offline queue: calls made with "queue":true while disconnected, sent after the next open.
const offlineQueue = [];

function describeCallError(err) {
    const origin = validationOrigin.get(err)
        ?? (err instanceof TimeoutError ? 'timeout'
        : err?.name === 'AbortError' ? 'disconnected'
        : err instanceof RPCError ? 'server' : 'local');
    const ev = { event: 'call_error', origin };
    const frame = inboundErrors.get(errorMessageId.get(err));
    if (origin === 'server' && frame) {
        // The code exactly as the server sent it (ocpp-rpc maps unknown codes to GenericError).
        ev.code = frame[2];
        ev.description = frame[3];
        ev.details = frame[4];
        inboundErrors.delete(frame[1]);
    } else {
        ev.code = err?.rpcErrorCode
            ?? { timeout: 'Timeout', disconnected: 'Disconnected' }[origin] ?? 'LocalError';
        ev.description = err?.message ?? String(err);
        if (err?.details && origin !== 'local') ev.details = err.details;
    }
    return ev;
}

function doCall(cmd) {
    const { action, tag } = cmd;
    const payload = cmd.payload ?? {};
    const callOpts = {};
    if (Number.isInteger(cmd.timeout_ms) && cmd.timeout_ms > 0) callOpts.callTimeoutMs = cmd.timeout_ms;
    if (client.state !== RPCClient.OPEN) {
        if (cmd.queue) {
            offlineQueue.push(cmd);
            emit(withTag({ event: 'queued', action }, tag));
            return;
        }
        emit(withTag({ event: 'call_error', origin: 'local', action, code: 'NotConnected',
                       description: 'the connection is not open' }, tag));
        return;
    }
    client.call(action, payload, callOpts).then(
        (result) => emit(withTag({ event: 'result', action, payload: result }, tag)),
        (err) => emit(withTag({ action, ...describeCallError(err) }, tag)),
    );
}

function flushOfflineQueue() {
    while (offlineQueue.length && client.state === RPCClient.OPEN) doCall(offlineQueue.shift());
}

async function doConnect(cmd) {
    const { tag } = cmd;
    const reconf = {};
    if (typeof cmd.password === 'string') reconf.password = cmd.password;
    if (cmd.password === null) reconf.password = null;
    if (typeof cmd.id === 'string' && cmd.id) reconf.identity = cmd.id;
    if (Object.keys(reconf).length) client.reconfigure(reconf);
    if (client.state === RPCClient.OPEN) {
        emit(withTag({ event: 'open', protocol: client.protocol, already: true }, tag));
        return;
    }
    try {
        await client.connect();
        emit(withTag({ event: 'open', protocol: client.protocol ?? '' }, tag));
        flushOfflineQueue();
    } catch (err) {
        if (err instanceof UnexpectedHttpResponse) {
            emit(withTag({ event: 'refused', status: err.code, reason: err.message }, tag));
        } else {
            emit(withTag({ event: 'error', message: err.message, code: err.code }, tag));
        }
    }
}

async function doClose(cmd) {
    const { tag } = cmd;
    if (client.state === RPCClient.CLOSED) {
        emit(withTag({ event: 'not_connected', cmd: cmd.cmd }, tag));
        return;
    }
    const closeOpts = { force: !!cmd.force, awaitPending: !!cmd.await_pending };
    if (Number.isInteger(cmd.code)) closeOpts.code = cmd.code;
    if (typeof cmd.reason === 'string') closeOpts.reason = cmd.reason;
    closeTag = tag;
    // A graceful close that the server never completes is forced after 5 s.
    const timer = setTimeout(() => { client.close({ force: true }).catch(() => {}); }, 5000);
    try {
        await client.close(closeOpts);
    } catch (err) {
        emit(withTag({ event: 'error', message: `close: ${err.message}` }, tag));
    } finally {
        clearTimeout(timer);
    }
}

function doRaw(cmd) {
    const { tag } = cmd;
    if (typeof cmd.text !== 'string') {
        emit(withTag({ event: 'bad_command', error: '"raw" needs a string "text"' }, tag));
        return;
    }
    if (client.state !== RPCClient.OPEN) {
        emit(withTag({ event: 'not_connected', cmd: 'raw' }, tag));
        return;
    }
    try {
        pendingRawTags.push({ tag, id: frameId(cmd.text) });
        client.sendRaw(cmd.text);
        emit(withTag({ event: 'raw_sent' }, tag));
    } catch (err) {
        pendingRawTags.pop();
        emit(withTag({ event: 'error', message: `raw: ${err.message}` }, tag));
    }
}

function doAnswer(cmd) {
    const { action, tag } = cmd;
    if (typeof action !== 'string' || !action) {
        emit(withTag({ event: 'bad_command', error: '"answer" needs an "action"' }, tag));
        return;
    }
    if (cmd.reset) {
        answers.delete(action);                 // later CALLs get NotImplemented
    } else if (cmd.error) {
        answers.set(action, { error: cmd.error, delay_ms: cmd.delay_ms });
    } else if (cmd.payload && typeof cmd.payload === 'object') {
        answers.set(action, { payload: cmd.payload, delay_ms: cmd.delay_ms });
    } else {
        emit(withTag({ event: 'bad_command', error: '"answer" needs "payload", "error" or "reset"' }, tag));
        return;
    }
    emit(withTag({ event: 'answer_set', action }, tag));
}

// Opens a bare WebSocket (not through ocpp-rpc) with a chosen path, subprotocols and
// credentials, reports whether the server accepted it, and closes it again.
function doProbe(cmd) {
    const { tag } = cmd;
    return new Promise((resolve) => {
        let done = false;
        const finish = (ev) => {
            if (done) return;
            done = true;
            emit(withTag({ event: 'probe_result', ...ev }, tag));
            resolve();
        };
        let target;
        try {
            const base = new URL(opts.url);
            const path = typeof cmd.path === 'string' ? cmd.path
                : `${base.pathname}/${encodeURIComponent(cmd.id ?? opts.id)}`;
            target = `${base.protocol}//${base.host}${path}`;
        } catch (err) {
            finish({ outcome: 'error', message: err.message });
            return;
        }
        const protocols = Array.isArray(cmd.protocols) ? cmd.protocols : ['ocpp1.6'];
        const headers = {};
        const password = cmd.password !== undefined ? cmd.password : opts.password;
        const user = cmd.id ?? opts.id;
        if (password != null) {
            headers.authorization = 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
        }
        let ws;
        try {
            ws = new WebSocket(target, protocols, { headers, handshakeTimeout: 10000, ...tlsOpts() });
        } catch (err) {
            finish({ outcome: 'error', message: err.message });
            return;
        }
        ws.on('unexpected-response', (req, res) => {
            finish({ outcome: 'refused', status: res.statusCode });
            req.destroy();
        });
        ws.on('open', () => {
            finish({ outcome: 'open', protocol: ws.protocol });
            ws.terminate();
        });
        ws.on('error', (err) => finish({ outcome: 'error', message: err.message }));
        ws.on('close', () => finish({ outcome: 'error', message: 'closed before open' }));
    });
}

async function doQuit(code = 0) {
    if (client.state !== RPCClient.CLOSED) {
        // Lets the calls in flight finish first, for at most 5 s.
        const timer = setTimeout(() => { emit({ event: 'bye' }); process.exit(code); }, 5000);
        try {
            await client.close({ code: 1000, reason: 'quit', awaitPending: true });
        } catch (err) { /* exiting */ }
        clearTimeout(timer);
    }
    emit({ event: 'bye' });
    process.exit(code);
}

// Connection changes and quit run in order; calls, raw frames and answers are
// submitted in order but their replies arrive whenever the server sends them.
let chain = Promise.resolve();
function sequential(fn) {
    chain = chain.then(fn).catch((err) => emit({ event: 'error', message: `internal: ${err.message}` }));
}

function handleLine(line) {
    if (!line.trim()) return;
    let cmd;
    try {
        cmd = JSON.parse(line);
    } catch (err) {
        emit({ event: 'bad_command', line, error: `not JSON: ${err.message}` });
        return;
    }
    if (!cmd || typeof cmd !== 'object' || Array.isArray(cmd) || typeof cmd.cmd !== 'string') {
        emit({ event: 'bad_command', line, error: 'expected an object with a string "cmd"' });
        return;
    }
    switch (cmd.cmd) {
    case 'connect': sequential(() => doConnect(cmd)); break;
    case 'close': sequential(() => doClose(cmd)); break;
    case 'reconnect':
        sequential(async () => {
            if (client.state !== RPCClient.CLOSED) await doClose({ ...cmd, cmd: 'close' });
            await doConnect(cmd);
        });
        break;
    case 'probe': sequential(() => doProbe(cmd)); break;
    case 'call':
        if (typeof cmd.action !== 'string' || !cmd.action ||
            (cmd.payload !== undefined && (typeof cmd.payload !== 'object' || cmd.payload === null))) {
            emit(withTag({ event: 'bad_command', line, error: '"call" needs an "action" and an object "payload"' }, cmd.tag));
            return;
        }
        sequential(() => doCall(cmd));
        break;
    case 'raw': sequential(() => doRaw(cmd)); break;
    case 'answer': sequential(() => doAnswer(cmd)); break;
    case 'sync': sequential(() => emit(withTag({ event: 'synced' }, cmd.tag))); break;
    case 'quit': sequential(() => doQuit(0)); break;
    default:
        emit(withTag({ event: 'bad_command', line, error: `unknown cmd '${cmd.cmd}'` }, cmd.tag));
    }
}

process.on('uncaughtException', (err) => emit({ event: 'error', message: `internal: ${err.message}` }));
process.on('unhandledRejection', (err) => emit({ event: 'error', message: `internal: ${err?.message ?? err}` }));
process.stdout.on('error', () => process.exit(0));   // the test went away

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on('line', handleLine);
rl.on('close', () => sequential(() => doQuit(0)));   // stdin closed: leave cleanly
emit({ event: 'ready', id: opts.id, url: opts.url, strict: opts.strict });
