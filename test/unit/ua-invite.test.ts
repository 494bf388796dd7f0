/**
 * The UAS's INVITE server side on the deterministic harness: answers, 2xx
 * and non-2xx retransmissions at exact deadlines (RFC 3261 17.2.1, 13.3.1.4),
 * Timer H, the BYE after an unacknowledged 2xx, CANCEL (9.2), the ring
 * timeout. T1 = 500 ms, T2 = 4 s (the RFC's defaults).
 */
import { afterEach, describe, expect, it } from "vitest";
import { createHarness, type Harness, req, res, toTag } from "../harness/harness.js";
import {
  ack,
  bye,
  cancel,
  invite,
  options,
  peer,
  request,
  responseTo,
  sdpOffer,
} from "../harness/messages.js";

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const T1 = 500;
/** Timer G / 2xx retransmissions: T1, doubling, capped at T2 = 4 s, until 64*T1 = 32 s. */
const RETRANSMISSIONS = [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500];

/** INVITE to sip:alice@ answered 200 and acknowledged: the peer's To tag set. */
async function answeredCall(p: ReturnType<typeof peer>): Promise<void> {
  const inv = invite(p, { to: "alice" });
  await h.send(inv.text);
  p.toTag = toTag(h.next({ status: 200 }));
  await h.send(ack(p, inv, { to: "alice" }));
}

/** The status of the answer to a BYE in the peer's dialog, sent to sip:USER@. */
async function byeStatus(p: ReturnType<typeof peer>, user: string): Promise<number> {
  await h.send(bye(p, { to: user }));
  return res(h.next({ method: "BYE" })).status;
}

describe("INVITE answered (RFC 3261 13.3.1.4)", () => {
  it("100, 180, 200 with an SDP answer; the 2xx at T1, 2T1, 4T1... until the ACK; BYE 200", async () => {
    h = await createHarness();
    const p = peer();
    // Moved from uas-wire: the offer lists G729 first, which the mock does not accept.
    const offer = sdpOffer()
      .replace("RTP/AVP 0 8 101", "RTP/AVP 18 8 0 101")
      .replace("a=rtpmap:0", "a=rtpmap:18 G729/8000\na=rtpmap:0");
    const inv = invite(p, { to: "alice", body: offer });
    await h.send(inv.text);
    expect(h.sent().map((s) => res(s).status)).toEqual([100, 180, 200]);
    const [trying, ringing, ok] = h.sent();
    expect(res(trying).core.to.tag).toBeUndefined();
    const tag = toTag(ok!);
    expect(res(ringing).core.to.tag).toBe(tag);
    expect(res(ok).headers.get("Contact")).toBe("<sip:sipmock@127.0.0.1:5060;transport=udp>");
    expect(res(ok).headers.get("Content-Type")).toBe("application/sdp");
    const body = res(ok).body.toString("latin1");
    expect(Number(res(ok).headers.get("Content-Length"))).toBe(Buffer.byteLength(body));
    // RFC 3264 6.1: the first offered codec accepted is PCMA; telephone-event kept.
    expect(body).toMatch(/\r\nm=audio [1-9][0-9]* RTP\/AVP 8 101\r\n/);
    expect(body).toContain("a=sendrecv");
    await h.advance(T1 - 1);
    expect(h.sent({ status: 200 })).toHaveLength(1);
    await h.advance(3500 - (T1 - 1));
    expect(h.sent({ status: 200 }).map((s) => s.at)).toEqual([0, 500, 1500, 3500]);
    expect(new Set(h.sent({ status: 200 }).map((s) => s.text)).size).toBe(1);
    p.toTag = tag;
    await h.send(ack(p, inv, { to: "alice" }));
    await h.advance(60_000);
    expect(h.sent({ status: 200 })).toHaveLength(4);
    expect(h.sent({ request: true })).toEqual([]);
    await h.send(bye(p, { to: "alice" }));
    expect(h.next({ method: "BYE" }).text.split("\r\n", 1)[0]).toBe("SIP/2.0 200 OK");
    expect(h.mock.activeDialogs).toBe(0);
  });

  it("a BYE a scenario rule answers 2xx ends the dialog too (15.1.2); one it answers 486 leaves it as told", async () => {
    h = await createHarness({ media: true });
    const p = peer();
    await answeredCall(p);
    expect(h.mock.activeDialogs).toBe(1);
    // The embedded default's dial-a-code: a BYE to sip:486@ gets 486, a BYE to sip:200@ gets 200.
    expect(await byeStatus(p, "486")).toBe(486);
    expect(h.mock.activeDialogs).toBe(1);
    expect(h.mock.trackedCalls).toBe(1);
    expect(await byeStatus(p, "200")).toBe(200);
    expect(h.mock.activeDialogs).toBe(0);
    expect(h.mock.trackedCalls).toBe(0);
    // The call is gone: the built-in handler answers another BYE 481.
    expect(await byeStatus(p, "alice")).toBe(481);
  });

  it("two dialogs of one Call-ID (two From tags): the call's media ends with the last one, not the first", async () => {
    h = await createHarness({ media: true });
    const a = peer();
    const b = { ...peer(), callId: a.callId };
    await answeredCall(a);
    await answeredCall(b);
    expect(h.mock.activeDialogs).toBe(2);
    expect(h.mock.trackedCalls).toBe(1);
    expect(await byeStatus(a, "alice")).toBe(200);
    expect(h.mock.activeDialogs).toBe(1);
    expect(h.mock.trackedCalls).toBe(1);
    expect(await byeStatus(b, "alice")).toBe(200);
    expect(h.mock.trackedCalls).toBe(0);
  });

  it("without an ACK: the 2xx until 64*T1, then BYE to the Contact with a Reason; answered, nothing more", async () => {
    h = await createHarness();
    const p = peer({ user: "caller" });
    const inv = invite(p, { to: "alice" });
    await h.send(inv.text);
    const tag = toTag(h.next({ status: 200 }));
    await h.advance(64 * T1 - 1);
    expect(h.sent({ status: 200 }).map((s) => s.at)).toEqual(RETRANSMISSIONS);
    expect(h.sent({ method: "BYE", request: true })).toEqual([]);
    await h.advance(1);
    const byeSent = h.next({ method: "BYE", request: true });
    expect(byeSent.at).toBe(64 * T1);
    const b = req(byeSent);
    expect(byeSent.text.split("\r\n", 1)[0]).toBe("BYE sip:caller@192.0.2.10:5062 SIP/2.0");
    expect(byeSent.to).toEqual(p.from);
    // 12.2.1.1: From is the mock's side (the INVITE's To with its tag), To the caller's.
    expect(b.headers.get("From")).toBe(`<sip:alice@127.0.0.1:5060>;tag=${tag}`);
    expect(b.headers.get("To")).toBe(`<sip:caller@example.test>;tag=${p.fromTag}`);
    expect(b.core.callId).toBe(p.callId);
    expect(b.headers.get("CSeq")).toMatch(/^\d+ BYE$/);
    expect(b.headers.get("Reason")).toMatch(/^SIP;text=".*13\.3\.1\.4.*"$/);
    expect(b.headers.get("Via")).toMatch(/^SIP\/2\.0\/UDP [^;]+;branch=z9hG4bK/);
    await h.send(responseTo(b, 200));
    await h.advance(64 * T1);
    expect(h.sent({ method: "BYE", request: true })).toHaveLength(1);
    expect(h.sent({ status: 200 }).filter((s) => s.at > byeSent.at)).toEqual([]);
    expect(h.mock.dialogs().some((d) => d.callId === p.callId)).toBe(false);
    expect(
      h.mock.journal.entries({ method: "BYE", direction: "out" }).some((e) => e.callId === p.callId),
    ).toBe(true);
    const answers = h.mock.journal
      .entries({ direction: "in" })
      .filter((e) => e.callId === p.callId && e.status === 200);
    expect(answers.map((e) => e.cseq)).toEqual([b.headers.get("CSeq")]);
  });

  it("the mock's BYE is retransmitted on Timer E (T1, doubling, capped at T2) until answered, given up on Timer F", async () => {
    h = await createHarness();
    const p = peer();
    await h.send(invite(p, { to: "alice" }).text);
    await h.advance(64 * T1);
    const byes = () => h.sent({ method: "BYE", request: true }).map((s) => s.at - 64 * T1);
    expect(byes()).toEqual([0]);
    await h.advance(64 * T1);
    // 17.1.2.2: E at 500, 1000, 2000, 4000, 4000...; F at 64*T1.
    expect(byes()).toEqual(RETRANSMISSIONS);
    expect(new Set(h.sent({ method: "BYE", request: true }).map((s) => s.text)).size).toBe(1);
    await h.advance(64 * T1);
    expect(byes()).toHaveLength(RETRANSMISSIONS.length);
  });
});

describe("INVITE rejected (Timer G, Timer H, 17.2.1)", () => {
  it("sip:486@: 100 then 486; without ACK the 486 exactly on Timer G until Timer H, all identical", async () => {
    h = await createHarness();
    const p = peer();
    await h.send(invite(p, { to: "486" }).text);
    expect(h.sent().map((s) => s.text.split("\r\n", 1)[0])).toEqual([
      "SIP/2.0 100 Trying",
      "SIP/2.0 486 Busy Here",
    ]);
    await h.advance(64 * T1 + 10_000);
    const finals = h.sent({ status: 486 });
    expect(finals.map((s) => s.at)).toEqual(RETRANSMISSIONS);
    expect(new Set(finals.map((f) => f.text)).size).toBe(1);
    expect(h.mock.activeTransactions).toBe(0);
  });

  it("the ACK stops Timer G; the transaction ends T4 later over UDP (Timer I)", async () => {
    h = await createHarness();
    const p = peer();
    const inv = invite(p, { to: "486" });
    await h.send(inv.text);
    p.toTag = toTag(h.next({ status: 486 }));
    await h.advance(1500);
    await h.send(ack(p, inv, { to: "486", for2xx: false }));
    expect(h.mock.activeTransactions).toBe(1);
    await h.advance(60_000);
    expect(h.sent({ status: 486 }).map((s) => s.at)).toEqual([0, 500, 1500]);
    expect(h.mock.activeTransactions).toBe(0);
  });

  it("frees every transaction once its timers have run (moved from uas-wire)", async () => {
    h = await createHarness();
    const p = peer();
    for (let i = 0; i < 20; i++) await h.send(options(p));
    for (let i = 0; i < 5; i++) await h.send(invite(peer(), { to: "486" }).text);
    expect(h.mock.activeTransactions).toBe(25);
    // Timer J (non-INVITE, UDP) and Timer H both at 64*T1.
    await h.advance(64 * T1 - 1);
    expect(h.mock.activeTransactions).toBe(25);
    await h.advance(1);
    expect(h.mock.activeTransactions).toBe(0);
  });
});

describe("CANCEL (RFC 3261 9.2)", () => {
  it("of a ringing INVITE: 200 to the CANCEL with the INVITE's To tag, 487 to the INVITE; the ACK ends it", async () => {
    h = await createHarness();
    const p = peer();
    const inv = invite(p, { to: "180" });
    await h.send(inv.text);
    const ringing = h.next({ status: 180 });
    await h.advance(2000);
    await h.send(cancel(p, inv, { to: "180" }));
    const cancelled = h.next({ method: "CANCEL", status: 200 });
    const terminated = h.next({ method: "INVITE", status: 487 });
    expect([cancelled.at, terminated.at]).toEqual([2000, 2000]);
    expect(toTag(cancelled)).toBe(toTag(ringing));
    expect(toTag(terminated)).toBe(toTag(ringing));
    p.toTag = toTag(terminated);
    await h.advance(T1);
    expect(h.sent({ status: 487 }).map((s) => s.at)).toEqual([2000, 2500]);
    await h.send(ack(p, inv, { to: "180", for2xx: false }));
    await h.advance(60_000);
    expect(h.sent({ status: 487 })).toHaveLength(2);
    expect(h.mock.activeTransactions).toBe(0);
  });

  it("a CANCEL that matches nothing gets 481", async () => {
    h = await createHarness();
    const p = peer();
    await h.send(cancel(p, invite(peer(), { to: "180" }), { to: "180" }));
    expect(res(h.next({ method: "CANCEL" })).status).toBe(481);
  });

  it("a ringing INVITE gets 480 at exactly the ring timeout", async () => {
    h = await createHarness({ ringTimeoutMs: 10_000 });
    const p = peer();
    await h.send(invite(p, { to: "180" }).text);
    await h.advance(9_999);
    expect(h.sent({ status: 480 })).toEqual([]);
    await h.advance(1);
    expect(h.next({ status: 480 }).at).toBe(10_000);
  });
});

describe("in a dialog", () => {
  it("a request with a lower CSeq gets 500; an unknown dialog 481", async () => {
    h = await createHarness();
    const p = peer();
    const inv = invite(p, { to: "alice" });
    await h.send(inv.text);
    p.toTag = toTag(h.next({ status: 200 }));
    await h.send(ack(p, inv, { to: "alice" }));
    await h.send(request(p, "INFO", { to: "alice", cseq: 5 }));
    expect(res(h.next({ method: "INFO" })).status).toBe(200);
    await h.send(request(p, "INFO", { to: "alice", cseq: 3 }));
    expect(res(h.next({ method: "INFO" })).status).toBe(500);
    await h.send(bye(p, { to: "alice", toTag: "nope" }));
    expect(res(h.next({ method: "BYE" })).status).toBe(481);
  });
});
