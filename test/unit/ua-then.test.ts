/**
 * A scenario's `then:` list on the deterministic harness: after a rule
 * answered, the scripted requests go at exactly their `after` (a re-INVITE
 * to hold and a BYE in the call, a BYE that waits for the ACK, a NOTIFY, an
 * OPTIONS and an INVITE to a client that just registered, a NOTIFY in a
 * subscription). Moved from test/integration/scenario-then.test.ts, whose
 * assertions were wall-clock windows.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createHarness, type Harness, req, res, toTag } from "../harness/harness.js";
import { ack, invite, peer, register, responseTo, subscribe } from "../harness/messages.js";

const SCENARIO = `
name: scripted
messageSummary: { messagesWaiting: true, newMessages: 3, oldMessages: 1 }
rules:
  - name: voicemail heard
    match: { method: SUBSCRIBE }
    default: true
    then:
      - { after: 200ms, send: NOTIFY, messagesWaiting: false }
  - name: hang up at once
    match: { method: INVITE, requestUri: { user: "^quick$" } }
    respond: 200
    then: [ { send: BYE } ]
  - name: short call
    match: { method: INVITE, requestUri: { user: "^talk$" } }
    respond: 200
    body: sdp
    then:
      - { after: 300ms, send: re-INVITE, direction: sendonly }
      - { after: 800ms, send: BYE }
  - name: welcome
    match: { method: REGISTER }
    default: true
    then:
      - { after: 100ms, send: NOTIFY, messagesWaiting: true, newMessages: 1 }
      - { after: 200ms, send: OPTIONS }
      - { after: 300ms, send: INVITE, from: welcome, hangUpAfter: 300ms }
`;

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const requests = (method: string) => h.sent({ method, request: true });

describe("then:", () => {
  it("in the call: re-INVITE (hold) at exactly 300 ms, BYE at 800 ms after the 200", async () => {
    h = await createHarness({ scenario: SCENARIO });
    const p = peer({ user: "caller" });
    const inv = invite(p, { to: "talk" });
    await h.send(inv.text);
    const ok = h.next({ status: 200, method: "INVITE" });
    p.toTag = toTag(ok);
    await h.send(ack(p, inv, { to: "talk" }));
    await h.advance(299);
    expect(requests("INVITE")).toEqual([]);
    await h.advance(1);
    const reinviteSent = h.next({ method: "INVITE", request: true });
    expect(reinviteSent.at - ok.at).toBe(300);
    const reinvite = req(reinviteSent);
    expect(reinviteSent.text).toMatch(/\r\na=sendonly\r\n/);
    expect(reinvite.core.callId).toBe(p.callId);
    await h.send(responseTo(reinvite, 200));
    h.next({ method: "ACK", request: true });
    await h.advance(499);
    expect(requests("BYE")).toEqual([]);
    await h.advance(1);
    const byeSent = h.next({ method: "BYE", request: true });
    expect(byeSent.at - ok.at).toBe(800);
    const bye = req(byeSent);
    expect(bye.headers.get("Reason")).toMatch(/scripted by the scenario/);
    expect(bye.core.cseq.seq).toBe(reinvite.core.cseq.seq + 1);
    await h.send(responseTo(bye, 200));
  });

  it("then: BYE at once still waits for the ACK of the 200 (RFC 3261 15.1.1)", async () => {
    h = await createHarness({ scenario: SCENARIO });
    const p = peer({ user: "caller" });
    const inv = invite(p, { to: "quick" });
    await h.send(inv.text);
    p.toTag = toTag(h.next({ status: 200, method: "INVITE" }));
    await h.advance(3000);
    expect(requests("BYE")).toEqual([]);
    await h.send(ack(p, inv, { to: "quick" }));
    const bye = h.next({ method: "BYE", request: true });
    expect(bye.at).toBe(3000);
    await h.send(responseTo(req(bye), 200));
  });

  it("after a REGISTER: NOTIFY (message waiting) at 100 ms, OPTIONS at 200, an INVITE at 300 hung up 300 ms after its answer", async () => {
    h = await createHarness({ scenario: SCENARIO });
    const p = peer({ user: "newbie" });
    await h.send(register(p, 600));
    const registered = h.next({ method: "REGISTER", status: 200 });
    await h.advance(100);
    const notify = h.next({ method: "NOTIFY", request: true });
    expect(notify.at - registered.at).toBe(100);
    expect(notify.text).toMatch(
      /\r\n\r\nMessages-Waiting: yes\r\nMessage-Account: sip:newbie@127\.0\.0\.1\r\nVoice-Message: 1\/0\r\n$/,
    );
    await h.send(responseTo(req(notify), 200, { toTag: "n1" }));
    await h.advance(100);
    const options = h.next({ method: "OPTIONS", request: true });
    expect(options.at - registered.at).toBe(200);
    await h.send(responseTo(req(options), 200, { toTag: "n2" }));
    await h.advance(100);
    const inviteSent = h.next({ method: "INVITE", request: true });
    expect(inviteSent.at - registered.at).toBe(300);
    expect(req(inviteSent).headers.get("From")).toMatch(/^<sip:welcome@/);
    await h.advance(1000);
    const answeredAt = h.now();
    await h.send(responseTo(req(inviteSent), 200, { toTag: "n3", contact: "<sip:newbie@192.0.2.10:5062>" }));
    await h.advance(299);
    expect(requests("BYE")).toEqual([]);
    await h.advance(1);
    const bye = h.next({ method: "BYE", request: true });
    expect(bye.at - answeredAt).toBe(300);
    expect(req(bye).headers.get("To")).toBe("<sip:newbie@127.0.0.1>;tag=n3");
    await h.send(responseTo(req(bye), 200));
  });

  it("after a REGISTER over TCP (its transaction ends with the 200, Timer J = 0): the NOTIFY still goes at 100 ms", async () => {
    h = await createHarness({ scenario: SCENARIO });
    const p = peer({ user: "tcpuser", transport: "TCP" });
    await h.send(register(p, 600), { transport: "tcp" });
    const registered = h.next({ method: "REGISTER", status: 200 });
    await h.advance(100);
    const notify = h.next({ method: "NOTIFY", request: true });
    expect(notify.at - registered.at).toBe(100);
    expect(notify.flow.transport).toBe("tcp");
  });

  it("messageSummary: the first NOTIFY of a subscription; then: NOTIFY changes it in the subscription at 200 ms", async () => {
    h = await createHarness({ scenario: SCENARIO });
    const p = peer({ user: "vm" });
    await h.send(subscribe(p, "message-summary", 600));
    expect(res(h.next({ method: "SUBSCRIBE" })).status).toBe(200);
    const first = h.next({ method: "NOTIFY", request: true });
    expect(first.text.split("\r\n\r\n")[1]).toBe(
      "Messages-Waiting: yes\r\nMessage-Account: sip:vm@127.0.0.1\r\nVoice-Message: 3/1\r\n",
    );
    await h.send(responseTo(req(first), 200));
    await h.advance(199);
    expect(requests("NOTIFY")).toHaveLength(1);
    await h.advance(1);
    const second = h.next({ method: "NOTIFY", request: true });
    expect(second.at).toBe(200);
    expect(req(second).core.callId).toBe(p.callId);
    expect(second.text.split("\r\n\r\n")[1]).toBe(
      "Messages-Waiting: no\r\nMessage-Account: sip:vm@127.0.0.1\r\n",
    );
    await h.send(responseTo(req(second), 200));
  });
});
