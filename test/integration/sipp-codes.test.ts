/**
 * Every catalogued response code, seen by SIPp (an independent UAC): an
 * INVITE to sip:CODE@ gets 100 Trying and then exactly CODE with the
 * catalogue's reason phrase, its required (and default recommended) headers
 * and a To tag; the ACK stops the retransmissions. SIPp checks the response
 * itself (<ereg check_it>) and we re-check its message trace and what the
 * mock sent. Over UDP and over TCP.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CATALOG } from "../../src/catalog/index.js";
import type { ResponseCodeInfo } from "../../src/catalog/types.js";
import { type MessageEvent, type SipMock, silentLogger, startSipMock } from "../../src/index.js";
import {
  cancelScenario,
  cseqMethod,
  headerOfText,
  inBatches,
  inviteFinalScenario,
  runSipp,
  type SippMessage,
  type SippResult,
  statusOfText,
} from "../peers/sipp.js";

/** Short T1 so that Timer G (and the 2xx resend) would fire within 50 ms if the ACK were not matched. */
const T1 = 50;
const CONCURRENCY = 6;

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

const FINALS = CATALOG.filter((c) => c.code >= 200);
const PROVISIONALS = CATALOG.filter((c) => c.code === 180 || c.code === 183);

/** Header names a final response must carry: required plus recommended-by-default. */
function expectedHeaders(info: ResponseCodeInfo): string[] {
  return [
    ...info.required.map((h) => h.name),
    ...info.recommended.filter((h) => h.byDefault).map((h) => h.name),
  ];
}

function eventText(e: MessageEvent): string {
  return e.bytes.toString("latin1");
}

function received(r: SippResult): SippMessage[] {
  return r.parsed.filter((m) => m.direction === "received");
}

function sentRequest(r: SippResult, method: string): SippMessage | undefined {
  return r.parsed.find((m) => m.direction === "sent" && m.text.startsWith(`${method} `));
}

function branchOf(text: string): string | undefined {
  return /;branch=([^;\s]+)/.exec(headerOfText(text, "Via") ?? "")?.[1];
}

function toTagOf(text: string): string | undefined {
  return /;tag=([^;\s>]+)/.exec(headerOfText(text, "To") ?? "")?.[1];
}

/**
 * What the mock did for one call: every final response to the INVITE it
 * sent, and how many of them went out after the first ACK arrived.
 */
function mockView(callId: string, code: number) {
  const call = events.filter((e) => e.summary.callId === callId);
  const ackAt = call.findIndex((e) => e.direction === "in" && e.summary.what === "ACK");
  const finals = call
    .map((e, i) => ({ e, i }))
    .filter(
      ({ e }) =>
        e.direction === "out" &&
        e.summary.what.startsWith(`${code} `) &&
        cseqMethod(eventText(e)) === "INVITE",
    );
  return {
    ackSeen: ackAt >= 0,
    finalsSent: finals.length,
    sentAfterAck: ackAt < 0 ? finals.length : finals.filter(({ i }) => i > ackAt).length,
    flows: call.map((e) => `${e.direction} ${e.summary.what}${e.retransmission ? " (retransmission)" : ""}`),
  };
}

const settle = () => new Promise((r) => setTimeout(r, 6 * T1));

for (const transport of ["udp", "tcp"] as const) {
  describe(`every catalogued final code over ${transport.toUpperCase()}`, () => {
    const results = new Map<number, SippResult>();

    beforeAll(async () => {
      const target = `127.0.0.1:${mock.address(transport).port}`;
      const runs = await inBatches(
        CONCURRENCY,
        FINALS.map(
          (info) => () =>
            runSipp({
              scenarioXml: inviteFinalScenario(String(info.code), {
                code: info.code,
                reason: info.reason,
                headers: expectedHeaders(info),
              }),
              target,
              transport: transport === "udp" ? "u1" : "t1",
              timeoutMs: 8000,
            }),
        ),
      );
      for (const [i, info] of FINALS.entries()) results.set(info.code, runs[i]!);
      // Long enough for Timer G / the 2xx resend to have fired had the ACK not matched.
      await settle();
    }, 110_000);

    it("the catalogue has final codes to test, including the obsolete ones", () => {
      expect(FINALS.length).toBeGreaterThan(60);
      expect(FINALS.map((c) => c.code)).toEqual(expect.arrayContaining([200, 409, 411, 486, 503, 606]));
    });

    it.each(FINALS)(
      "INVITE to sip:$code@ gets exactly $code $reason with its headers, and the ACK stops retransmissions",
      (info) => {
        const { code, reason } = info;
        const r = results.get(code)!;
        // SIPp's own verdict: its <ereg check_it> checks passed and the call completed.
        expect(r.exitCode, r.summary).toBe(0);
        expect(r.stats.successful, r.summary).toBe(1);
        expect(r.stats.failed, r.summary).toBe(0);

        const invite = sentRequest(r, "INVITE");
        expect(invite, r.messages).toBeDefined();
        const callId = headerOfText(invite!.text, "Call-ID")!;
        const inviteResponses = received(r).filter((m) => cseqMethod(m.text) === "INVITE");
        const statuses = inviteResponses.map((m) => statusOfText(m.text));
        // 100 Trying first (17.2.1), then the code; nothing else in between.
        expect(statuses[0]).toBe(100);
        expect(statuses[1]).toBe(code);
        expect(statuses.slice(1).every((s) => s === code)).toBe(true);

        const final = inviteResponses[1]!.text;
        expect(final.split("\r\n")[0]).toBe(`SIP/2.0 ${code} ${reason}`);
        for (const name of expectedHeaders(info)) {
          expect(headerOfText(final, name), `${name} in\n${final}`).toBeDefined();
        }
        expect(toTagOf(final)).toMatch(/^\S+$/);
        expect(headerOfText(final, "Call-ID")).toBe(callId);
        if (code < 300) {
          expect(headerOfText(final, "Content-Type")).toBe("application/sdp");
          const bye = received(r).find((m) => cseqMethod(m.text) === "BYE");
          expect(bye?.text.split("\r\n")[0]).toBe("SIP/2.0 200 OK");
        }

        // SIPp sent the ACK; for a non-2xx, on the INVITE's branch (17.1.1.3).
        const ack = sentRequest(r, "ACK");
        expect(ack, r.messages).toBeDefined();
        expect(toTagOf(ack!.text)).toBe(toTagOf(final));
        if (code >= 300) expect(branchOf(ack!.text)).toBe(branchOf(invite!.text));
        else expect(branchOf(ack!.text)).not.toBe(branchOf(invite!.text));

        // The mock saw the ACK and sent the final response no more after it.
        const seen = mockView(callId, code);
        expect(seen.ackSeen, seen.flows.join("\n")).toBe(true);
        expect(seen.finalsSent, seen.flows.join("\n")).toBeGreaterThanOrEqual(1);
        expect(seen.sentAfterAck, seen.flows.join("\n")).toBe(0);
      },
    );
  });

  describe(`provisional codes over ${transport.toUpperCase()}`, () => {
    it.each(PROVISIONALS)(
      "INVITE to sip:$code@ rings with $code $reason until CANCEL: CANCEL 200, INVITE 487, ACK",
      async ({ code, reason }) => {
        const r = await runSipp({
          scenarioXml: cancelScenario(code, reason),
          target: `127.0.0.1:${mock.address(transport).port}`,
          transport: transport === "udp" ? "u1" : "t1",
          timeoutMs: 8000,
        });
        expect(r.exitCode, r.summary).toBe(0);
        const invite = sentRequest(r, "INVITE")!;
        const cancel = sentRequest(r, "CANCEL")!;
        expect(cancel, r.messages).toBeDefined();
        // The CANCEL SIPp sent really is on the INVITE's branch (9.1).
        expect(branchOf(cancel.text)).toBe(branchOf(invite.text));

        const got = received(r).map((m) => `${statusOfText(m.text)} ${cseqMethod(m.text)}`);
        expect(got).toEqual(["100 INVITE", `${code} INVITE`, "200 CANCEL", "487 INVITE"]);
        const msgs = received(r);
        expect(msgs[1]!.text.split("\r\n")[0]).toBe(`SIP/2.0 ${code} ${reason}`);
        if (code === 183) expect(headerOfText(msgs[1]!.text, "Content-Type")).toBe("application/sdp");
        // The 487 is in the same (early) dialog as the provisional.
        expect(toTagOf(msgs[3]!.text)).toBe(toTagOf(msgs[1]!.text));
        expect(msgs[3]!.text.split("\r\n")[0]).toBe("SIP/2.0 487 Request Terminated");

        await settle();
        const seen = mockView(headerOfText(invite.text, "Call-ID")!, 487);
        expect(seen.ackSeen, seen.flows.join("\n")).toBe(true);
        expect(seen.finalsSent, seen.flows.join("\n")).toBeGreaterThanOrEqual(1);
        expect(seen.sentAfterAck, seen.flows.join("\n")).toBe(0);
      },
    );
  });
}
