/**
 * A non-INVITE request retransmitted over UDP while its transaction is
 * Completed (RFC 3261 17.2.2), by SIPp: the mock keeps such transactions in
 * its compact CompletedStore (issue 12), and must still answer each
 * retransmission with the very bytes of its final response until Timer J
 * (64*T1), after which the same request is a new transaction.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MessageEvent, type SipMock, silentLogger, startSipMock } from "../../src/index.js";
import { headerOfText, runSipp, statusOfText } from "../peers/sipp.js";

const T1 = 50;

let mock: SipMock;
const events: MessageEvent[] = [];

beforeAll(async () => {
  mock = await startSipMock({ listen: ["udp:127.0.0.1:0"], logger: silentLogger, timers: { t1: T1 } });
  mock.onMessage((e) => events.push(e));
});
afterAll(() => mock?.close());

/** One OPTIONS, always the same bytes (fixed branch, tags, Call-ID), as a retransmission is. */
const OPTIONS = `  <send>
    <![CDATA[
OPTIONS sip:bench@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK-rtx-[pid]-[call_number];rport
From: <sip:alice@[remote_ip]:[remote_port]>;tag=rtx[pid]
To: <sip:bench@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 OPTIONS
Max-Forwards: 70
Content-Length: 0

]]>
  </send>
`;

/**
 * OPTIONS, the same again twice while Completed, then again after Timer J
 * (64*T1 = 3.2 s). SIPp takes a response equal to the last one it received
 * as a retransmission and does not match a <recv> with it (it logs it):
 * the repeated ones are awaited with a pause.
 */
const SCENARIO = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="completed retransmissions">
${OPTIONS}  <recv response="200"/>
${OPTIONS}  <pause milliseconds="300"/>
${OPTIONS}  <pause milliseconds="${64 * T1 + 400}"/>
${OPTIONS}  <recv response="200"/>
</scenario>
`;

describe("SIPp retransmits an OPTIONS over UDP while its transaction is Completed", () => {
  it("gets the same 200, octet for octet, until Timer J; afterwards a new transaction answers", async () => {
    const r = await runSipp({
      scenarioXml: SCENARIO,
      target: `127.0.0.1:${mock.address("udp").port}`,
      transport: "u1",
      // No resend of its own (a response equal to the last one would make SIPp resend its request).
      extraArgs: ["-nr"],
      timeoutMs: 15_000,
    });
    expect(r.exitCode, r.summary).toBe(0);
    const oks = r.parsed.filter((m) => m.direction === "received" && statusOfText(m.text) === 200);
    expect(oks, r.messages).toHaveLength(4);
    // The first three: one response, the same bytes each time (SIPp's trace has them as received;
    // it notes those its scenario did not wait for after them).
    const sip = (t: string) => t.slice(0, t.indexOf("\r\n\r\n") + 4);
    expect(sip(oks[1]!.text)).toBe(sip(oks[0]!.text));
    expect(sip(oks[2]!.text)).toBe(sip(oks[0]!.text));
    // After Timer J: another transaction, another To tag.
    const tag = (t: string) => /;tag=([^;\s]+)/.exec(headerOfText(t, "To") ?? "")?.[1];
    expect(tag(oks[3]!.text)).toBeDefined();
    expect(tag(oks[3]!.text)).not.toBe(tag(oks[0]!.text));
    // The mock's own account: two of the four 200s were retransmissions, from the CompletedStore.
    const out = events.filter((e) => e.direction === "out" && e.summary.what.startsWith("200"));
    expect(out.map((e) => e.retransmission)).toEqual([false, true, true, false]);
    expect(out[1]!.bytes.equals(out[0]!.bytes)).toBe(true);
    expect(mock.activeTransactions).toBe(1);
  });
});

/**
 * Many calls, each retransmitted once while Completed: after the first, the
 * store keeps each 200 as the octets that differ from a template of its
 * length (ResponseArena's patches), and each must still come back whole.
 */
const EACH_ONCE_AGAIN = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="completed retransmissions, many calls">
${OPTIONS}  <recv response="200"/>
${OPTIONS}  <pause milliseconds="300"/>
</scenario>
`;

describe("SIPp retransmits each of 30 OPTIONS once while Completed", () => {
  it("gets each call's own 200 again, octet for octet", async () => {
    const r = await runSipp({
      scenarioXml: EACH_ONCE_AGAIN,
      target: `127.0.0.1:${mock.address("udp").port}`,
      transport: "u1",
      calls: 30,
      rate: 100,
      extraArgs: ["-nr"],
      timeoutMs: 15_000,
    });
    expect(r.exitCode, r.summary).toBe(0);
    const sip = (t: string) => t.slice(0, t.indexOf("\r\n\r\n") + 4);
    const byCall = new Map<string, string[]>();
    for (const m of r.parsed) {
      if (m.direction !== "received" || statusOfText(m.text) !== 200) continue;
      const id = headerOfText(m.text, "Call-ID") ?? "";
      byCall.set(id, [...(byCall.get(id) ?? []), sip(m.text)]);
    }
    expect(byCall.size, r.messages).toBe(30);
    const tags = new Set<string>();
    for (const [id, oks] of byCall) {
      expect(oks, id).toHaveLength(2);
      expect(oks[1], id).toBe(oks[0]);
      tags.add(/;tag=([^;\s]+)/.exec(headerOfText(oks[0]!, "To") ?? "")?.[1] ?? "");
    }
    // Thirty transactions, thirty To tags: the answers are each call's own, not a template's.
    expect(tags.size).toBe(30);
  });
});
