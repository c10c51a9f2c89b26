// deno_tls.ts: a rustls TLS peer (Deno's TLS API) for handclasp's interop tests.
//
// Server: deno run --allow-net --allow-read --allow-env deno_tls.ts server --cert server.pem --key server.key
//           [--port 0] [--n 1] [--mode echo|http] [--alpn h2,http/1.1] [--lifetime 60]
// Client: deno run --allow-net --allow-read --allow-env deno_tls.ts client --port PORT --cafile ca.pem
//           [--servername localhost] [--alpn h2] [--send TEXT | --http] [--cert client.pem --key client.key]
//
// Output: one JSON object per line on stdout, like gotls.go: the server first prints
// {"event":"listening","port":N}; each connection prints {"event":"connection","role":...,"ok":...,"alpn":...}.
// Deno exposes only the ALPN result of a handshake (no version/suite/group), so the harness derives the
// version from the key log (SSLKEYLOGFILE, honoured by rustls). Everything binds/connects 127.0.0.1 only.
// Deno.listenTls cannot request client certificates, so there is no mTLS server mode.

type Args = Record<string, string>;

function parseArgs(argv: string[]): [string, Args] {
  const [role, ...rest] = argv;
  const args: Args = {};
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (!a.startsWith("--")) throw new Error(`unexpected argument ${a}`);
    const name = a.slice(2);
    if (name === "http") {
      args[name] = "1";
    } else {
      args[name] = rest[++i] ?? "";
    }
  }
  return [role, args];
}

function emit(obj: Record<string, unknown>): void {
  console.log(JSON.stringify(obj));
}

const IMPLEMENTATION = `deno ${Deno.version.deno} (rustls)`;
const decoder = new TextDecoder();
const encoder = new TextEncoder();

function list(s: string | undefined): string[] | undefined {
  return s ? s.split(",") : undefined;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: number | undefined;
  const t = new Promise<T>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

async function readAll(conn: Deno.Conn, limit: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const buf = new Uint8Array(32 * 1024);
  while (total < limit) {
    let n: number | null;
    try {
      n = await conn.read(buf);
    } catch (e) {
      // rustls reports a peer that closed without close_notify as an error; keep what we have.
      if (e instanceof Deno.errors.UnexpectedEof || e instanceof Deno.errors.ConnectionReset) break;
      throw e;
    }
    if (n === null) break;
    chunks.push(buf.slice(0, n));
    total += n;
  }
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

async function serveOne(conn: Deno.TlsConn, index: number, mode: string): Promise<void> {
  const report: Record<string, unknown> = {
    event: "connection", role: "server", index, ok: false, alpn: null, implementation: IMPLEMENTATION,
    sent: 0, received_len: 0, received: "",
  };
  try {
    const info = await conn.handshake();
    report.alpn = info.alpnProtocol;
    if (mode === "http") {
      const buf = new Uint8Array(64 * 1024);
      let req = "";
      while (!req.includes("\r\n\r\n")) {
        const n = await conn.read(buf);
        if (n === null) break;
        req += decoder.decode(buf.subarray(0, n));
      }
      report.received_len = req.length;
      report.received = req.slice(0, 4096);
      report.ok = true;
      const body = JSON.stringify(report);
      const resp = encoder.encode(
        `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${encoder.encode(body).length}\r\nConnection: close\r\n\r\n${body}`,
      );
      await writeAll(conn, resp);
      report.sent = resp.length;
    } else {
      // echo until EOF
      const buf = new Uint8Array(32 * 1024);
      let all = "";
      let total = 0;
      while (true) {
        let n: number | null;
        try {
          n = await conn.read(buf);
        } catch (e) {
          if (e instanceof Deno.errors.UnexpectedEof || e instanceof Deno.errors.ConnectionReset) break;
          throw e;
        }
        if (n === null) break;
        total += n;
        if (all.length < 4096) all += decoder.decode(buf.subarray(0, n));
        await writeAll(conn, buf.subarray(0, n));
      }
      report.received_len = total;
      report.received = all.slice(0, 4096);
      report.sent = total;
      report.ok = true;
    }
  } catch (e) {
    report.error = String(e);
  } finally {
    try {
      conn.close();
    } catch (_) { /* already closed */ }
  }
  emit(report);
}

async function server(args: Args): Promise<void> {
  const n = Number(args.n ?? "1");
  const lifetime = Number(args.lifetime ?? "60") * 1000;
  const timeout = Number(args.timeout ?? "10") * 1000;
  const listener = Deno.listenTls({
    hostname: "127.0.0.1",
    port: Number(args.port ?? "0"),
    cert: Deno.readTextFileSync(args.cert),
    key: Deno.readTextFileSync(args.key),
    alpnProtocols: list(args.alpn),
  });
  emit({ event: "listening", addr: `127.0.0.1:${listener.addr.port}`, port: listener.addr.port });
  const stop = setTimeout(() => {
    emit({ event: "stopped", reason: "lifetime" });
    Deno.exit(0);
  }, lifetime);
  const pending: Promise<void>[] = [];
  for (let i = 0; n === 0 || i < n; i++) {
    const conn = await listener.accept();
    pending.push(withTimeout(serveOne(conn, i, args.mode ?? "echo"), timeout, "connection").catch((e) => {
      emit({ event: "connection", role: "server", index: i, ok: false, error: String(e) });
      try {
        conn.close();
      } catch (_) { /* already closed */ }
    }));
  }
  await Promise.all(pending);
  listener.close();
  clearTimeout(stop);
}

async function client(args: Args): Promise<boolean> {
  const port = Number(args.port);
  const serverName = args.servername ?? "localhost";
  const report: Record<string, unknown> = {
    event: "connection", role: "client", index: 0, ok: false, alpn: null, implementation: IMPLEMENTATION,
    sent: 0, received_len: 0, received: "",
  };
  const caCerts = args.cafile ? [Deno.readTextFileSync(args.cafile)] : undefined;
  const alpnProtocols = list(args.alpn);
  try {
    let conn: Deno.TlsConn;
    if (args.cert) {
      // connectTls is the only API with client certificates; it connects to `hostname` itself, so the
      // harness passes --servername 127.0.0.1 or a name that resolves to 127.0.0.1 only.
      conn = await Deno.connectTls({
        hostname: serverName, port, caCerts, alpnProtocols,
        cert: Deno.readTextFileSync(args.cert), key: Deno.readTextFileSync(args.key),
      });
    } else {
      // TCP to 127.0.0.1, then TLS with SNI/verification name `serverName` (avoids resolving "localhost" to ::1).
      const tcp = await Deno.connect({ hostname: "127.0.0.1", port });
      conn = await Deno.startTls(tcp, { hostname: serverName, caCerts, alpnProtocols });
    }
    const info = await conn.handshake();
    report.alpn = info.alpnProtocol;
    let payload: Uint8Array | null = null;
    if (args.http) {
      payload = encoder.encode(`GET / HTTP/1.1\r\nHost: ${serverName}\r\nConnection: close\r\n\r\n`);
    } else if (args.send !== undefined) {
      payload = encoder.encode(args.send.replaceAll("\\r", "\r").replaceAll("\\n", "\n"));
    }
    if (payload !== null) {
      await writeAll(conn, payload);
      report.sent = payload.length;
      // --http: read until EOF; otherwise until --readlen bytes (default: as many as sent, an echo; -1: EOF)
      let want = args.readlen !== undefined ? Number(args.readlen) : payload.length;
      if (args.http || want < 0) want = 1 << 24;
      const received = await readAll(conn, want);
      report.received_len = received.length;
      report.received = decoder.decode(received.subarray(0, 4096));
    }
    report.ok = true;
    try {
      conn.close();
    } catch (_) { /* already closed */ }
  } catch (e) {
    report.error = String(e);
  }
  emit(report);
  return report.ok as boolean;
}

const [role, args] = parseArgs(Deno.args);
if (role === "server") {
  await server(args);
} else if (role === "client") {
  const timeout = Number(args.timeout ?? "10") * 1000;
  const ok = await withTimeout(client(args), timeout, "client").catch((e) => {
    emit({ event: "connection", role: "client", index: 0, ok: false, error: String(e) });
    return false;
  });
  Deno.exit(ok ? 0 : 1);
} else {
  console.error("usage: deno_tls.ts server|client --flag value ...");
  Deno.exit(2);
}
