/**
 * Session timers (RFC 4028) on the deterministic harness: negotiation, 422
 * below Min-SE, the BYE before expiry when the peer refreshes and does not,
 * the mock's own refresh at half the interval (UPDATE, else re-INVITE), its
 * retry after 491 and the end of the call when no refresh succeeds. The
 * wall-clock versions were in test/integration/mock-bye.test.ts.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { createHarness, type Harness, req, res, toTag } from "../harness/harness.js";
import { ack, invite, peer, responseTo } from "../harness/messages.js";

let h: Harness;
afterEach(async () => {
  vi.restoreAllMocks();
  await h?.close();
});

/** An answered, acknowledged call to alice; the peer is "caller" with an outbound (;ob) Contact. */
async function answeredCall(headers: string[], o: { acked?: boolean } = {}) {
  const p = peer({ user: "caller" });
  const inv = invite(p, { to: "alice", headers, sdp: false });
  await h.send(inv.text);
  const ok = h.next({ status: 200, method: "INVITE" });
  p.toTag = toTag(ok);
  if (o.acked !== false) await h.send(ack(p, inv, { to: "alice" }));
  return { p, inv, ok };
}

const isBye = { method: "BYE", request: true } as const;

describe("negotiation (RFC 4028 9)", () => {
  it("an interval below 90 s (or below the request's Min-SE) gets 422 with Min-SE", async () => {
    h = await createHarness();
    await h.send(invite(peer(), { to: "alice", headers: ["Session-Expires: 30"] }).text);
    const small = h.next({ method: "INVITE", where: (s) => s.text.startsWith("SIP/2.0 4") });
    expect(small.text.split("\r\n", 1)[0]).toBe("SIP/2.0 422 Session Interval Too Small");
    expect(res(small).headers.get("Min-SE")).toBe("90");
    await h.send(invite(peer(), { to: "alice", headers: ["Session-Expires: 100", "Min-SE: 120"] }).text);
    expect(res(h.next({ status: 422 })).headers.get("Min-SE")).toBe("120");
  });

  it("the 2xx carries Session-Expires with the refresher, and Require: timer when the UAC supports it", async () => {
    h = await createHarness();
    await h.send(
      invite(peer(), { to: "alice", headers: ["Session-Expires: 1800", "Supported: timer"] }).text,
    );
    const ok = res(h.next({ status: 200 }));
    expect(ok.headers.get("Session-Expires")).toBe("1800;refresher=uac");
    expect(ok.headers.get("Require")).toBe("timer");
    await h.send(invite(peer(), { to: "alice", headers: ["Session-Expires: 600"] }).text);
    const plain = res(h.next({ status: 200 }));
    expect(plain.headers.get("Session-Expires")).toBe("600;refresher=uas");
    expect(plain.headers.get("Require")).toBeUndefined();
  });
});

describe("the peer refreshes (RFC 4028 10)", () => {
  it("no refresh: BYE at SE - min(32, SE/3) after the 2xx, with a Reason", async () => {
    h = await createHarness({ minSE: 2 });
    const { ok } = await answeredCall(["Session-Expires: 3", "Supported: timer"]);
    expect(res(ok).headers.get("Session-Expires")).toBe("3;refresher=uac");
    // SE - min(32, SE/3) = 2 s.
    await h.advance(1999);
    expect(h.sent(isBye)).toEqual([]);
    await h.advance(1);
    const bye = h.next(isBye);
    expect(bye.at - ok.at).toBe(2000);
    expect(req(bye).headers.get("Reason")).toMatch(/RFC 4028/);
    await h.send(responseTo(req(bye), 200));
  });

  it("a refresh re-INVITE restarts the timer", async () => {
    h = await createHarness({ minSE: 2 });
    const { p, ok } = await answeredCall(["Session-Expires: 3", "Supported: timer"]);
    await h.advance(1200);
    const reinv = invite(p, { to: "alice", headers: ["Session-Expires: 3", "Supported: timer"] });
    await h.send(reinv.text);
    const refreshed = h.next({ status: 200, method: "INVITE" });
    expect(res(refreshed).headers.get("Session-Expires")).toBe("3;refresher=uac");
    await h.send(ack(p, reinv, { to: "alice" }));
    await h.advance(1999);
    expect(h.sent(isBye)).toEqual([]);
    await h.advance(1);
    const bye = h.next(isBye);
    // Two seconds after the refresh, not after the first 2xx.
    expect(bye.at - refreshed.at).toBe(2000);
    expect(bye.at - ok.at).toBe(3200);
  });
});

describe("the mock refreshes (RFC 4028 7.4)", () => {
  it("UPDATE at half the interval when the caller allows it, and again; 491 retried after the back-off; no success: BYE", async () => {
    h = await createHarness({ minSE: 2 });
    const { p, ok } = await answeredCall(["Session-Expires: 3", "Allow: INVITE, ACK, BYE, CANCEL, UPDATE"]);
    expect(res(ok).headers.get("Session-Expires")).toBe("3;refresher=uas");
    await h.advance(1499);
    expect(h.sent({ method: "UPDATE", request: true })).toEqual([]);
    await h.advance(1);
    const first = h.next({ method: "UPDATE", request: true });
    expect(first.at - ok.at).toBe(1500);
    const u1 = req(first);
    // In its own request the mock is the uac, and the refresher.
    expect(u1.headers.get("Session-Expires")).toBe("3;refresher=uac");
    expect(u1.headers.get("From")).toBe(`<sip:alice@127.0.0.1:5060>;tag=${p.toTag}`);
    expect(first.text.split("\r\n", 1)[0]).toBe("UPDATE sip:caller@192.0.2.10:5062 SIP/2.0");
    await h.send(responseTo(u1, 200, { headers: ["Session-Expires: 3;refresher=uac"] }));
    await h.advance(1500);
    const second = h.next({ method: "UPDATE", request: true });
    expect(second.at - first.at).toBe(1500);
    expect(req(second).core.cseq.seq).toBe(u1.core.cseq.seq + 1);
    expect(h.sent(isBye)).toEqual([]);
    // 491 (glare): retried after the 14.1 back-off (0-2 s for a dialog the peer began; Math.random is 0 here).
    vi.spyOn(Math, "random").mockReturnValue(0);
    await h.send(responseTo(req(second), 491));
    await h.advance(0);
    const third = h.next({ method: "UPDATE", request: true });
    expect(third.at - second.at).toBe(0);
    // A 500 is not the end of the session, but no refresh succeeded within
    // the interval: the refresher ends it before it expires.
    await h.send(responseTo(req(third), 500, { reason: "Server Internal Error" }));
    await h.advance(3000);
    const bye = h.next(isBye);
    expect(req(bye).headers.get("Reason")).toMatch(/session expired: no refresh succeeded within 3 s/);
    await h.send(responseTo(req(bye), 200));
  });

  it("without UPDATE in the caller's Allow, the refresh is a re-INVITE with an offer, acknowledged", async () => {
    h = await createHarness({ minSE: 2 });
    const { ok } = await answeredCall(["Session-Expires: 3"]);
    expect(res(ok).headers.get("Session-Expires")).toBe("3;refresher=uas");
    await h.advance(1500);
    const reinvite = h.next({ method: "INVITE", request: true });
    expect(reinvite.at - ok.at).toBe(1500);
    const r = req(reinvite);
    expect(r.headers.get("Session-Expires")).toBe("3;refresher=uac");
    expect(r.headers.get("Content-Type")).toBe("application/sdp");
    // RFC 3264 8: same session id as the 2xx's answer, version incremented.
    const o = (t: string) => /\r\no=\S+ (\d+) (\d+) /.exec(t)!;
    expect(o(reinvite.text)[1]).toBe(o(ok.text)[1]);
    expect(Number(o(reinvite.text)[2])).toBe(Number(o(ok.text)[2]) + 1);
    await h.send(responseTo(r, 200, { contact: "<sip:caller@192.0.2.10:5062>" }));
    const ackOf = req(h.next({ method: "ACK", request: true }));
    expect(ackOf.headers.get("CSeq")).toBe(`${r.core.cseq.seq} ACK`);
    // 13.2.2.4: the ACK has its own branch.
    expect(ackOf.headers.get("Via")).not.toBe(r.headers.get("Via"));
    expect(h.mock.bye(ok.message!.core.callId)).toBe(1);
  });
});
