#!/usr/bin/env node
// SPDX-License-Identifier: ISC
// worker.js: an HTTP worker for baton, start_server or systemd on Node's
// standard library: net.Server listening on an inherited fd ({fd: N}).
//
//     baton --port=127.0.0.1:8080 -- node examples/node/worker.js
//
// It answers "gen=GENERATION pid=PID server=node listener=KEY" (GET
// /sleep/MS waits MS milliseconds first). On TERM, INT or QUIT it stops
// accepting (server.close() closes this process's copy of the listener and
// never shuts it down for the others), lets the requests in flight finish,
// and exits 0.
//
// Two things to know about Node here:
// - libuv puts the listener in non-blocking mode. That flag belongs to the
//   open file description, which the supervisor and every generation share:
//   harmless for baton's own examples, which expect either mode.
// - Node's core has no unix datagram sockets, so this worker cannot send
//   READY=1 to NOTIFY_SOCKET; run it with baton's default (interval)
//   readiness.
'use strict';

const http = require('http');

const PROG = 'worker.js';
const GENERATION = process.env.SERVER_STARTER_GENERATION || '0';

function inheritedListeners() {
  const spec = process.env.SERVER_STARTER_PORT;
  const pairs = [];
  if (spec !== undefined) {
    for (const entry of spec.split(';')) {
      if (entry === '') continue;
      const eq = entry.lastIndexOf('='); // a path may hold '='
      const key = entry.slice(0, eq);
      const fd = entry.slice(eq + 1);
      if (eq <= 0 || !/^[0-9]+$/.test(fd)) {
        throw new Error(`SERVER_STARTER_PORT entry "${entry}" is not key=fd`);
      }
      pairs.push([key, Number(fd)]);
    }
  } else if (process.env.LISTEN_PID === String(process.pid)) {
    const n = Number(process.env.LISTEN_FDS || '0');
    const names = process.env.LISTEN_FDNAMES !== undefined
      ? process.env.LISTEN_FDNAMES.split(':')
      : new Array(n).fill('unknown');
    for (let i = 0; i < n; i++) pairs.push([names[i] || 'unknown', 3 + i]);
  } else {
    throw new Error('no inherited listeners: neither SERVER_STARTER_PORT ' +
                    'nor LISTEN_FDS is set for this process');
  }
  if (pairs.length === 0) throw new Error('no listener was inherited');
  return pairs;
}

function main() {
  let pairs;
  try {
    pairs = inheritedListeners();
  } catch (e) {
    console.error(`${PROG}: ${e.message}`);
    process.exit(1);
  }

  const servers = pairs.map(([key, fd]) => {
    const server = http.createServer((req, res) => {
      const m = /^\/sleep\/([0-9]+)$/.exec(req.url);
      const ms = m ? Math.min(Number(m[1]), 10000) : 0;
      setTimeout(() => {
        const body = `gen=${GENERATION} pid=${process.pid} server=node ` +
                     `listener=${key}\n`;
        res.writeHead(200, {
          'Content-Type': 'text/plain',
          'Content-Length': Buffer.byteLength(body),
          'Connection': 'close',
        });
        res.end(body);
      }, ms);
    });
    server.on('error', (e) => {
      console.error(`${PROG}: listener ${key} (fd ${fd}): ${e.message}`);
      process.exit(1);
    });
    server.listen({ fd }, () => {
      console.error(`${PROG}[${process.pid}]: generation ${GENERATION} ` +
                    `listening on ${key} (fd ${fd})`);
    });
    return server;
  });

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    let open = servers.length;
    for (const server of servers) {
      // stops accepting; the callback runs when the last connection ends
      server.close(() => {
        if (--open === 0) {
          console.error(`${PROG}[${process.pid}]: generation ` +
                        `${GENERATION} stopped`);
          process.exit(0);
        }
      });
      server.closeIdleConnections();
    }
  };
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGQUIT']) process.on(sig, stop);
}

main();
