/**
 * Requests the mock sends on its own (issue: mock-initiated requests), byte
 * by byte against our raw client playing the softphone: INVITE to a
 * registered client over the flow it registered on (UDP and TCP), with the
 * ACK for 2xx (13.2.2.4) and for failures (17.1.1.3), CANCEL (9.1), Timer
 * A/B; re-INVITE for hold and glare (491, 14.2); UPDATE; NOTIFY for message
 * waiting (RFC 3842) in a subscription and unsolicited; OPTIONS pings. The
 * journal records the client's answers. The timed cases (Timer A/B, CANCEL
 * timing, keep-alive interval) are on the deterministic harness:
 * test/unit/ua-mock-requests.test.ts.
 */
import { type AddressInfo, createServer, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MockRequestError, type SipMock, silentLogger, startAdmin, startSipMock } from "../../src/index.js";
import {
  ackFor,
  header,
  headerRows,
  type Received,
  request,
  responseTo,
  statusOf,
  tcpClient,
  udpClient,
  type WireClient,
} from "../helpers/wire-client.js";

let mock: SipMock;
let udp: { host: string; port: number };
let tcp: { host: string; port: number };
const T1 = 50;

beforeAll(async () => {
  mock = await startSipMock({
    listen: ["udp:127.0.0.1:0", "tcp:127.0.0.1:0"],
    logger: silentLogger,
    timers: { t1: T1 },
  });
  udp = { host: "127.0.0.1", port: mock.address("udp").port };
  tcp = { host: "127.0.0.1", port: mock.address("tcp").port };
});
afterAll(() => mock.close());

const firstLine = (r: Received) => r.text.split("\r\n")[0]!;
const isRequest = (method: string) => (r: Received) => r.text.startsWith(`${method} `);

async function register(
  c: WireClient,
  user: string,
  target: { host: string; port: number },
  transport: "UDP" | "TCP",
) {
  const contact = `<sip:${user}@127.0.0.1:${c.port}${transport === "TCP" ? ";transport=tcp" : ""}>`;
  await c.send(
    request("REGISTER", user, target, {
      transport,
      localPort: c.port,
      extra: [`Contact: ${contact}`, "Expires: 600"],
    }),
  );
  const ok = await c.waitFor((r) => statusOf(r) === 200 && /REGISTER/.test(header(r, "CSeq") ?? ""));
  expect(headerRows(ok, "Contact")).toHaveLength(1);
  return contact;
}

describe("INVITE to a registered client", () => {
  it("goes to the registered contact over UDP with an SDP offer; the 2xx is ACKed and makes a dialog; the client's BYE gets 200", async () => {
    const c = await udpClient(udp);
    try {
      await register(c, "bob", udp, "UDP");
      const result = mock.call("bob", { from: "voicemail" });
      const invite = await c.waitFor(isRequest("INVITE"));
      expect(firstLine(invite)).toBe(`INVITE sip:bob@127.0.0.1:${c.port} SIP/2.0`);
      expect(header(invite, "To")).toBe("<sip:bob@example.test>");
      expect(header(invite, "From")).toMatch(/^<sip:voicemail@127\.0\.0\.1>;tag=\w+$/);
      expect(header(invite, "CSeq")).toBe("1 INVITE");
      expect(header(invite, "Contact")).toMatch(/^<sip:sipmock@127\.0\.0\.1:\d+;transport=udp>$/);
      expect(header(invite, "Content-Type")).toBe("application/sdp");
      // Only what the mock encodes (PCMU, PCMA) and telephone-event: media is on.
      expect(invite.text).toMatch(/\r\nm=audio \d+ RTP\/AVP 0 8 101\r\n/);
      await c.send(responseTo(invite, 180, "Ringing", { toTag: "bob1" }));
      await c.send(
        responseTo(invite, 200, "OK", {
          toTag: "bob1",
          extra: [
            `Contact: <sip:bob@127.0.0.1:${c.port};line=1>`,
            "Record-Route: <sip:edge1.example.test;lr>",
            "Record-Route: <sip:edge2.example.test;lr>",
          ],
        }),
      );
      const outcome = await result;
      expect(outcome.status).toBe(200);
      expect(outcome.provisional).toEqual([180]);
      const ack = await c.waitFor(isRequest("ACK"));
      // 13.2.2.4 / 12.1.2: to the 2xx's Contact, with the Record-Route reversed, CSeq of the INVITE.
      expect(firstLine(ack)).toBe(`ACK sip:bob@127.0.0.1:${c.port};line=1 SIP/2.0`);
      expect(headerRows(ack, "Route")).toEqual([
        "<sip:edge2.example.test;lr>",
        "<sip:edge1.example.test;lr>",
      ]);
      expect(header(ack, "CSeq")).toBe("1 ACK");
      expect(header(ack, "To")).toBe("<sip:bob@example.test>;tag=bob1");
      expect(mock.dialogs()).toContainEqual(
        expect.objectContaining({ callId: outcome.callId, remoteTag: "bob1", confirmed: true }),
      );
      // A retransmitted 2xx is ACKed again (RFC 6026 7.2).
      await c.send(
        responseTo(invite, 200, "OK", {
          toTag: "bob1",
          extra: [`Contact: <sip:bob@127.0.0.1:${c.port};line=1>`],
        }),
      );
      await c.waitFor((r) => isRequest("ACK")(r) && r !== ack);
      // The client hangs up in the dialog the mock created.
      const bye = [
        `BYE sip:sipmock@127.0.0.1:${udp.port} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${c.port};branch=z9hG4bK-bob-bye;rport`,
        "Max-Forwards: 70",
        "From: <sip:bob@example.test>;tag=bob1",
        `To: ${header(invite, "From")}`,
        `Call-ID: ${outcome.callId}`,
        "CSeq: 1 BYE",
        "Content-Length: 0",
        "",
        "",
      ].join("\r\n");
      await c.send(bye);
      const ok = await c.waitFor((r) => statusOf(r) === 200 && header(r, "CSeq") === "1 BYE");
      expect(firstLine(ok)).toBe("SIP/2.0 200 OK");
      expect(mock.dialogs().some((d) => d.callId === outcome.callId)).toBe(false);
      // The journal has the client's answers to the mock's INVITE.
      const answers = mock.journal.entries({ direction: "in", callId: outcome.callId }).map((e) => e.status);
      expect(answers.filter((s) => s !== undefined)).toEqual([180, 200, 200]);
    } finally {
      await c.close();
    }
  });

  it("over the TCP connection the client registered on", async () => {
    const c = await tcpClient(tcp);
    try {
      await register(c, "carol", tcp, "TCP");
      const result = mock.call("sip:carol@example.test");
      const invite = await c.waitFor(isRequest("INVITE"));
      expect(header(invite, "Via")).toMatch(/^SIP\/2\.0\/TCP /);
      await c.send(responseTo(invite, 486, "Busy Here", { toTag: "carol1" }));
      expect((await result).status).toBe(486);
      // 17.1.1.3: the ACK for a failure is in the INVITE's transaction: same branch.
      const ack = await c.waitFor(isRequest("ACK"));
      expect(header(ack, "Via")).toBe(header(invite, "Via"));
      expect(header(ack, "To")).toBe("<sip:carol@example.test>;tag=carol1");
      expect(firstLine(ack)).toBe(firstLine(invite).replace("INVITE", "ACK"));
    } finally {
      await c.close();
    }
  });

  it("a failure over UDP is ACKed in its transaction, and its retransmission ACKed again", async () => {
    const c = await udpClient(udp);
    try {
      await register(c, "dan", udp, "UDP");
      const result = mock.call("dan");
      const invite = await c.waitFor(isRequest("INVITE"));
      const busy = responseTo(invite, 603, "Decline", { toTag: "dan1" });
      await c.send(busy);
      expect((await result).status).toBe(603);
      const ack = await c.waitFor(isRequest("ACK"));
      expect(header(ack, "Via")).toBe(header(invite, "Via"));
      await c.send(busy);
      await c.waitFor((r) => isRequest("ACK")(r) && r !== ack);
    } finally {
      await c.close();
    }
  });

  it("cancelAfterMs: CANCEL once ringing (same branch, 9.1), then the 487 is ACKed", async () => {
    const c = await udpClient(udp);
    try {
      await register(c, "erin", udp, "UDP");
      const result = mock.call("erin", { cancelAfterMs: 200 });
      const invite = await c.waitFor(isRequest("INVITE"));
      await c.send(responseTo(invite, 180, "Ringing", { toTag: "erin1" }));
      const cancel = await c.waitFor(isRequest("CANCEL"), 2000);
      expect(header(cancel, "Via")).toBe(header(invite, "Via"));
      expect(header(cancel, "CSeq")).toBe("1 CANCEL");
      expect(header(cancel, "To")).toBe(header(invite, "To"));
      expect(firstLine(cancel)).toBe(firstLine(invite).replace("INVITE", "CANCEL"));
      await c.send(responseTo(cancel, 200, "OK", { toTag: "erin1" }));
      await c.send(responseTo(invite, 487, "Request Terminated", { toTag: "erin1" }));
      const outcome = await result;
      expect(outcome.status).toBe(487);
      await c.waitFor(isRequest("ACK"));
    } finally {
      await c.close();
    }
  });

  it("over UDP, requests go to the Contact, not to the source port of the client (18.1.1)", async () => {
    const sender = await udpClient(udp);
    const listener = await udpClient(udp);
    try {
      // REGISTER from one socket, with the Contact of another.
      await sender.send(
        request("REGISTER", "jo", udp, {
          localPort: sender.port,
          extra: [`Contact: <sip:jo@127.0.0.1:${listener.port}>`, "Expires: 600"],
        }),
      );
      await sender.waitFor((r) => statusOf(r) === 200);
      const pending = mock.ping("jo");
      const options = await listener.waitFor(isRequest("OPTIONS"));
      await listener.send(responseTo(options, 200, "OK", { toTag: "jo1" }));
      expect((await pending)[0]!.status).toBe(200);
      expect(sender.received.filter(isRequest("OPTIONS"))).toHaveLength(0);
    } finally {
      await sender.close();
      await listener.close();
    }
  });

  it("a transport failure is a 503 at once (8.1.3.1), not a 408 after Timer F", async () => {
    const c = await tcpClient(tcp);
    await register(c, "kim", tcp, "TCP");
    await c.close();
    await c.closed;
    // The connection is gone and nothing listens at the Contact any more.
    const started = Date.now();
    const [outcome] = await mock.ping("kim");
    expect(outcome).toMatchObject({ status: 503, reason: "Service Unavailable" });
    expect(outcome!.transportError).toMatch(/ECONNREFUSED|closed/);
    expect(Date.now() - started).toBeLessThan(64 * T1);
  });

  it("an outbound (;ob) contact whose flow has closed: 430 Flow Failed, nothing sent to the Contact (RFC 5626 5.3)", async () => {
    // Something listens at the Contact's address: a fallback there would reach it.
    const accepted: Socket[] = [];
    const contactServer = createServer((s) => accepted.push(s));
    await new Promise<void>((r) => contactServer.listen(0, "127.0.0.1", () => r()));
    const contactPort = (contactServer.address() as AddressInfo).port;
    const c = await tcpClient(tcp);
    try {
      await c.send(
        request("REGISTER", "obi", tcp, {
          transport: "TCP",
          localPort: c.port,
          extra: [
            `Contact: <sip:obi@127.0.0.1:${contactPort};transport=tcp;ob>;reg-id=1;+sip.instance="<urn:uuid:00000000-0000-4000-8000-000000000001>"`,
            "Supported: outbound, path",
            "Expires: 600",
          ],
        }),
      );
      await c.waitFor((r) => statusOf(r) === 200 && /REGISTER/.test(header(r, "CSeq") ?? ""));
      // While the flow lives, the request takes it.
      const live = mock.ping("obi");
      const options = await c.waitFor(isRequest("OPTIONS"));
      await c.send(responseTo(options, 200, "OK", { toTag: "o1" }));
      expect((await live)[0]).toMatchObject({ status: 200 });
      await c.close();
      await c.closed;
      const [outcome] = await mock.ping("obi");
      expect(outcome).toMatchObject({ status: 430, reason: "Flow Failed" });
      expect(accepted).toHaveLength(0);
    } finally {
      await c.close();
      for (const s of accepted) s.destroy();
      await new Promise((r) => contactServer.close(r));
    }
  });

  it("a 2xx that crosses the mock's CANCEL is ACKed, then the call is ended with BYE", async () => {
    const c = await udpClient(udp);
    try {
      await register(c, "lou", udp, "UDP");
      const result = mock.call("lou", { cancelAfterMs: 100 });
      const invite = await c.waitFor(isRequest("INVITE"));
      await c.send(responseTo(invite, 180, "Ringing", { toTag: "lou1" }));
      const cancel = await c.waitFor(isRequest("CANCEL"));
      // The callee answered just before the CANCEL arrived.
      await c.send(
        responseTo(invite, 200, "OK", { toTag: "lou1", extra: [`Contact: <sip:lou@127.0.0.1:${c.port}>`] }),
      );
      await c.send(responseTo(cancel, 200, "OK", { toTag: "lou1" }));
      const outcome = await result;
      expect(outcome).toMatchObject({ status: 200, crossedCancel: true });
      await c.waitFor(isRequest("ACK"));
      const bye = await c.waitFor(isRequest("BYE"));
      expect(header(bye, "Reason")).toMatch(/answered after the mock cancelled/);
      await c.send(responseTo(bye, 200, "OK"));
    } finally {
      await c.close();
    }
  });

  it("a UDP client whose Via names another port (no rport): requests still go to its Contact", async () => {
    const c = await udpClient(udp);
    try {
      await c.send(
        request("REGISTER", "max", udp, {
          localPort: 5099,
          rport: false,
          extra: [`Contact: <sip:max@127.0.0.1:${c.port}>`, "Expires: 600"],
        }),
      );
      // The response goes to the Via's port (18.2.2), not here; the binding is made.
      await expect.poll(() => mock.registrations().some((r) => r.aor.includes("max"))).toBe(true);
      const pending = mock.ping("max");
      const options = await c.waitFor(isRequest("OPTIONS"));
      await c.send(responseTo(options, 200, "OK", { toTag: "m1" }));
      expect((await pending)[0]!.status).toBe(200);
    } finally {
      await c.close();
    }
  });

  it("in NAT mode (forceRport) requests follow the client's source address, not its Contact", async () => {
    const nat = await startSipMock({
      listen: ["udp:127.0.0.1:0"],
      logger: silentLogger,
      timers: { t1: T1 },
      forceRport: true,
    });
    const t = { host: "127.0.0.1", port: nat.address("udp").port };
    const sender = await udpClient(t);
    const elsewhere = await udpClient(t);
    try {
      // The Contact names a port the client does not read (a private address behind NAT, say).
      await sender.send(
        request("REGISTER", "ned", t, {
          localPort: sender.port,
          extra: [`Contact: <sip:ned@127.0.0.1:${elsewhere.port}>`, "Expires: 600"],
        }),
      );
      await sender.waitFor((r) => statusOf(r) === 200);
      const pending = nat.ping("ned");
      const options = await sender.waitFor(isRequest("OPTIONS"));
      expect(firstLine(options)).toBe(`OPTIONS sip:ned@127.0.0.1:${elsewhere.port} SIP/2.0`);
      await sender.send(responseTo(options, 200, "OK", { toTag: "n1" }));
      expect((await pending)[0]!.status).toBe(200);
      expect(elsewhere.received.filter(isRequest("OPTIONS"))).toHaveLength(0);
    } finally {
      await sender.close();
      await elsewhere.close();
      await nat.close();
    }
  });

  it("a dual-stack [::] listener reaches an IPv4 client at its Contact", async () => {
    const dual = await startSipMock({ listen: ["udp:[::]:0"], logger: silentLogger, timers: { t1: T1 } });
    const t = { host: "127.0.0.1", port: dual.address("udp").port };
    const c = await udpClient(t);
    try {
      await register(c, "nia", t, "UDP");
      const pending = dual.ping("nia");
      const options = await c.waitFor(isRequest("OPTIONS"));
      await c.send(responseTo(options, 200, "OK", { toTag: "n1" }));
      expect((await pending)[0]).toMatchObject({ status: 200 });
    } finally {
      await c.close();
      await dual.close();
    }
  });

  it("an AOR nobody registered is an error, not a request", async () => {
    await expect(mock.call("nobody")).rejects.toBeInstanceOf(MockRequestError);
    await expect(mock.ping("sip:nobody@example.test")).rejects.toThrow(/not registered/);
  });
});

/** A call from our client, answered by the mock: the dialog the in-dialog requests use. */
async function answeredCall(c: WireClient, callId: string) {
  await c.send(
    request("INVITE", "alice", udp, {
      localPort: c.port,
      callId,
      extra: [`Contact: <sip:caller@127.0.0.1:${c.port}>`, "Allow: INVITE, ACK, BYE, UPDATE"],
    }),
  );
  const ok = await c.waitFor((r) => statusOf(r) === 200 && header(r, "CSeq") === "1 INVITE");
  const toTag = /;tag=([^;>\s]+)/.exec(header(ok, "To") ?? "")![1]!;
  const from = header(ok, "From")!;
  await c.send(ackFor(ok, udp, { localPort: c.port }));
  await expect.poll(() => mock.dialogs().find((d) => d.callId === callId)?.confirmed).toBe(true);
  return { ok, toTag, from };
}

describe("in a dialog", () => {
  it("re-INVITE to hold (a=sendonly, o= version up), ACKed; an INVITE from the peer meanwhile gets 491", async () => {
    const c = await udpClient(udp);
    try {
      const callId = `hold-${process.pid}@example.test`;
      const { ok, toTag, from } = await answeredCall(c, callId);
      const pending = mock.reinvite(callId, "sendonly");
      const reinvite = await c.waitFor(isRequest("INVITE"));
      expect(firstLine(reinvite)).toBe(`INVITE sip:caller@127.0.0.1:${c.port} SIP/2.0`);
      expect(header(reinvite, "From")).toBe(`<sip:alice@example.test>;tag=${toTag}`);
      expect(header(reinvite, "To")).toBe(from);
      expect(reinvite.text).toMatch(/\r\na=sendonly\r\n/);
      const o = (t: string) => /\r\no=\S+ (\d+) (\d+) /.exec(t)!;
      expect(o(reinvite.text)[1]).toBe(o(ok.text)[1]);
      expect(Number(o(reinvite.text)[2])).toBe(Number(o(ok.text)[2]) + 1);
      // Glare: our client re-INVITEs while the mock's is pending (14.2).
      await c.send(
        request("INVITE", "alice", udp, {
          localPort: c.port,
          callId,
          cseq: 2,
          toTag,
          extra: [`Contact: <sip:caller@127.0.0.1:${c.port}>`],
        }).replace(/From: [^\r]*/, `From: ${from}`),
      );
      const glare = await c.waitFor((r) => header(r, "CSeq") === "2 INVITE" && statusOf(r) >= 200);
      expect(firstLine(glare)).toBe("SIP/2.0 491 Request Pending");
      await c.send(
        responseTo(reinvite, 200, "OK", {
          body: "v=0\r\no=c 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=recvonly\r\n",
          extra: ["Content-Type: application/sdp"],
        }),
      );
      expect((await pending).map((r) => r.status)).toEqual([200]);
      const ack = await c.waitFor(isRequest("ACK"));
      expect(header(ack, "CSeq")).toBe(`${header(reinvite, "CSeq")!.split(" ")[0]} ACK`);
      // A second re-INVITE resumes; its CSeq is one higher.
      const resume = mock.reinvite(callId, "sendrecv");
      const again = await c.waitFor((r) => isRequest("INVITE")(r) && r !== reinvite);
      expect(again.text).toMatch(/\r\na=sendrecv\r\n/);
      expect(Number(header(again, "CSeq")!.split(" ")[0])).toBe(
        Number(header(reinvite, "CSeq")!.split(" ")[0]) + 1,
      );
      await c.send(responseTo(again, 200, "OK"));
      expect((await resume)[0]!.status).toBe(200);
      expect(mock.bye(callId)).toBe(1);
    } finally {
      await c.close();
    }
  });

  it("re-INVITE with other codecs (a codec change); an unknown codec is refused before anything is sent", async () => {
    const c = await udpClient(udp);
    try {
      const callId = `codec-${process.pid}@example.test`;
      await answeredCall(c, callId);
      await expect(mock.reinvite(callId, { codecs: ["G729"] })).rejects.toThrow(/unknown codec "G729"/);
      const pending = mock.reinvite(callId, { codecs: ["PCMA", "PCMU"] });
      const reinvite = await c.waitFor(isRequest("INVITE"));
      expect(reinvite.text).toMatch(/\r\nm=audio \d+ RTP\/AVP 8 0 101\r\n/);
      expect(reinvite.text).toMatch(/\r\na=sendrecv\r\n/);
      expect(c.received.filter(isRequest("INVITE"))).toHaveLength(1);
      await c.send(responseTo(reinvite, 200, "OK"));
      expect((await pending)[0]!.status).toBe(200);
      expect(mock.bye(callId)).toBe(1);
    } finally {
      await c.close();
    }
  });

  it("a WebRTC dialog keeps its ICE credentials and fingerprint in the mock's re-offer (RFC 8839 4.4.1.1.1)", async () => {
    const c = await udpClient(udp);
    try {
      const callId = `webrtc-${process.pid}@example.test`;
      const offer = [
        "v=0",
        "o=- 1 1 IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
        "a=group:BUNDLE 0",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111 0",
        "c=IN IP4 0.0.0.0",
        "a=mid:0",
        "a=ice-ufrag:abcd",
        "a=ice-pwd:abcdefghijklmnopqrstuvwx",
        "a=fingerprint:sha-256 AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99",
        "a=setup:actpass",
        "a=rtcp-mux",
        "a=rtpmap:111 opus/48000/2",
        "a=rtpmap:0 PCMU/8000",
        "a=sendrecv",
        "",
      ].join("\r\n");
      await c.send(
        request("INVITE", "alice", udp, {
          localPort: c.port,
          callId,
          extra: [`Contact: <sip:caller@127.0.0.1:${c.port}>`, "Content-Type: application/sdp"],
          body: offer,
        }),
      );
      const ok = await c.waitFor((r) => statusOf(r) === 200 && header(r, "CSeq") === "1 INVITE");
      const ufrag = /\r\na=ice-ufrag:(\S+)/.exec(ok.text)?.[1];
      const fingerprint = /\r\na=fingerprint:(.+)\r\n/.exec(ok.text)?.[1];
      expect(ufrag).toBeDefined();
      await c.send(ackFor(ok, udp, { localPort: c.port }));
      const pending = mock.reinvite(callId, "sendonly");
      const reinvite = await c.waitFor(isRequest("INVITE"));
      expect(reinvite.text).toContain(`\r\na=ice-ufrag:${ufrag}\r\n`);
      expect(reinvite.text).toContain(`\r\na=fingerprint:${fingerprint}\r\n`);
      await c.send(responseTo(reinvite, 200, "OK"));
      expect((await pending)[0]!.status).toBe(200);
      expect(mock.bye(callId)).toBe(1);
    } finally {
      await c.close();
    }
  });

  it("UPDATE; a 481 answer ends the dialog (12.2.1.2)", async () => {
    const c = await udpClient(udp);
    try {
      const callId = `update-${process.pid}@example.test`;
      await answeredCall(c, callId);
      const pending = mock.update(callId);
      const update = await c.waitFor(isRequest("UPDATE"));
      expect(header(update, "Contact")).toMatch(/^<sip:sipmock@/);
      await c.send(responseTo(update, 481, "Call/Transaction Does Not Exist"));
      expect((await pending)[0]!.status).toBe(481);
      expect(mock.dialogs().some((d) => d.callId === callId)).toBe(false);
      await expect(mock.update(callId)).rejects.toThrow(/no dialog/);
    } finally {
      await c.close();
    }
  });
});

describe("message waiting and pings", () => {
  it("unsolicited NOTIFY message-summary to the registered contact (RFC 3842 body)", async () => {
    const c = await udpClient(udp);
    try {
      await register(c, "gus", udp, "UDP");
      const pending = mock.notifyMessageWaiting("gus", { waiting: true, newMessages: 2, oldMessages: 8 });
      const notify = await c.waitFor(isRequest("NOTIFY"));
      expect(firstLine(notify)).toBe(`NOTIFY sip:gus@127.0.0.1:${c.port} SIP/2.0`);
      expect(header(notify, "Event")).toBe("message-summary");
      expect(header(notify, "Subscription-State")).toBe("active");
      expect(header(notify, "Contact")).toMatch(/^<sip:sipmock@127\.0\.0\.1:\d+;transport=udp>$/);
      expect(header(notify, "Content-Type")).toBe("application/simple-message-summary");
      expect(notify.text.split("\r\n\r\n")[1]).toBe(
        "Messages-Waiting: yes\r\nMessage-Account: sip:gus@example.test\r\nVoice-Message: 2/8\r\n",
      );
      await c.send(responseTo(notify, 200, "OK", { toTag: "gus1" }));
      expect((await pending).map((r) => [r.status, r.contact])).toEqual([
        [200, `sip:gus@127.0.0.1:${c.port}`],
      ]);
    } finally {
      await c.close();
    }
  });

  it("in a message-summary subscription, the NOTIFY goes in its dialog", async () => {
    const c = await udpClient(udp);
    try {
      await c.send(
        request("SUBSCRIBE", "hal", udp, {
          localPort: c.port,
          callId: `mwi-sub-${process.pid}`,
          extra: ["Event: message-summary", "Expires: 600", `Contact: <sip:hal@127.0.0.1:${c.port}>`],
        }),
      );
      const ok = await c.waitFor((r) => statusOf(r) === 200);
      const first = await c.waitFor(isRequest("NOTIFY"));
      await c.send(responseTo(first, 200, "OK"));
      const pending = mock.notifyMessageWaiting("hal", { waiting: false });
      const notify = await c.waitFor((r) => isRequest("NOTIFY")(r) && r !== first);
      expect(header(notify, "Call-ID")).toBe(`mwi-sub-${process.pid}`);
      expect(header(notify, "From")).toBe(header(ok, "To"));
      expect(header(notify, "Subscription-State")).toMatch(/^active;expires=\d+$/);
      expect(notify.text.split("\r\n\r\n")[1]).toBe(
        "Messages-Waiting: no\r\nMessage-Account: sip:hal@example.test\r\n",
      );
      await c.send(responseTo(notify, 200, "OK"));
      expect((await pending)[0]!.status).toBe(200);
    } finally {
      await c.close();
    }
  });

  it("OPTIONS ping to every registered contact; each answer is reported and journaled", async () => {
    const c = await udpClient(udp);
    try {
      await register(c, "ivy", udp, "UDP");
      const pending = mock.ping("ivy");
      const options = await c.waitFor(isRequest("OPTIONS"));
      expect(header(options, "Accept")).toBe("application/sdp");
      await c.send(responseTo(options, 200, "OK", { toTag: "ivy1", extra: ["Allow: INVITE, ACK, BYE"] }));
      const [answer] = await pending;
      expect(answer).toMatchObject({ status: 200, contact: `sip:ivy@127.0.0.1:${c.port}` });
      const callId = header(options, "Call-ID")!;
      expect(mock.journal.entries({ callId }).map((e) => `${e.direction} ${e.method ?? e.status}`)).toEqual([
        "out OPTIONS",
        "in 200",
      ]);
    } finally {
      await c.close();
    }
  });
});

describe("admin HTTP", () => {
  it("POST /calls/{callId}/update answers with the outcomes; bad bodies are 400 problems", async () => {
    const admin = await startAdmin(mock, { port: 0 });
    const c = await udpClient(udp);
    try {
      const callId = `admin-update-${process.pid}@example.test`;
      await answeredCall(c, callId);
      const post = (path: string, body?: unknown) =>
        fetch(`${admin.url}${path}`, {
          method: "POST",
          ...(body !== undefined
            ? { body: JSON.stringify(body), headers: { "content-type": "application/json" } }
            : {}),
        });
      const pending = post(`/__admin/calls/${encodeURIComponent(callId)}/update`);
      const update = await c.waitFor(isRequest("UPDATE"));
      await c.send(responseTo(update, 200, "OK"));
      const res = await pending;
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual([{ status: 200, reason: "OK" }]);
      for (const [path, body, detail] of [
        [
          `/__admin/calls/${encodeURIComponent(callId)}/reinvite`,
          { direction: "sideways" },
          /direction must be one of/,
        ],
        [
          `/__admin/calls/${encodeURIComponent(callId)}/reinvite`,
          { codecs: ["G729"] },
          /unknown codec "G729"/,
        ],
        [
          `/__admin/calls/${encodeURIComponent(callId)}/reinvite`,
          { codecs: "PCMA" },
          /codecs must be a list/,
        ],
        ["/__admin/registrations/anyone/notify", {}, /give "waiting": true or false/],
        ["/__admin/registrations/anyone/notify", { waiting: true, new: -1 }, /new must be a whole number/],
        ["/__admin/registrations/anyone/call", { cancelAfter: "soon" }, /cancelAfter must be milliseconds/],
      ] as const) {
        const bad = await post(path, body);
        expect(bad.status, path).toBe(400);
        expect(bad.headers.get("content-type")).toMatch(/^application\/problem\+json/);
        expect(((await bad.json()) as { detail: string }).detail).toMatch(detail);
      }
      expect(mock.bye(callId)).toBe(1);
    } finally {
      await c.close();
      await admin.close();
    }
  });
});

describe("the peer's session description", () => {
  it("is the INVITE's offer, or the ACK's answer when the 2xx offered; an ACK without the answer is logged (13.2.1)", async () => {
    const warnings: string[] = [];
    const logged = await startSipMock({
      listen: ["udp:127.0.0.1:0"],
      logger: { ...silentLogger, warn: (m: string) => warnings.push(m) },
    });
    const t = { host: "127.0.0.1", port: logged.address("udp").port };
    const c = await udpClient(t);
    try {
      const answer =
        "v=0\r\no=c 7 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4002 RTP/AVP 8\r\n";
      const offer =
        "v=0\r\no=c 9 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4004 RTP/AVP 0\r\n";
      await c.send(
        request("INVITE", "alice", t, {
          localPort: c.port,
          callId: `offer-${process.pid}`,
          extra: ["Content-Type: application/sdp"],
          body: offer,
        }),
      );
      const answered = await c.waitFor(
        (r) => statusOf(r) === 200 && header(r, "Call-ID") === `offer-${process.pid}`,
      );
      expect(logged.dialogs().find((d) => d.callId === `offer-${process.pid}`)?.remoteSdp).toBe(offer);
      expect(answered.text).toMatch(/\r\nm=audio \d+ RTP\/AVP 0/);
      for (const [callId, ackBody] of [
        [`late-offer-${process.pid}`, answer],
        [`no-answer-${process.pid}`, ""],
      ] as const) {
        await c.send(request("INVITE", "alice", t, { localPort: c.port, callId }));
        const ok = await c.waitFor((r) => statusOf(r) === 200 && header(r, "Call-ID") === callId);
        // RFC 3261 13.2.1: no offer in the INVITE, so the 2xx carries one.
        expect(header(ok, "Content-Type")).toBe("application/sdp");
        await c.send(
          request("ACK", "alice", t, {
            localPort: c.port,
            callId,
            toTag: /;tag=([^;>\s]+)/.exec(header(ok, "To")!)![1]!,
            extra: ackBody ? ["Content-Type: application/sdp"] : [],
            body: ackBody,
          }).replace(/From: [^\r]*/, `From: ${header(ok, "From")}`),
        );
      }
      await expect
        .poll(() => logged.dialogs().filter((d) => d.confirmed && d.callId !== `offer-${process.pid}`).length)
        .toBe(2);
      const byCall = new Map(logged.dialogs().map((d) => [d.callId, d]));
      expect(byCall.get(`late-offer-${process.pid}`)?.remoteSdp).toBe(answer);
      expect(byCall.get(`no-answer-${process.pid}`)?.remoteSdp).toBeUndefined();
      expect(warnings.filter((w) => w.includes("no SDP answer"))).toEqual([
        expect.stringContaining(
          `no-answer-${process.pid}: the ACK carries no SDP answer to the offer in our 2xx`,
        ),
      ]);
    } finally {
      await c.close();
      await logged.close();
    }
  });
});
