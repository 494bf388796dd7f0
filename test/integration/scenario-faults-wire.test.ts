/**
 * Every wire fault of scenarios/faults.yaml, observed byte for byte with our
 * raw client (SIPp cannot show a broken message exactly as it arrived).
 * dial-a-code (scenarios/default.yaml) is merged in for the control cases.
 */
import { createSocket, type RemoteInfo } from "node:dgram";
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

  it("duplicate: the final response three times at once (1 + 2 duplicates)", async () => {
    const got = await udpExchange("duplicate", T1 - 30);
    expect(got.filter((m) => statusOf(m) === 486)).toHaveLength(3);
  });

  it("noRetransmit: a non-2xx final over UDP is sent once, no Timer G; the control retransmits", async () => {
    const faulty = await udpExchange("noretransmit", 5 * T1);
    expect(faulty.filter((m) => statusOf(m) === 486)).toHaveLength(1);
    const control = await udpExchange("486", 5 * T1);
    expect(control.filter((m) => statusOf(m) === 486).length).toBeGreaterThanOrEqual(3);
  });

  it("afterRetransmissions: 2: silence until the second retransmission, then 100 and 486", async () => {
    const c = await udpClient(udp);
    const bytes = request("INVITE", "late", udp, { localPort: c.port });
    await c.send(bytes);
    expect(await c.collect(150)).toEqual([]);
    await c.send(bytes);
    expect(await c.collect(150)).toEqual([]);
    await c.send(bytes);
    const r = await c.waitFor((m) => statusOf(m) === 486);
    expect(c.received.map(statusOf).slice(0, 2)).toEqual([100, 486]);
    expect(header(r, "CSeq")).toBe("1 INVITE");
    await c.close();
  });

  it("delay: the 486 comes 200..400 ms after the 100 Trying", async () => {
    const c = await udpClient(udp);
    await c.send(request("INVITE", "slow", udp, { localPort: c.port }));
    const final = await c.waitFor((m) => statusOf(m) === 486, 2000);
    const trying = c.received.find((m) => statusOf(m) === 100)!;
    expect(final.at - trying.at).toBeGreaterThanOrEqual(190);
    await c.close();
  });

  it("fromOtherPort: the answer arrives from a port that is not the listener's", async () => {
    const socket = createSocket("udp4");
    await new Promise<void>((r) => socket.bind(0, "127.0.0.1", () => r()));
    const from: RemoteInfo[] = [];
    const texts: string[] = [];
    socket.on("message", (m, rinfo) => {
      from.push(rinfo);
      texts.push(m.toString("latin1"));
    });
    socket.send(
      request("INVITE", "otherport", udp, { localPort: socket.address().port }),
      udp.port,
      udp.host,
    );
    await sleep(300);
    socket.close();
    const i100 = texts.findIndex((t) => t.startsWith("SIP/2.0 100"));
    const i486 = texts.findIndex((t) => t.startsWith("SIP/2.0 486"));
    expect(from[i100]!.port).toBe(udp.port);
    expect(from[i486]!.port).not.toBe(udp.port);
  });

  it("omitHeaders: a 405 without its required Allow", async () => {
    const got = await udpExchange("noallow");
    const r = got.find((m) => statusOf(m) === 405)!;
    expect(r.text).not.toMatch(/\r\nAllow:/);
  });

  it("drop: nothing at all, not even 100 Trying; the transaction is freed after 64*T1", async () => {
    const c = await udpClient(udp);
    const bytes = request("INVITE", "drop", udp, { localPort: c.port });
    await c.send(bytes);
    await sleep(100);
    await c.send(bytes);
    expect(await c.collect(300)).toEqual([]);
    await c.close();
    const deadline = Date.now() + 64 * T1 + 2000;
    while (mock.activeTransactions > 0 && Date.now() < deadline) await sleep(100);
    expect(mock.activeTransactions).toBe(0);
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
