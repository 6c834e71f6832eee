'use strict';
// Free TCP ports for the OCPP tests and tools/ocpp/bench_gateway.js.
// Ports come from below the kernel's ephemeral range (32768+), as
// tests/integration's harness picks them: an outgoing connection of another
// test can never hold them, and two tests picking at once rarely collide.

const net = require('net');

function portIsFree(port) {
    return new Promise((resolve) => {
        const s = net.createServer();
        s.once('error', () => resolve(false));
        s.listen(port, '0.0.0.0', () => s.close(() => resolve(true)));
    });
}

// The first of `span` consecutive free ports in 20000-32000.
async function freePorts(span) {
    for (let i = 0; i < 200; i++) {
        const p = 20000 + Math.floor(Math.random() * (12000 - span));
        let ok = true;
        for (let k = 0; k < span && ok; k++) ok = await portIsFree(p + k);
        if (ok) return p;
    }
    throw new Error(`found no ${span} free consecutive ports in 20000-32000`);
}

module.exports = { portIsFree, freePorts };
