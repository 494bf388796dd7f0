import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SipMock, silentLogger, startSipMock } from "../../src/index.js";
import { parseDatagram } from "../../src/sip/parser.js";
import { header, request, statusOf, tcpClient, udpClient } from "../helpers/wire-client.js";

const SCENARIOS = join(import.meta.dirname, "..", "..", "scenarios");
const T1 = 100;
let mock: SipMock;
let udp: { host: string; port: number };
let tcp: { host: string; port: number };

beforeAll(async () => {
  mock = await startSipMock({
    listen: ["udp:127.0.0.1:0", "tcp:127.0.0.1:0"],
    scenario: [join(SCENARIOS, "faults.yaml"), join(SCENARIOS, "default.yaml")],
    logger: silentLogger,
    timers: { t1: T1 },
  });
  udp = { host: "127.0.0.1", port: mock.address("udp").port };
  tcp = { host: "127.0.0.1", port: mock.address("tcp").port };
});
afterAll(() => mock.close());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function udpExchange(user: string, waitMs = 300, opts: Parameters<typeof request>[3] = {}) {
  const c = await udpClient(udp);
  await c.send(request("INVITE", user, udp, { localPort: c.port, ...opts }));
  const got = await c.collect(waitMs);
  await c.close();
  return got;
}

describe("faults on the wire (scenarios/faults.yaml)", () => {
  it("garbage: 64 random octets instead of the answer (and its retransmissions), after 100 Trying", async () => {
    const got = await udpExchange("garbage");
    expect(got.map((r) => statusOf(r))[0]).toBe(100);
    const rest = got.slice(1);
    expect(rest.length).toBeGreaterThanOrEqual(1);
    for (const r of rest) {
      expect(r.bytes).toHaveLength(64);
      expect(r.bytes.equals(rest[0]!.bytes)).toBe(true);
    }
    expect(parseDatagram(rest[0]!.bytes).ok).toBe(false);
  });

  it("truncate: only the first 40 octets of the 486", async () => {
    const got = await udpExchange("truncated");
    const last = got[got.length - 1]!;
    expect(last.bytes).toHaveLength(40);
    expect(last.text.startsWith("SIP/2.0 486 Busy Here\r\nVia: SIP/2.0/UDP")).toBe(true);
    expect(parseDatagram(last.bytes).ok).toBe(false);
  });

  it("contentLength: 99 for a 5-octet body", async () => {
    const got = await udpExchange("badlength");
    const r = got.find((m) => statusOf(m) === 486)!;
    expect(header(r, "Content-Length")).toBe("99");
    expect(r.text.endsWith("\r\n\r\nhello")).toBe(true);
    const parsed = parseDatagram(r.bytes);
    expect(parsed.ok).toBe(false);
  });

  it("contentLength: missing", async () => {
    const got = await udpExchange("nolength");
    const r = got.find((m) => statusOf(m) === 486)!;
    expect(header(r, "Content-Length")).toBeUndefined();
    expect(r.text.endsWith("\r\n\r\nhello")).toBe(true);
  });

  it("malformed start line: no SP between version, code and reason", async () => {
    const got = await udpExchange("badstart");
    expect(got[got.length - 1]!.text.split("\r\n")[0]).toBe("SIP/2.0486Busy Here");
  });

  it("malformed header: CSeq without its colon", async () => {
    const got = await udpExchange("badheader");
    const last = got[got.length - 1]!.text;
    expect(last).toMatch(/\r\nCSeq 1 INVITE\r\n/);
    expect(last).not.toMatch(/\r\nCSeq:/);
  });

  it("omitHeaders: a 405 without its required Allow", async () => {
    const got = await udpExchange("noallow");
    const r = got.find((m) => statusOf(m) === 405)!;
    expect(r.text).not.toMatch(/\r\nAllow:/);
  });

  it("tcp close: the connection is closed (FIN) right after the 486", async () => {
    const c = await tcpClient(tcp);
    await c.send(request("INVITE", "close", tcp, { transport: "TCP", localPort: c.port }));
    await c.waitFor((m) => statusOf(m) === 486);
    await Promise.race([c.closed, sleep(2000).then(() => Promise.reject(new Error("not closed")))]);
  });

  it("tcp reset: the 486 arrives, then the connection is reset (RST)", async () => {
    const c = await tcpClient(tcp);
    const error = new Promise<string>((resolve) =>
      c.socket.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "")),
    );
    await c.send(request("INVITE", "reset", tcp, { transport: "TCP", localPort: c.port }));
    expect(await Promise.race([error, sleep(2000).then(() => "no error")])).toBe("ECONNRESET");
    expect(c.received.map(statusOf)).toContain(486);
  });
});
