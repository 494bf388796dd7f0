/**
 * Dialogs on the deterministic harness (RFC 3261 12-15): the mock's BYE
 * waits for the ACK of its 2xx, a hang-up while the peer's re-INVITE waits,
 * the hang-up timer of the mock's own call across a hold re-INVITE, hold
 * answers, and the reliable transport's timers (no Timer G over TCP).
 * The timed cases were wall-clock tests in test/integration/dialogs.test.ts
 * and mock-requests.test.ts.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createHarness, type Harness, req, res, toTag } from "../harness/harness.js";
import { ack, invite, peer, register, responseTo, sdpOffer } from "../harness/messages.js";

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const T1 = 500;

describe("dialogs", () => {
  it("the mock's BYE waits for the ACK of its 2xx (15.1.1), then goes once", async () => {
    h = await createHarness();
    const p = peer({ user: "caller" });
    const inv = invite(p, { to: "alice" });
    await h.send(inv.text);
    p.toTag = toTag(h.next({ status: 200, method: "INVITE" }));
    expect(h.mock.bye(p.callId)).toBe(1);
    await h.advance(3000);
    expect(h.sent({ method: "BYE", request: true })).toEqual([]);
    await h.send(ack(p, inv, { to: "alice" }));
    const bye = h.next({ method: "BYE", request: true });
    expect(bye.at).toBe(3000);
    await h.send(responseTo(req(bye), 200));
    await h.advance(64 * T1);
    expect(
      h.mock.journal
        .entries({ method: "BYE", direction: "out", callId: p.callId })
        .filter((e) => !e.retransmission),
    ).toHaveLength(1);
  });

  it("the mock hangs up while the peer's re-INVITE waits: 487 for the re-INVITE (15.1.2), the dialog stays gone", async () => {
    h = await createHarness({
      scenario: `rules:
  - name: slow re-INVITE
    match: { method: INVITE, requestUri: { user: "^slow$" }, headers: { To: ";tag=" } }
    steps: [ { wait: 800ms }, { respond: 200 } ]
`,
    });
    const p = peer({ user: "caller" });
    const inv = invite(p, { to: "slow" });
    await h.send(inv.text);
    p.toTag = toTag(h.next({ status: 200, method: "INVITE" }));
    await h.send(ack(p, inv, { to: "slow" }));
    await h.send(invite(p, { to: "slow", body: sdpOffer("sendonly") }).text);
    await h.advance(200);
    expect(h.mock.bye(p.callId)).toBe(1);
    const bye = h.next({ method: "BYE", request: true });
    const terminated = h.next({
      cseqMethod: "INVITE",
      where: (s) =>
        s.message?.core.cseq.seq === 2 && s.message.kind === "response" && s.message.status >= 200,
    });
    expect(terminated.text.split("\r\n", 1)[0]).toBe("SIP/2.0 487 Request Terminated");
    expect(req(bye).core.callId).toBe(p.callId);
    // The scenario's delayed 200 never goes out, and no dialog comes back.
    await h.advance(900);
    expect(h.sent({ status: 200, method: "INVITE" }).filter((s) => s.message?.core.cseq.seq === 2)).toEqual(
      [],
    );
    expect(h.mock.dialogs().some((d) => d.callId === p.callId)).toBe(false);
  });

  it("a re-INVITE for hold is answered at once (no 180) with a=recvonly", async () => {
    h = await createHarness();
    const p = peer({ user: "caller" });
    const inv = invite(p, { to: "alice" });
    await h.send(inv.text);
    p.toTag = toTag(h.next({ status: 200, method: "INVITE" }));
    await h.send(ack(p, inv, { to: "alice" }));
    await h.send(invite(p, { to: "alice", body: sdpOffer("sendonly") }).text);
    // 100 Trying, then the 200 at once: no 180 in a dialog.
    const held = h.next({
      response: true,
      where: (s) => s.message?.core.cseq.seq === 2 && s.message.kind === "response" && s.message.status > 100,
    });
    expect(res(held).status).toBe(200);
    expect(held.at).toBe(0);
    expect(held.text).toMatch(/\r\na=recvonly\r\n/);
  });

  it("the hang-up timer of the mock's own call survives the client's hold re-INVITE", async () => {
    h = await createHarness();
    const p = peer({ user: "ida" });
    await h.send(register(p, 600));
    h.next({ method: "REGISTER" });
    const result = h.mock.call("ida", { hangUpAfterMs: 800 });
    await h.advance(0);
    const inv = req(h.next({ method: "INVITE", request: true }));
    await h.advance(100);
    await h.send(responseTo(inv, 200, { toTag: "ida1", contact: "<sip:ida@192.0.2.10:5062>" }));
    const outcome = await result;
    const answeredAt = h.now();
    h.next({ method: "ACK", request: true });
    // The client's hold: its own request in the mock's dialog (From/To swapped).
    const dialog = { ...p, callId: outcome.callId, fromTag: "ida1", toTag: inv.core.from.tag!, cseq: 0 };
    const mockSide = (text: string) => text.replace(/\nTo: [^\n]*/, `\nTo: ${inv.headers.get("From")}`);
    const target = /<([^>]+)>/.exec(inv.headers.get("Contact")!)![1]!;
    const holdInv = invite(dialog, { uri: target, body: sdpOffer("sendonly"), to: "sipmock" });
    await h.advance(300);
    await h.send(mockSide(holdInv.text));
    const held = h.next({ status: 200, where: (s) => s.message?.core.callId === outcome.callId });
    expect(held.text).toMatch(/\r\na=recvonly\r\n/);
    await h.send(mockSide(ack(dialog, holdInv, { to: "sipmock", uri: target })));
    await h.advance(499);
    expect(h.sent({ method: "BYE", request: true })).toEqual([]);
    await h.advance(1);
    const bye = h.next({ method: "BYE", request: true });
    expect(bye.at - answeredAt).toBe(800);
    expect(req(bye).headers.get("Reason")).toMatch(/scripted talk time/);
  });
});

describe("over TCP (RFC 3261 17.2.1: Timer G only for unreliable transports)", () => {
  it("the 486 is sent once and the transaction ends on the ACK (Timer I = 0)", async () => {
    h = await createHarness();
    const p = peer({ transport: "TCP" });
    const inv = invite(p, { to: "486" });
    await h.send(inv.text, { transport: "tcp" });
    const busy = h.next({ status: 486 });
    expect(busy.flow.transport).toBe("tcp");
    await h.advance(10_000);
    expect(h.sent({ status: 486 })).toHaveLength(1);
    p.toTag = toTag(busy);
    await h.send(ack(p, inv, { to: "486", for2xx: false }), { transport: "tcp" });
    expect(h.mock.activeTransactions).toBe(0);
  });

  it("the 2xx is retransmitted over TCP too until the ACK (13.3.1.4 is the UA's, not the transport's)", async () => {
    h = await createHarness();
    const p = peer({ transport: "TCP" });
    const inv = invite(p, { to: "alice" });
    await h.send(inv.text, { transport: "tcp" });
    p.toTag = toTag(h.next({ status: 200 }));
    await h.advance(1500);
    const copies = h.sent({ status: 200 }).map((s) => s.at);
    await h.send(ack(p, inv, { to: "alice" }), { transport: "tcp" });
    await h.advance(60_000);
    expect(h.sent({ status: 200 }).map((s) => s.at)).toEqual(copies);
    expect(copies[0]).toBe(0);
  });
});
