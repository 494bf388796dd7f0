/**
 * TLS (RFC 3261 26, RFC 5630) and WebSocket (RFC 7118) transports, on IPv4
 * and IPv6: our own clients for byte-level checks, sipsak (GnuTLS) as a real
 * TLS peer.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TLSSocket, connect as tlsConnect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { CATALOG, type SipMock, silentLogger, startSipMock } from "../../src/index.js";
import { tlsMaterial } from "../../src/transport/certs.js";
import { header, request } from "../helpers/wire-client.js";

let mock: SipMock;
const port = (t: "tls" | "ws" | "wss", v6 = false) =>
  mock.listeners.find((l) => l.transport === t && l.address.includes(":") === v6)!.port;

beforeAll(async () => {
  mock = await startSipMock({
    listen: [
      "tls:127.0.0.1:0",
      "tls:[::1]:0",
      "ws:127.0.0.1:0",
      "ws:[::1]:0",
      "wss:127.0.0.1:0",
      "wss:[::1]:0",
    ],
    logger: silentLogger,
    timers: { t1: 50 },
    tls: { hosts: ["sip.example.test"] },
  });
});
afterAll(() => mock.close());

/** Messages read from a stream, framed by Content-Length. */
function streamReader(socket: TLSSocket) {
  const got: string[] = [];
  let buf = "";
  socket.on("data", (d: Buffer) => {
    buf += d.toString("latin1");
    for (;;) {
      if (buf.startsWith("\r\n")) {
        got.push("\r\n");
        buf = buf.slice(2);
        continue;
      }
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) break;
      const cl = Number(/\r\nContent-Length: (\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0);
      if (buf.length < end + 4 + cl) break;
      got.push(buf.slice(0, end + 4 + cl));
      buf = buf.slice(end + 4 + cl);
    }
  });
  const until = async (pred: (m: string) => boolean, ms = 3000) => {
    const stop = Date.now() + ms;
    for (;;) {
      const m = got.find(pred);
      if (m) return m;
      if (Date.now() > stop)
        throw new Error(`timed out; got ${got.map((g) => g.split("\r\n")[0]).join(" | ")}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return { got, until };
}

async function tlsClient(host: string, p: number): Promise<TLSSocket> {
  const s = tlsConnect({ host, port: p, ca: mock.tlsCertificate, servername: "localhost" });
  await new Promise<void>((resolve, reject) => {
    s.once("secureConnect", () => resolve());
    s.once("error", reject);
  });
  return s;
}

const asRecv = (text: string) => ({ text, at: 0, bytes: Buffer.from(text, "latin1") });

describe("TLS", () => {
  it("the certificate verifies for localhost, 127.0.0.1, ::1 and the given name; its fingerprint is exposed", () => {
    expect(mock.tlsFingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(mock.tlsCertificate).toContain("BEGIN CERTIFICATE");
  });

  it.each([
    ["127.0.0.1", false],
    ["::1", true],
  ])(
    "over %s: 486 on the same connection, Via TLS with received, Contact transport=tls",
    async (host, v6) => {
      const p = port("tls", v6);
      const s = await tlsClient(host, p);
      const r = streamReader(s);
      const target = { host: v6 ? "[::1]" : host, port: p };
      s.write(request("INVITE", "486", target, { transport: "TLS", localPort: s.localPort ?? 0 }));
      const busy = await r.until((m) => m.startsWith("SIP/2.0 486"));
      expect(busy.split("\r\n")[0]).toBe("SIP/2.0 486 Busy Here");
      expect(header(asRecv(busy), "Via")).toMatch(
        new RegExp(`^SIP/2\\.0/TLS .*;received=${v6 ? "::1" : "127\\.0\\.0\\.1"}$`),
      );
      s.write(request("INVITE", "alice", target, { transport: "TLS", localPort: s.localPort ?? 0 }));
      const ok = await r.until((m) => m.startsWith("SIP/2.0 200"));
      expect(header(asRecv(ok), "Contact")).toBe(`<sip:sipmock@${v6 ? "[::1]" : host}:${p};transport=tls>`);
      s.end();
    },
  );

  it("a sips Request-URI gets a sips Contact (RFC 3261 12.1.1), without transport=tls (RFC 5630 3.2)", async () => {
    const p = port("tls");
    const s = await tlsClient("127.0.0.1", p);
    const r = streamReader(s);
    const text = request("INVITE", "alice", { host: "127.0.0.1", port: p }, { transport: "TLS" }).replace(
      /^INVITE sip:/,
      "INVITE sips:",
    );
    s.write(text);
    const ok = await r.until((m) => m.startsWith("SIP/2.0 200"));
    expect(header(asRecv(ok), "Contact")).toBe(`<sips:sipmock@127.0.0.1:${p}>`);
    s.end();
  });

  it("CRLF CRLF keep-alive gets a CRLF pong (RFC 5626 4.4.1)", async () => {
    const s = await tlsClient("127.0.0.1", port("tls"));
    const r = streamReader(s);
    s.write("\r\n\r\n");
    expect(await r.until((m) => m === "\r\n")).toBe("\r\n");
    s.end();
  });

  it("--cert/--key are used as given", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sipmock-cert-"));
    try {
      const m = await tlsMaterial({ hosts: ["given.example.test"] });
      writeFileSync(join(dir, "cert.pem"), m.cert);
      writeFileSync(join(dir, "key.pem"), m.key);
      await using other = await startSipMock({
        listen: ["tls:127.0.0.1:0"],
        logger: silentLogger,
        tls: { certFile: join(dir, "cert.pem"), keyFile: join(dir, "key.pem") },
      });
      expect(other.tlsFingerprint).toBe(m.fingerprint);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("sipsak (GnuTLS) gets its answers over TLS", async () => {
    await using m = await startSipMock({
      listen: ["tls:127.0.0.1:0"],
      logger: silentLogger,
      tls: { maxVersion: "TLSv1.2" },
    });
    const p = m.address("tls").port;
    const run = (user: string) =>
      new Promise<string>((resolve, reject) =>
        execFile(
          "sipsak",
          ["-E", "tls", "--tls-ignore-cert-failure", "-vv", "-s", `sip:${user}@127.0.0.1:${p}`],
          { timeout: 15_000 },
          (err, stdout, stderr) => {
            if (err && typeof err.code === "string")
              reject(new Error(`sipsak could not run (${err.code}); install it: apt-get install -y sipsak`));
            else resolve(`${stdout}${stderr}`);
          },
        ),
      );
    const busy = await run("486");
    expect(busy).toContain("SIP/2.0 486 Busy Here");
    expect(busy).toMatch(/Via: SIP\/2\.0\/TLS [^\n]*received=127\.0\.0\.1/);
    const ok = await run("bob");
    expect(ok).toContain("SIP/2.0 200 OK");
    expect(ok).toMatch(
      /Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, PRACK, UPDATE, INFO, MESSAGE, SUBSCRIBE, PUBLISH, REFER/,
    );
  });
});

/** A WebSocket client speaking SIP: each message is one frame. */
async function wsClient(url: string, protocols: string[] = ["sip"]) {
  const ws = new WebSocket(url, protocols, { ca: mock.tlsCertificate });
  const frames: Array<{ text: string; binary: boolean }> = [];
  ws.on("message", (d: Buffer, binary: boolean) => frames.push({ text: d.toString("latin1"), binary }));
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
    ws.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
  const until = async (pred: (m: string) => boolean, ms = 3000) => {
    const stop = Date.now() + ms;
    for (;;) {
      const m = frames.find((f) => pred(f.text));
      if (m) return m;
      if (Date.now() > stop) throw new Error("timed out");
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return { ws, frames, until };
}

let wsCount = 0;

function wsRequest(method: string, user: string, host: string, p: number, transport: "WS" | "WSS"): string {
  const n = ++wsCount;
  return [
    `${method} sip:${user}@${host}:${p};transport=${transport.toLowerCase()} SIP/2.0`,
    `Via: SIP/2.0/${transport} df7jal23ls0d.invalid;branch=z9hG4bK-ws-${n}-${method}-${user}-${p}`,
    "Max-Forwards: 70",
    `From: <sip:browser@example.test>;tag=w${p}`,
    `To: <sip:${user}@example.test>`,
    `Call-ID: ws-${n}-${method}-${user}-${p}@example.test`,
    `CSeq: 1 ${method}`,
    "Contact: <sip:browser@df7jal23ls0d.invalid;transport=ws>",
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");
}

describe("WebSocket (RFC 7118)", () => {
  it.each([
    ["ws", "127.0.0.1", false],
    ["ws", "[::1]", true],
    ["wss", "127.0.0.1", false],
    ["wss", "[::1]", true],
  ] as const)(
    "%s://%s: one SIP message per text frame, answers on the same connection, Via received",
    async (t, host, v6) => {
      const p = port(t, v6);
      const c = await wsClient(`${t}://${host}:${p}`);
      expect(c.ws.protocol).toBe("sip");
      c.ws.send(wsRequest("OPTIONS", "bob", host, p, t === "ws" ? "WS" : "WSS"));
      const ok = await c.until((m) => m.startsWith("SIP/2.0 200"));
      expect(ok.binary).toBe(false);
      expect(header(asRecv(ok.text), "Via")).toMatch(
        new RegExp(
          `^SIP/2\\.0/${t.toUpperCase()} df7jal23ls0d\\.invalid;branch=\\S+;received=${v6 ? "::1" : "127\\.0\\.0\\.1"}$`,
        ),
      );
      c.ws.send(wsRequest("INVITE", "486", host, p, t === "ws" ? "WS" : "WSS"));
      expect((await c.until((m) => m.startsWith("SIP/2.0 486"))).text.split("\r\n")[0]).toBe(
        "SIP/2.0 486 Busy Here",
      );
      c.ws.send(wsRequest("INVITE", "alice", host, p, t === "ws" ? "WS" : "WSS"));
      const answered = await c.until((m) => m.startsWith("SIP/2.0 200") && m.includes("CSeq: 1 INVITE"));
      // RFC 7118 5.2: only transport=ws exists; secure WebSocket is a sips URI.
      expect(header(asRecv(answered.text), "Contact")).toBe(
        t === "ws" ? `<sip:sipmock@${host}:${p};transport=ws>` : `<sips:sipmock@${host}:${p};transport=ws>`,
      );
      c.ws.close();
    },
  );

  it('refuses a handshake without the "sip" subprotocol (RFC 7118 4)', async () => {
    await expect(wsClient(`ws://127.0.0.1:${port("ws")}`, [])).rejects.toThrow(/HTTP 400/);
    await expect(wsClient(`ws://127.0.0.1:${port("ws")}`, ["xmpp"])).rejects.toThrow(/HTTP 400/);
  });

  it("answers WebSocket pings (keep-alive)", async () => {
    const c = await wsClient(`ws://127.0.0.1:${port("ws")}`);
    const pong = new Promise<Buffer>((r) => c.ws.once("pong", (d) => r(d)));
    c.ws.ping(Buffer.from("hello"));
    expect((await pong).toString()).toBe("hello");
    c.ws.close();
  });

  it("a malformed message in a frame gets 400 on the same connection", async () => {
    const p = port("ws");
    const c = await wsClient(`ws://127.0.0.1:${p}`);
    c.ws.send(wsRequest("OPTIONS", "bob", "127.0.0.1", p, "WS").replace(/Call-ID: [^\r]*\r\n/, ""));
    expect((await c.until((m) => m.startsWith("SIP/2.0 400"))).text.split("\r\n")[0]).toBe(
      "SIP/2.0 400 Bad Request: missing Call-ID header field",
    );
    c.ws.close();
  });
});

describe("every catalogued final code on every secure and WebSocket transport", () => {
  const finals = CATALOG.filter((c) => c.code >= 200);

  it.each(["ws", "wss"] as const)("%s", async (t) => {
    const p = port(t);
    const c = await wsClient(`${t}://127.0.0.1:${p}`);
    for (const info of finals) {
      c.ws.send(wsRequest("INVITE", String(info.code), "127.0.0.1", p, t === "ws" ? "WS" : "WSS"));
      const r = await c.until(
        (m) => m.startsWith(`SIP/2.0 ${info.code} `) && m.includes(`-${info.code}-${p}@`),
      );
      expect(r.text.split("\r\n")[0]).toBe(`SIP/2.0 ${info.code} ${info.reason}`);
      for (const h of info.required)
        expect(header(asRecv(r.text), h.name), `${info.code} ${h.name}`).toBeDefined();
    }
    c.ws.close();
  });

  it("tls", async () => {
    const p = port("tls");
    const s = await tlsClient("127.0.0.1", p);
    const r = streamReader(s);
    for (const info of finals) {
      s.write(
        request(
          "INVITE",
          String(info.code),
          { host: "127.0.0.1", port: p },
          { transport: "TLS", callId: `every-${info.code}@tls` },
        ),
      );
      const m = await r.until(
        (x) => x.startsWith(`SIP/2.0 ${info.code} `) && x.includes(`every-${info.code}@tls`),
      );
      expect(m.split("\r\n")[0]).toBe(`SIP/2.0 ${info.code} ${info.reason}`);
      for (const h of info.required)
        expect(header(asRecv(m), h.name), `${info.code} ${h.name}`).toBeDefined();
    }
    s.end();
  });
});
