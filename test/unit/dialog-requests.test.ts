/**
 * The mock's own requests on a manual clock and an in-memory wire: the
 * dialog its INVITE makes (route set reversed, remote target from Contact,
 * RFC 3261 12.1.2), requests inside it (CSeq + 1 each, Route, target
 * refresh 12.2.1.2, 481 ends it), MWI NOTIFY with the injected clock, the
 * OPTIONS keep-alive, and the one serializer's header sanitising.
 */
import { describe, expect, it } from "vitest";
import { parseDatagram } from "../../src/sip/index.js";
import type { Subscription } from "../../src/ua/events.js";
import { UserAgentClient } from "../../src/ua/uac.js";
import { peerFlow, uaHarness } from "./dialog-fixtures.js";

async function answeredCall(h: ReturnType<typeof uaHarness>, extra: string[] = []) {
  h.register();
  const call = h.requests.call("alice", { from: "voicemail" });
  await h.settle();
  const [invite] = h.requestsOf("INVITE");
  await h.answer(invite!.request, 200, "OK", [
    "Record-Route: <sip:p2.example.test;lr>",
    "Record-Route: <sip:p1.example.test;lr>",
    "Contact: <sip:alice@10.0.0.2:5062;ob>",
    ...extra,
  ]);
  const result = await call;
  return { invite: invite!, result };
}

describe("the mock's INVITE and its dialog (12.1.2)", () => {
  it("the INVITE goes to the registered Contact; its 2xx is ACKed along the reversed Record-Route", async () => {
    const h = uaHarness();
    const { invite, result } = await answeredCall(h);
    expect(result.status).toBe(200);
    expect(invite.request.uri.raw).toBe("sip:alice@10.0.0.2:5062;transport=udp");
    expect(invite.request.headers.get("From")).toMatch(/^<sip:voicemail@127\.0\.0\.1>;tag=/);
    expect(invite.request.headers.get("CSeq")).toBe("1 INVITE");
    expect(invite.request.headers.get("Content-Type")).toBe("application/sdp");
    const [ack] = h.requestsOf("ACK");
    expect(ack!.request.uri.raw).toBe("sip:alice@10.0.0.2:5062;ob");
    expect(ack!.request.headers.getAll("Route")).toEqual([
      "<sip:p1.example.test;lr>",
      "<sip:p2.example.test;lr>",
    ]);
    expect(ack!.request.headers.get("CSeq")).toBe("1 ACK");
    expect(h.dialogs.list()).toEqual([
      expect.objectContaining({ callId: result.callId, remoteTag: "callee1", confirmed: true }),
    ]);
  });

  it("BYE, UPDATE and re-INVITE carry the route set and the next CSeq each; a 2xx Contact retargets (12.2.1.2)", async () => {
    const h = uaHarness();
    const { result } = await answeredCall(h);
    const updated = h.requests.update(result.callId);
    await h.settle();
    const [update] = h.requestsOf("UPDATE");
    expect(update!.request.headers.get("CSeq")).toBe("2 UPDATE");
    expect(update!.request.uri.raw).toBe("sip:alice@10.0.0.2:5062;ob");
    expect(update!.request.headers.getAll("Route")).toEqual([
      "<sip:p1.example.test;lr>",
      "<sip:p2.example.test;lr>",
    ]);
    await h.answer(update!.request, 200, "OK", ["Contact: <sip:alice@10.0.0.7:5070>"]);
    expect((await updated)[0]!.status).toBe(200);
    const held = h.requests.reinvite(result.callId, "sendonly");
    await h.settle();
    const [, reinvite] = h.requestsOf("INVITE");
    expect(reinvite!.request.headers.get("CSeq")).toBe("3 INVITE");
    expect(reinvite!.request.uri.raw).toBe("sip:alice@10.0.0.7:5070");
    expect(reinvite!.request.body.toString()).toMatch(/a=sendonly/);
    // 14.1: no second INVITE while this one is in progress.
    await expect(h.requests.reinvite(result.callId, "sendrecv")).rejects.toMatchObject({ kind: "conflict" });
    await h.answer(reinvite!.request, 200, "OK", []);
    expect((await held)[0]!.status).toBe(200);
    expect(h.requests.hangUp(result.callId, 'done "now"\r\n')).toBe(1);
    await h.settle();
    const [bye] = h.requestsOf("BYE");
    expect(bye!.request.headers.get("CSeq")).toBe("4 BYE");
    expect(bye!.request.uri.raw).toBe("sip:alice@10.0.0.7:5070");
    expect(bye!.request.headers.get("Reason")).toBe(`SIP;text="done 'now'''"`);
    expect(h.dialogs.size).toBe(0);
  });

  it("481 to a request in the dialog ends it (12.2.1.2)", async () => {
    const h = uaHarness();
    const { result } = await answeredCall(h);
    const updated = h.requests.update(result.callId);
    await h.settle();
    await h.answer(h.requestsOf("UPDATE")[0]!.request, 481, "Call/Transaction Does Not Exist");
    expect((await updated)[0]!.status).toBe(481);
    expect(h.dialogs.size).toBe(0);
    await expect(h.requests.update(result.callId)).rejects.toMatchObject({ kind: "not-found" });
  });

  it("hangUpAfterMs: BYE exactly that long after the answer", async () => {
    const h = uaHarness();
    h.register();
    const call = h.requests.call("alice", { hangUpAfterMs: 5000 });
    await h.settle();
    await h.answer(h.requestsOf("INVITE")[0]!.request, 200, "OK", ["Contact: <sip:alice@10.0.0.2:5062>"]);
    await call;
    const answeredAt = h.now;
    await h.advance(4900);
    expect(h.requestsOf("BYE")).toHaveLength(0);
    await h.advance(100);
    const [bye] = h.requestsOf("BYE");
    expect(bye!.at - answeredAt).toBe(5000);
    expect(bye!.request.headers.get("Reason")).toBe(
      'SIP;text="call ended by the mock after the scripted talk time"',
    );
  });
});

describe("requests to registered contacts", () => {
  it("MWI NOTIFY in a subscription: its expires comes from the injected clock (RFC 6665 4.1.3)", async () => {
    const sub = {
      key: "k",
      pkg: "message-summary",
      event: "message-summary",
      entity: "sip:alice@example.test",
      target: "sip:alice@10.0.0.2:5062",
      from: "<sip:alice@example.test>;tag=n1",
      to: "<sip:alice@example.test>;tag=s1",
      callId: "sub-1@10.0.0.2",
      routeSet: [],
      flow: peerFlow,
      cseq: 1,
      expiresAt: 5_000_000,
    } satisfies Subscription;
    const h = uaHarness({ subscriptions: [sub] });
    h.setWallClock(4_000_000);
    await h.requests.notifyMessageWaiting("alice", { waiting: true, newMessages: 2, oldMessages: 1 });
    h.setWallClock(4_999_400);
    await h.requests.notifyMessageWaiting("sip:alice@example.test", { waiting: false });
    expect(h.notified.map((n) => n.state)).toEqual(["active;expires=1000", "active;expires=1"]);
    expect(h.notified[0]!.body).toBe(
      "Messages-Waiting: yes\r\nMessage-Account: sip:alice@example.test\r\nVoice-Message: 2/1\r\n",
    );
  });

  it("MWI without a subscription: an unsolicited NOTIFY to every registered contact", async () => {
    const h = uaHarness();
    h.register();
    const sent = h.requests.notifyMessageWaiting("alice", { waiting: true });
    await h.settle();
    const [notify] = h.requestsOf("NOTIFY");
    expect(notify!.request.uri.raw).toBe("sip:alice@10.0.0.2:5062;transport=udp");
    expect(notify!.request.headers.get("Event")).toBe("message-summary");
    expect(notify!.request.headers.get("Subscription-State")).toBe("active");
    expect(notify!.request.headers.get("Contact")).toBe("<sip:sipmock@127.0.0.1:5060;transport=udp>");
    await h.answer(notify!.request, 200, "OK");
    expect((await sent).map((o) => o.status)).toEqual([200]);
  });

  it("keep-alive: OPTIONS at each interval; an unanswered contact is reported after Timer F", async () => {
    const h = uaHarness();
    h.register();
    const unanswered: Array<{ aor: string; status: number; at: number }> = [];
    const stop = h.requests.keepAlive(10_000, (aor, o) =>
      unanswered.push({ aor, status: o.status, at: h.now }),
    );
    await h.advance(9_900);
    expect(h.requestsOf("OPTIONS")).toHaveLength(0);
    await h.advance(100);
    const [first] = h.requestsOf("OPTIONS");
    expect(first!.at).toBe(10_000);
    expect(first!.request.headers.get("Accept")).toBe("application/sdp");
    await h.answer(first!.request, 200, "OK");
    await h.advance(10_000);
    expect(h.requestsOf("OPTIONS").map((s) => s.at)).toEqual([10_000, 20_000]);
    await h.advance(32_000);
    expect(unanswered[0]).toEqual({ aor: "sip:alice@example.test", status: 408, at: 52_000 });
    // Retransmissions (Timer E) aside, one OPTIONS per interval, none after stop().
    const pings = () => new Set(h.requestsOf("OPTIONS").map((s) => s.request.core.callId)).size;
    expect(pings()).toBe(5);
    stop();
    await h.advance(60_000);
    expect(pings()).toBe(5);
  });

  it("an unregistered user is not-found", async () => {
    const h = uaHarness();
    await expect(h.requests.ping("nobody")).rejects.toMatchObject({ kind: "not-found" });
    await expect(h.requests.call("nobody")).rejects.toMatchObject({ kind: "not-found" });
  });
});

describe("UserAgentClient.serialize: the one serializer (sip/serializer.ts)", () => {
  it("a header value cannot end its line early: CR, LF and NUL become a space", () => {
    const uac = new UserAgentClient({
      layer: () => {
        throw new Error("unused");
      },
      identity: () => ({ host: "127.0.0.1", port: 5060, transport: "udp" }),
      sendRaw: () => {},
      scheduler: undefined as never,
    });
    const bytes = uac.serialize(
      peerFlow,
      {
        method: "OPTIONS",
        requestUri: "sip:alice@10.0.0.2",
        from: "<sip:sipmock@127.0.0.1>;tag=1",
        to: "<sip:alice@example.test>",
        callId: "c1@h",
        cseq: 1,
        headers: [["Subject", "hi\r\nX-Injected: 1\0"]],
      },
      "z9hG4bK-s1",
    );
    const r = parseDatagram(bytes);
    expect(r.ok).toBe(true);
    if (!r.ok || r.message.kind !== "request") return;
    expect(r.message.headers.has("X-Injected")).toBe(false);
    expect(r.message.headers.get("Subject")).toBe("hi X-Injected: 1");
    expect(bytes.toString("latin1").split("\r\n").slice(0, 9)).toEqual([
      "OPTIONS sip:alice@10.0.0.2 SIP/2.0",
      "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-s1;rport",
      "Max-Forwards: 70",
      "From: <sip:sipmock@127.0.0.1>;tag=1",
      "To: <sip:alice@example.test>",
      "Call-ID: c1@h",
      "CSeq: 1 OPTIONS",
      "Subject: hi X-Injected: 1 ",
      "Content-Length: 0",
    ]);
  });
});
