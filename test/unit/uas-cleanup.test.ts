/**
 * The exits of a server transaction's context (src/ua/server/context.ts)
 * on the deterministic harness: a dialog ending under a re-INVITE still
 * pending answers it 487 and cancels its plan (RFC 3261 15.1.2); the
 * shutdown answers ringing and dropped INVITEs first, then the ones whose
 * answer is planned, each 503 with Retry-After (21.5.4), and nothing
 * planned goes out afterwards.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createHarness, type Harness, res, toTag } from "../harness/harness.js";
import { ack, bye, invite, peer } from "../harness/messages.js";

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const SLOW_REINVITE = `name: slow re-INVITE
rules:
  - name: re-INVITE answered late
    match: { method: INVITE, headers: { To: "tag=" } }
    respond: 200
    delay: 10s
  - name: the rest
    default: true
`;

describe("a dialog ends under a pending re-INVITE (RFC 3261 15.1.2)", () => {
  it("the re-INVITE gets 487 with a Warning at the BYE, and its planned 200 never goes out", async () => {
    h = await createHarness({ scenario: SLOW_REINVITE });
    const p = peer();
    const inv = invite(p);
    await h.send(inv.text);
    p.toTag = toTag(h.next({ status: 200 }));
    await h.send(ack(p, inv));
    const reinvite = invite(p);
    await h.send(reinvite.text);
    const trying = h.sent({ status: 100 }).map((t) => res(t).headers.get("CSeq"));
    expect(trying).toEqual([`${inv.cseq} INVITE`, `${reinvite.cseq} INVITE`]);
    await h.advance(1000);
    await h.send(bye(p));
    const byeOk = h.next({ status: 200, cseqMethod: "BYE" });
    const terminated = h.next({ status: 487 });
    expect(byeOk.at).toBe(1000);
    expect(terminated.at).toBe(1000);
    expect(res(terminated).headers.get("CSeq")).toBe(`${reinvite.cseq} INVITE`);
    expect(res(terminated).headers.get("Warning")).toContain(
      "the dialog ended before this re-INVITE was answered",
    );
    await h.advance(20_000);
    expect(h.sent({ status: 200, cseqMethod: "INVITE" }).map((s) => res(s).headers.get("CSeq"))).toEqual([
      `${inv.cseq} INVITE`,
    ]);
  });
});

const SHUTDOWN = `name: shutdown
rules:
  - { name: ringing, match: { method: INVITE, requestUri: { user: "^ring$" } }, steps: [{ send: 180 }] }
  - { name: dropped, match: { method: INVITE, requestUri: { user: "^drop$" } }, fault: { drop: true } }
  - { name: planned, match: { method: INVITE, requestUri: { user: "^slow$" } }, respond: 486, delay: 10s }
`;

describe("shutdown (RFC 3261 21.5.4)", () => {
  it("503 with Retry-After to ringing and dropped INVITEs, then to the planned one; no 486 after", async () => {
    h = await createHarness({ scenario: SHUTDOWN });
    // Sent in this order: the planned one before the dropped one, which is answered first.
    const calls = { ring: peer(), slow: peer(), drop: peer() };
    for (const [to, p] of Object.entries(calls)) await h.send(invite(p, { to }).text);
    expect(h.sent({ response: true }).map((s) => res(s).status)).toEqual([100, 180, 100]);
    await h.mock.close(0);
    const unavailable = h.sent({ status: 503 });
    expect(unavailable.map((s) => s.message!.core.callId)).toEqual([
      calls.ring.callId,
      calls.drop.callId,
      calls.slow.callId,
    ]);
    for (const s of unavailable) {
      expect(res(s).headers.get("Retry-After")).toBe("5");
      expect(res(s).headers.get("Warning")).toContain("sipmock is shutting down");
    }
    await h.advance(20_000);
    expect(h.sent({ status: 486 })).toEqual([]);
  });
});
