/**
 * The built-in flows seen by SIPp, over UDP and TCP: registration, OPTIONS,
 * an answered call with BYE, CANCEL while ringing; a UDP client that never
 * ACKs (Timer G retransmissions, then Timer H); and tshark's dissectors
 * judging the bytes on the wire.
 */
import { createSocket } from "node:dgram";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MessageEvent, type SipMock, silentLogger, startSipMock } from "../../src/index.js";
import {
  answeredCallScenario,
  cancelScenario,
  cseqMethod,
  headerOfText,
  noAckScenario,
  receivedResponses,
  requestScenario,
  runSipp,
  type SippResult,
  statusOfText,
} from "../peers/sipp.js";
import { problemFrames, sipFirstLines, startCapture } from "../peers/tshark.js";

const T1 = 50;
const ALLOW =
  "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, PRACK, UPDATE, INFO, MESSAGE, SUBSCRIBE, PUBLISH, REFER";

let mock: SipMock;
const events: MessageEvent[] = [];

beforeAll(async () => {
  mock = await startSipMock({
    listen: ["udp:127.0.0.1:0", "tcp:127.0.0.1:0"],
    logger: silentLogger,
    timers: { t1: T1, t4: 200 },
    ringTimeoutMs: 20_000,
  });
  mock.onMessage((e) => events.push(e));
});
afterAll(() => mock?.close());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function receivedFinal(r: SippResult, status: number, method: string): string {
  const m = r.parsed.find(
    (x) => x.direction === "received" && statusOfText(x.text) === status && cseqMethod(x.text) === method,
  );
  if (!m) throw new Error(`no ${status} to ${method} in SIPp's trace:\n${r.messages}`);
  return m.text;
}

for (const transport of ["udp", "tcp"] as const) {
  const sippTransport = transport === "udp" ? "u1" : "t1";
  const target = () => `127.0.0.1:${mock.address(transport).port}`;

  describe(`SIPp flows over ${transport.toUpperCase()}`, () => {
    it("REGISTER gets 200 with the binding's Contact and its expires", async () => {
      const r = await runSipp({
        scenarioXml: requestScenario("REGISTER", "carol", { code: 200, reason: "OK", headers: ["Contact"] }, [
          "Contact: <sip:carol@[local_ip]:[local_port];transport=[transport]>;expires=120",
        ]),
        target: target(),
        transport: sippTransport,
      });
      expect(r.exitCode, r.summary).toBe(0);
      expect(receivedResponses(r)).toEqual(["200 REGISTER"]);
      const ok = receivedFinal(r, 200, "REGISTER");
      // 10.3 step 8: the 200 lists every current binding of the AOR (the
      // other transport's run registered carol too); this run's is among them.
      const contact =
        ok
          .split("\r\n")
          .filter((l) => /^(Contact|m)\s*:/i.test(l))
          .map((l) => l.replace(/^[^:]*:\s*/, ""))
          .find((v) => v.includes(`:${r.localPort};`)) ?? "";
      expect(contact).toMatch(
        new RegExp(`^<sip:carol@127\\.0\\.0\\.1:${r.localPort};transport=${transport}>;expires=(\\d+)$`, "i"),
      );
      const expires = Number(/;expires=(\d+)/.exec(contact)![1]);
      expect(expires).toBeGreaterThan(0);
      expect(expires).toBeLessThanOrEqual(120);
      expect(headerOfText(ok, "To")).toMatch(/;tag=\S+/);
    });

    it("OPTIONS gets 200 with Allow", async () => {
      const r = await runSipp({
        scenarioXml: requestScenario("OPTIONS", "bob", { code: 200, reason: "OK", headers: ["Allow"] }),
        target: target(),
        transport: sippTransport,
      });
      expect(r.exitCode, r.summary).toBe(0);
      expect(receivedResponses(r)).toEqual(["200 OPTIONS"]);
      expect(headerOfText(receivedFinal(r, 200, "OPTIONS"), "Allow")).toBe(ALLOW);
    });

    it("INVITE to sip:alice@ gets 100, 180, 200 with SDP; ACK; BYE gets 200", async () => {
      const r = await runSipp({
        scenarioXml: answeredCallScenario("alice"),
        target: target(),
        transport: sippTransport,
      });
      expect(r.exitCode, r.summary).toBe(0);
      expect(receivedResponses(r)).toEqual(["100 INVITE", "180 INVITE", "200 INVITE", "200 BYE"]);
      const ok = receivedFinal(r, 200, "INVITE");
      expect(headerOfText(ok, "Content-Type")).toBe("application/sdp");
      const body = ok.slice(ok.indexOf("\r\n\r\n") + 4);
      expect(body).toMatch(/^v=0\r\n/);
      expect(body).toMatch(/\r\nm=audio \d+ RTP\/AVP [0-9 ]+\r\n/);
      const sent = r.parsed.filter((m) => m.direction === "sent").map((m) => m.text.split(" ")[0]);
      expect(sent).toEqual(["INVITE", "ACK", "BYE"]);
      // The BYE ended the dialog.
      await sleep(100);
      expect(mock.activeDialogs).toBe(0);
    });

    it("CANCEL while sip:180@ rings: 200 for the CANCEL, 487 for the INVITE, ACK", async () => {
      const r = await runSipp({
        scenarioXml: cancelScenario(180, "Ringing"),
        target: target(),
        transport: sippTransport,
      });
      expect(r.exitCode, r.summary).toBe(0);
      expect(receivedResponses(r)).toEqual(["100 INVITE", "180 INVITE", "200 CANCEL", "487 INVITE"]);
      expect(receivedFinal(r, 487, "INVITE").split("\r\n")[0]).toBe("SIP/2.0 487 Request Terminated");
      const sent = r.parsed.filter((m) => m.direction === "sent").map((m) => m.text.split(" ")[0]);
      expect(sent).toEqual(["INVITE", "CANCEL", "ACK"]);
    });

    it("tshark finds no malformed packet and no error-level expert info in a whole call", async () => {
      const port = mock.address(transport).port;
      const capture = await startCapture(port);
      try {
        const call = await runSipp({
          scenarioXml: answeredCallScenario("alice"),
          target: target(),
          transport: sippTransport,
        });
        const options = await runSipp({
          scenarioXml: requestScenario("OPTIONS", "bob", { code: 200, reason: "OK", headers: ["Allow"] }),
          target: target(),
          transport: sippTransport,
        });
        expect(call.exitCode, call.summary).toBe(0);
        expect(options.exitCode, options.summary).toBe(0);
        await sleep(300);
        await capture.stop();
        expect(problemFrames(capture.file, port)).toEqual([]);
        const lines = sipFirstLines(capture.file, port);
        expect(lines.length).toBeGreaterThanOrEqual(9);
        expect(lines).toEqual(
          expect.arrayContaining([
            expect.stringMatching(/^INVITE sip:alice@127\.0\.0\.1:\d+ SIP\/2\.0$/),
            "SIP/2.0 100 Trying",
            "SIP/2.0 180 Ringing",
            "SIP/2.0 200 OK",
            expect.stringMatching(/^ACK sip:/),
            expect.stringMatching(/^BYE sip:/),
            expect.stringMatching(/^OPTIONS sip:bob@/),
          ]),
        );
      } finally {
        await capture.stop();
        capture.dispose();
      }
    });
  });
}

describe("the tshark judge itself", () => {
  it("flags a SIP message tshark's dissector finds malformed, and decodes SIP on a non-5060 port", async () => {
    const probe = createSocket("udp4");
    await new Promise<void>((r) => probe.bind(0, "127.0.0.1", () => r()));
    const port = probe.address().port;
    const capture = await startCapture(port);
    try {
      const head = [
        "SIP/2.0 503 Service Unavailable",
        "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-judge",
        "From: <sip:a@127.0.0.1>;tag=1",
        "To: <sip:b@127.0.0.1>;tag=2",
        "Call-ID: judge",
        "CSeq: 1 OPTIONS",
      ];
      const good = [...head, "Retry-After: 5", "Content-Length: 0", "", ""].join("\r\n");
      const bad = [...head, "Retry-After: soon", "Content-Length: 0", "", ""].join("\r\n");
      for (const m of [good, bad]) await new Promise((r) => probe.send(m, port, "127.0.0.1", r));
      await sleep(300);
      await capture.stop();
      expect(sipFirstLines(capture.file, port)).toEqual([
        "SIP/2.0 503 Service Unavailable",
        "SIP/2.0 503 Service Unavailable",
      ]);
      expect(problemFrames(capture.file, port)).toEqual(["2\tInvalid retry_after value"]);
    } finally {
      await capture.stop();
      capture.dispose();
      probe.close();
    }
  });
});

describe("a UDP client that never ACKs a 486", () => {
  let lonely: SipMock;
  const seen: MessageEvent[] = [];

  beforeAll(async () => {
    lonely = await startSipMock({ listen: ["udp:127.0.0.1:0"], logger: silentLogger, timers: { t1: T1 } });
    lonely.onMessage((e) => seen.push(e));
  });
  afterAll(() => lonely?.close());

  it("gets the 486 retransmitted on Timer G, and the transaction ends on Timer H (64*T1)", async () => {
    const r = await runSipp({
      scenarioXml: noAckScenario(486, "Busy Here", 1200),
      target: `127.0.0.1:${lonely.address("udp").port}`,
      transport: "u1",
    });
    expect(r.exitCode, r.summary).toBe(0);
    const sends = () => seen.filter((e) => e.direction === "out" && e.summary.what === "486 Busy Here");
    const first = sends()[0];
    expect(first, seen.map((e) => `${e.direction} ${e.summary.what}`).join("\n")).toBeDefined();
    expect(first!.retransmission).toBe(false);
    // SIPp held on for 1.2 s: Timer G fired at T1, 3*T1, 7*T1, 15*T1 ... (17.2.1).
    const retransmittedToSipp = r.parsed.filter(
      (m) => m.direction === "received" && statusOfText(m.text) === 486,
    );
    expect(retransmittedToSipp.length - 1, r.messages).toBeGreaterThan(2);
    expect(sends().filter((e) => e.retransmission).length).toBeGreaterThan(2);
    // Still waiting for the ACK: Timer H has not fired yet.
    expect(lonely.activeTransactions).toBe(1);

    const deadline = first!.time + 64 * T1 + 3000;
    while (lonely.activeTransactions > 0 && Date.now() < deadline) await sleep(25);
    const endedAfter = Date.now() - first!.time;
    expect(lonely.activeTransactions).toBe(0);
    expect(endedAfter).toBeGreaterThanOrEqual(64 * T1 - 100);
    // Timer G doubles (T1, 2*T1, 4*T1 ... capped at T2 = 4 s) and never fires early;
    // sends stop once the transaction is gone.
    const times = sends().map((e) => e.time);
    const gaps = times.slice(1).map((t, k) => t - times[k]!);
    expect(gaps.length).toBeGreaterThan(4);
    for (const [k, gap] of gaps.entries())
      expect(gap, gaps.join(",")).toBeGreaterThanOrEqual(Math.min(T1 * 2 ** k, 4000) - 10);
    const total = sends().length;
    await sleep(4 * T1);
    expect(sends().length).toBe(total);
  }, 20_000);
});
