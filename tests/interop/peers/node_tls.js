// node_tls.js: a node:tls peer for handclasp's post-quantum interop tests. The same script runs on
// Node 26 (OpenSSL 3.5) and on Bun (BoringSSL).
//
// Server: node node_tls.js server --cert server.pem --key server.key [--port 0] [--n 1] [--groups G1:G2]
//           [--lifetime 60] [--timeout 10]
// Client: node node_tls.js client --port PORT --cafile ca.pem [--servername localhost] [--groups G1:G2]
//           [--send TEXT] [--timeout 10]
//
// Output: one JSON object per line on stdout, like gotls.go: the server first prints
// {"event":"listening","port":N}; each connection prints {"event":"connection","role":...,"ok":...,
// "version":"TLSv1.3","suite":IANA name,"group":OpenSSL group name or null,...}. --groups is the
// ecdhCurve string (OpenSSL names, e.g. X25519MLKEM768:X25519 or SecP256r1MLKEM768). The client reads the
// group from getEphemeralKeyInfo(); a Node server cannot (the API is client-only), so the server runs with
// enableTrace (OpenSSL's SSL_trace on stderr) and the harness reads its ServerHello key_share from there.
// Everything binds/connects 127.0.0.1 only; every connection has a timeout and the server a lifetime.
"use strict";

const fs = require("fs");
const tls = require("tls");

function parseArgs(argv) {
  const [role, ...rest] = argv;
  const args = {};
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (!a.startsWith("--")) throw new Error(`unexpected argument ${a}`);
    args[a.slice(2)] = rest[++i] ?? "";
  }
  return [role, args];
}

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

const IMPLEMENTATION =
  typeof Bun !== "undefined"
    ? `bun ${Bun.version} (BoringSSL)`
    : `node ${process.versions.node} (OpenSSL ${process.versions.openssl})`;

function describe(socket, role, extra) {
  const cipher = socket.getCipher() || {};
  let group = null;
  try {
    const info = socket.getEphemeralKeyInfo();
    if (info && info.name) group = info.name;
  } catch (e) {
    group = null;
  }
  return {
    event: "connection",
    role,
    ok: true,
    version: socket.getProtocol(),
    suite: cipher.standardName || cipher.name || null,
    group,
    resumed: socket.isSessionReused(),
    implementation: IMPLEMENTATION,
    ...extra,
  };
}

function server(args) {
  const n = parseInt(args.n || "1", 10);
  const timeoutMs = parseFloat(args.timeout || "10") * 1000;
  const options = {
    cert: fs.readFileSync(args.cert),
    key: fs.readFileSync(args.key),
    minVersion: "TLSv1.3",
    enableTrace: typeof Bun === "undefined" && args.trace !== "0",
  };
  if (args.groups) options.ecdhCurve = args.groups;
  let handled = 0;
  const srv = tls.createServer(options, (socket) => {
    handled += 1;
    const index = handled;
    socket.setTimeout(timeoutMs, () => socket.destroy());
    const chunks = [];
    socket.on("data", (d) => {
      chunks.push(d);
      socket.write(d); // echo
    });
    const report = describe(socket, "server", { index });
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      report.received = Buffer.concat(chunks).toString("utf8").slice(0, 4096);
      emit(report);
      if (handled >= n) setTimeout(() => process.exit(0), 50);
    };
    socket.on("end", () => {
      socket.end();
      finish();
    });
    socket.on("close", finish);
    socket.on("error", () => finish());
  });
  srv.on("tlsClientError", (err) => {
    emit({ event: "connection", role: "server", ok: false, error: String(err && err.message), implementation: IMPLEMENTATION });
  });
  srv.listen(parseInt(args.port || "0", 10), "127.0.0.1", () => {
    emit({ event: "listening", port: srv.address().port, implementation: IMPLEMENTATION });
  });
  setTimeout(() => process.exit(3), parseFloat(args.lifetime || "60") * 1000).unref();
}

function client(args) {
  const timeoutMs = parseFloat(args.timeout || "10") * 1000;
  const options = {
    host: "127.0.0.1",
    port: parseInt(args.port, 10),
    servername: args.servername || "localhost",
    ca: fs.readFileSync(args.cafile),
    minVersion: "TLSv1.3",
  };
  if (args.groups) options.ecdhCurve = args.groups;
  const send = args.send ?? "hello from " + IMPLEMENTATION.split(" ")[0];
  const timer = setTimeout(() => {
    emit({ event: "connection", role: "client", ok: false, error: "timeout", implementation: IMPLEMENTATION });
    process.exit(1);
  }, timeoutMs);
  const socket = tls.connect(options, () => {
    const report = describe(socket, "client", {});
    const chunks = [];
    let total = 0;
    socket.on("data", (d) => {
      chunks.push(d);
      total += d.length;
      if (total >= Buffer.byteLength(send)) socket.end();
    });
    socket.on("close", () => {
      clearTimeout(timer);
      report.received = Buffer.concat(chunks).toString("utf8");
      emit(report);
      process.exit(0);
    });
    socket.write(send);
  });
  socket.on("error", (err) => {
    clearTimeout(timer);
    emit({ event: "connection", role: "client", ok: false, error: String(err && err.message), implementation: IMPLEMENTATION });
    process.exit(1);
  });
}

const [role, args] = parseArgs(process.argv.slice(2));
if (role === "server") server(args);
else if (role === "client") client(args);
else {
  console.error("usage: node_tls.js server|client ...");
  process.exit(2);
}
