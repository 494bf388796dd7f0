/**
 * SUBSCRIBE / NOTIFY (RFC 6665) on the deterministic harness: the initial
 * NOTIFY through a client transaction (Timer E retransmissions at exact
 * deadlines), the terminating NOTIFY with reason=timeout at exactly Expires,
 * unsubscribe, 489. The wall-clock version of the expiry test was in
 * test/integration/events.test.ts.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createHarness, type Harness, type HarnessOptions, req, res, toTag } from "../harness/harness.js";
import { invite, type Peer, peer, responseTo, subscribe } from "../harness/messages.js";
import type { Sent } from "../harness/wire.js";

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const notifies = () => h.sent({ method: "NOTIFY", request: true });
const state = (s: Sent) => req(s).headers.get("Subscription-State");

/** A new harness and alice's subscription to `pkg` for `expires` s, its first NOTIFY answered 200. */
async function subscribed(pkg: string, expires: number, options?: HarnessOptions): Promise<Peer> {
  h = await createHarness(options);
  const p = peer({ user: "alice" });
  await h.send(subscribe(p, pkg, expires));
  p.toTag = toTag(h.next({ method: "SUBSCRIBE" }));
  await h.send(responseTo(req(h.next({ method: "NOTIFY", request: true })), 200));
  return p;
}

describe("SUBSCRIBE / NOTIFY (RFC 6665)", () => {
  it("200 with Expires, an immediate NOTIFY retransmitted on Timer E until answered", async () => {
    h = await createHarness();
    const p = peer({ user: "alice" });
    await h.send(subscribe(p, "presence", 600));
    const ok = h.next({ method: "SUBSCRIBE" });
    expect(res(ok).status).toBe(200);
    expect(res(ok).headers.get("Expires")).toBe("600");
    const first = h.next({ method: "NOTIFY", request: true });
    expect(first.at).toBe(0);
    expect(state(first)).toBe("active;expires=600");
    expect(req(first).headers.get("Event")).toBe("presence");
    // 12.2.1.1: the NOTIFY is in the subscription's dialog.
    expect(req(first).headers.get("From")).toBe(`<sip:alice@127.0.0.1:5060>;tag=${toTag(ok)}`);
    await h.advance(1500);
    expect(notifies().map((s) => s.at)).toEqual([0, 500, 1500]);
    await h.send(responseTo(req(first), 200));
    await h.advance(30_000);
    expect(notifies()).toHaveLength(3);
  });

  it("expires with a terminating NOTIFY (reason=timeout) at exactly Expires", async () => {
    h = await createHarness();
    const p = peer({ user: "alice" });
    await h.send(subscribe(p, "presence", 60));
    h.next({ method: "SUBSCRIBE" });
    await h.send(responseTo(req(h.next({ method: "NOTIFY", request: true })), 200));
    await h.advance(59_999);
    expect(notifies()).toHaveLength(1);
    await h.advance(1);
    const end = h.next({ method: "NOTIFY", request: true });
    expect(end.at).toBe(60_000);
    expect(end.text).toMatch(/\r\nSubscription-State: terminated;reason=timeout\r\n/);
    expect(end.text).toMatch(/^NOTIFY sip:alice@192\.0\.2\.10:5062 SIP\/2\.0\r\n/);
    expect(req(end).headers.get("CSeq")).toBe("2 NOTIFY");
    await h.send(responseTo(req(end), 200));
    await h.advance(60_000);
    expect(notifies()).toHaveLength(2);
  });

  it("a refresh restarts the expiry", async () => {
    const p = await subscribed("dialog", 60);
    await h.advance(40_000);
    await h.send(subscribe(p, "dialog", 60));
    expect(res(h.next({ method: "SUBSCRIBE" })).status).toBe(200);
    const refreshed = h.next({ method: "NOTIFY", request: true });
    expect(state(refreshed)).toBe("active;expires=60");
    await h.send(responseTo(req(refreshed), 200));
    await h.advance(59_999);
    expect(notifies().filter((s) => /terminated/.test(state(s) ?? ""))).toEqual([]);
    await h.advance(1);
    expect(state(h.next({ method: "NOTIFY", request: true }))).toBe("terminated;reason=timeout");
  });

  it("Expires: 0 unsubscribes: 200, then a terminating NOTIFY from the mock's side of the dialog", async () => {
    const p = await subscribed("dialog", 600);
    await h.send(subscribe(p, "dialog", 0));
    expect(res(h.next({ method: "SUBSCRIBE" })).status).toBe(200);
    const end = h.next({ method: "NOTIFY", request: true });
    expect(state(end)).toMatch(/^terminated/);
    expect(req(end).headers.get("From")).toBe(`<sip:alice@127.0.0.1:5060>;tag=${p.toTag}`);
    // One terminating NOTIFY, not one from the handler and one from the response pipeline.
    await h.send(responseTo(req(end), 200));
    await h.advance(700_000);
    expect(notifies().filter((s) => /^terminated/.test(state(s) ?? ""))).toHaveLength(1);
  });

  it("an unsubscribe a scenario answers 2xx (dial-a-code sip:200@) ends the subscription too (RFC 6665 4.2.1.4)", async () => {
    const p = await subscribed("presence", 600);
    await h.send(subscribe(p, "presence", 0, { to: "200" }));
    expect(res(h.next({ method: "SUBSCRIBE" })).status).toBe(200);
    const end = h.next({ method: "NOTIFY", request: true });
    expect(state(end)).toBe("terminated;reason=timeout");
    await h.send(responseTo(req(end), 200));
    // Ended for good: nothing at Expires.
    await h.advance(700_000);
    expect(notifies()).toHaveLength(2);
  });

  it("an unsubscribe a scenario answers 486 (sip:486@) keeps the subscription running", async () => {
    const p = await subscribed("presence", 60);
    await h.send(subscribe(p, "presence", 0, { to: "486" }));
    expect(res(h.next({ method: "SUBSCRIBE" })).status).toBe(486);
    await h.advance(59_999);
    expect(notifies()).toHaveLength(1);
    await h.advance(1);
    expect(state(h.next({ method: "NOTIFY", request: true }))).toBe("terminated;reason=timeout");
  });

  it("with the budget spent, the unsubscribe let through stays the one in flight when another SUBSCRIBE of the dialog ends meanwhile", async () => {
    const p = await subscribed("presence", 600, { limits: { budgets: { transactions: 16_000 } } });
    // A refresh (CSeq 2), dropped: its transaction stays unanswered until 64*T1 (32 s).
    h.mock.override({ method: "SUBSCRIBE" }, { fault: { drop: true } }, { times: 1 });
    await h.send(subscribe(p, "presence", 600));
    await h.advance(10_000);
    // A ringing INVITE with a big header spends the transactions budget.
    const caller = peer({ user: "bob" });
    await h.send(invite(caller, { to: "180", headers: [`X-Pad: ${"p".repeat(3000)}`] }).text);
    expect(h.next({ status: 180 }).at).toBe(10_000);
    // The unsubscribe (CSeq 3) is let through, and dropped too: it is the one in flight.
    h.mock.override({ method: "SUBSCRIBE" }, { fault: { drop: true } }, { times: 1 });
    await h.send(subscribe(p, "presence", 0));
    expect(h.poll({ method: "SUBSCRIBE" })).toBeUndefined();
    // At 32 s the refresh's transaction ends: not the unsubscribe's, so the next one is refused.
    await h.advance(22_500);
    await h.send(subscribe(p, "presence", 0));
    expect(res(h.next({ method: "SUBSCRIBE" })).status).toBe(503);
    // Once the unsubscribe's own transaction has ended (42 s), the next is let through.
    await h.advance(10_000);
    await h.send(subscribe(p, "presence", 0));
    expect(res(h.next({ method: "SUBSCRIBE" })).status).toBe(200);
    expect(state(h.next({ method: "NOTIFY", request: true }))).toMatch(/^terminated/);
  });

  it("an unknown package gets 489 with Allow-Events", async () => {
    h = await createHarness();
    await h.send(subscribe(peer(), "weather", 60));
    const r = h.next({ method: "SUBSCRIBE" });
    expect(r.text.split("\r\n", 1)[0]).toBe("SIP/2.0 489 Bad Event");
    expect(res(r).headers.get("Allow-Events")).toBe("message-summary, presence, dialog");
  });

  it("a NOTIFY nobody answers ends the subscription at Timer F: no terminating NOTIFY later", async () => {
    h = await createHarness();
    await h.send(subscribe(peer({ user: "alice" }), "presence", 120));
    h.next({ method: "SUBSCRIBE" });
    await h.advance(32_000);
    const first = notifies();
    expect(first.map((s) => s.at)).toEqual([
      0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500,
    ]);
    await h.advance(200_000);
    expect(notifies()).toHaveLength(first.length);
  });
});
