/**
 * The UAS on the wire, byte by byte, with our raw client: the behaviours a
 * SIPp scenario cannot express (exact headers, Via annotation, error
 * reasons, routing). SIPp covers the same flows in sipp-*.test.ts. The
 * timed ones (2xx and Timer G retransmissions, Timer H, freed transactions)
 * are on the deterministic harness: test/unit/ua-invite.test.ts.
 */
import { createSocket } from "node:dgram";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SipMock, silentLogger, startSipMock } from "../../src/index.js";
import { header, headerRows, request, statusOf, tcpClient, udpClient } from "../helpers/wire-client.js";

const TIMERS = { t1: 50, t2: 400, t4: 300 };
let mock: SipMock;
let udp: { host: string; port: number };
let tcp: { host: string; port: number };

beforeAll(async () => {
  mock = await startSipMock({
    listen: ["udp:127.0.0.1:0", "tcp:127.0.0.1:0"],
    timers: TIMERS,
    logger: silentLogger,
    maxMessageSize: 4000,
    ringTimeoutMs: 5000,
  });
  udp = { host: "127.0.0.1", port: mock.address("udp").port };
  tcp = { host: "127.0.0.1", port: mock.address("tcp").port };
});
afterAll(() => mock.close());

const SDP_OFFER = [
  "v=0",
  "o=alice 1 1 IN IP4 127.0.0.1",
  "s=-",
  "c=IN IP4 127.0.0.1",
  "t=0 0",
  "m=audio 49170 RTP/AVP 18 8 0 101",
  "a=rtpmap:18 G729/8000",
  "a=rtpmap:8 PCMA/8000",
  "a=rtpmap:0 PCMU/8000",
  "a=rtpmap:101 telephone-event/8000",
  "a=fmtp:101 0-16",
  "a=sendrecv",
  "",
].join("\r\n");

describe("responses are built as RFC 3261 8.2.6 says", () => {
  it("OPTIONS gets 200 with Allow, Accept, Supported, a To tag, and the Via annotated with received/rport", async () => {
    const c = await udpClient(udp);
    const req = request("OPTIONS", "bob", udp, { localPort: 5999 });
    await c.send(req);
    const r = await c.waitFor((m) => statusOf(m) > 0);
    expect(r.text.split("\r\n")[0]).toBe("SIP/2.0 200 OK");
    expect(header(r, "Allow")).toBe(
      "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, PRACK, UPDATE, INFO, MESSAGE, SUBSCRIBE, PUBLISH, REFER",
    );
    expect(header(r, "Accept")).toBe("application/sdp");
    expect(r.text).toMatch(/\r\nSupported:/);
    expect(header(r, "To")).toMatch(/^<sip:bob@example\.test>;tag=[0-9a-f]+$/);
    // RFC 3581 4: rport gets the source port and received is added.
    expect(header(r, "Via")).toBe(
      `${/\r\nVia: ([^\r\n]*)/.exec(req)![1]!.replace(";rport", `;rport=${c.port}`)};received=127.0.0.1`,
    );
    for (const h of ["From", "Call-ID", "CSeq"])
      expect(header(r, h)).toBe(new RegExp(`\\r\\n${h}: ([^\\r\\n]*)`).exec(req)![1]);
    expect(header(r, "Server")).toMatch(/^sipmock\//);
    expect(header(r, "Content-Length")).toBe("0");
    await c.close();
  });

  it("no common codec: 488 with a 305 Warning (RFC 3261 21.4.26)", async () => {
    const c = await udpClient(udp);
    const offer = SDP_OFFER.replace("RTP/AVP 18 8 0 101", "RTP/AVP 18").replace(
      /a=rtpmap:(8|0|101).*\r\n/g,
      "",
    );
    await c.send(
      request("INVITE", "alice", udp, {
        localPort: c.port,
        extra: ["Content-Type: application/sdp"],
        body: offer,
      }),
    );
    const r = await c.waitFor((m) => statusOf(m) >= 200);
    expect(statusOf(r)).toBe(488);
    expect(header(r, "Warning")).toMatch(/^305 \S+ "Incompatible media format/);
    await c.close();
  });
});

describe("dial-a-code", () => {
  it("uncatalogued codes are sent with a generic reason", async () => {
    const c = await udpClient(udp);
    await c.send(request("OPTIONS", "499", udp, { localPort: c.port }));
    const r = await c.waitFor((m) => statusOf(m) === 499);
    expect(r.text).toMatch(/^SIP\/2\.0 499 [A-Za-z]/);
    await c.close();
  });

  it("CANCEL of a ringing INVITE: 200 to the CANCEL with the same To tag, 487 to the INVITE (RFC 3261 9.2)", async () => {
    const c = await udpClient(udp);
    const branch = `z9hG4bK-cancel-${Date.now()}`;
    const callId = `cancel-${Date.now()}@example.test`;
    const invite = request("INVITE", "180", udp, { localPort: c.port, branch, callId });
    await c.send(invite);
    const ringing = await c.waitFor((m) => statusOf(m) === 180);
    const cancel = invite.replace(/^INVITE/, "CANCEL").replace("CSeq: 1 INVITE", "CSeq: 1 CANCEL");
    await c.send(cancel);
    const cancelOk = await c.waitFor((m) => statusOf(m) === 200 && /CANCEL/.test(header(m, "CSeq") ?? ""));
    const terminated = await c.waitFor((m) => statusOf(m) === 487);
    expect(terminated.text.split("\r\n")[0]).toBe("SIP/2.0 487 Request Terminated");
    const tag = (r: typeof ringing) => /tag=([^;>\s]+)/.exec(header(r, "To")!)![1];
    expect(tag(cancelOk)).toBe(tag(ringing));
    expect(tag(terminated)).toBe(tag(ringing));
    await c.close();
  });

  it("a CANCEL that matches nothing gets 481", async () => {
    const c = await udpClient(udp);
    await c.send(request("CANCEL", "180", udp, { localPort: c.port }));
    expect(statusOf(await c.waitFor((m) => statusOf(m) > 0))).toBe(481);
    await c.close();
  });
});

describe("request validation (RFC 3261 8.2)", () => {
  it("Require with an unknown option tag gets 420 with Unsupported", async () => {
    const c = await udpClient(udp);
    await c.send(request("INVITE", "alice", udp, { localPort: c.port, extra: ["Require: foo, bar"] }));
    const r = await c.waitFor((m) => statusOf(m) >= 200);
    expect(statusOf(r)).toBe(420);
    expect(header(r, "Unsupported")).toBe("foo, bar");
    await c.close();
  });

  it("a body type it does not understand gets 415 with Accept", async () => {
    const c = await udpClient(udp);
    await c.send(
      request("INVITE", "alice", udp, { localPort: c.port, extra: ["Content-Type: text/nope"], body: "x" }),
    );
    const r = await c.waitFor((m) => statusOf(m) >= 200);
    expect(statusOf(r)).toBe(415);
    expect(header(r, "Accept")).toBe("application/sdp");
    await c.close();
  });

  it("a merged request (same From tag, Call-ID, CSeq; other branch) gets 482", async () => {
    const c = await udpClient(udp);
    const first = request("INVITE", "180", udp, { localPort: c.port, callId: "merged@example.test" });
    await c.send(first);
    await c.waitFor((m) => statusOf(m) === 180);
    await c.send(first.replace(/branch=[^;\r]+/, "branch=z9hG4bK-merged-2"));
    const r = await c.waitFor((m) => statusOf(m) === 482);
    expect(r.text.split("\r\n")[0]).toBe("SIP/2.0 482 Loop Detected");
    await c.close();
  });

  it("an unknown method gets 501", async () => {
    const c = await udpClient(udp);
    await c.send(request("FROBNICATE", "alice", udp, { localPort: c.port }));
    const r = await c.waitFor((m) => statusOf(m) > 0);
    expect(r.text.split("\r\n")[0]).toBe("SIP/2.0 501 Not Implemented");
    await c.close();
  });

  it("a malformed request gets 400 whose reason and Warning say what is wrong", async () => {
    const c = await udpClient(udp);
    await c.send(request("OPTIONS", "bob", udp, { localPort: c.port }).replace(/Call-ID: .*\r\n/, ""));
    const r = await c.waitFor((m) => statusOf(m) > 0);
    expect(r.text.split("\r\n")[0]).toBe("SIP/2.0 400 Bad Request: missing Call-ID header field");
    expect(header(r, "Warning")).toMatch(/^399 127\.0\.0\.1:\d+ "missing Call-ID header field"$/);
    await c.close();
  });

  it("SIP/3.0 gets 505", async () => {
    const c = await udpClient(udp);
    await c.send(
      request("OPTIONS", "bob", udp, { localPort: c.port }).replace(" SIP/2.0\r\n", " SIP/3.0\r\n"),
    );
    expect(statusOf(await c.waitFor((m) => statusOf(m) > 0))).toBe(505);
    await c.close();
  });

  it("a request larger than the maximum gets 513 (RFC 3261 21.5.6) on UDP and TCP", async () => {
    const big = request("OPTIONS", "bob", udp, {
      extra: ["Content-Type: text/plain"],
      body: "x".repeat(5000),
    });
    const u = await udpClient(udp);
    await u.send(big);
    expect(statusOf(await u.waitFor((m) => statusOf(m) > 0))).toBe(513);
    await u.close();
    const t = await tcpClient(tcp);
    await t.send(big.replace("SIP/2.0/UDP", "SIP/2.0/TCP"));
    expect(statusOf(await t.waitFor((m) => statusOf(m) > 0))).toBe(513);
    await t.closed;
  });
});

describe("transports", () => {
  it("TCP: responses come back on the same connection; CRLF CRLF pings get a CRLF pong (RFC 5626 3.5.1)", async () => {
    const c = await tcpClient(tcp);
    await c.send("\r\n\r\n");
    await c.waitFor((m) => m.text === "\r\n");
    await c.send(request("OPTIONS", "bob", tcp, { transport: "TCP", localPort: c.port }));
    const r = await c.waitFor((m) => statusOf(m) > 0);
    expect(statusOf(r)).toBe(200);
    expect(header(r, "Via")).toMatch(/^SIP\/2\.0\/TCP /);
    await c.close();
  });

  it("UDP without rport: the response goes to the sent-by port (RFC 3261 18.2.2)", async () => {
    const listener = createSocket("udp4");
    await new Promise<void>((r) => listener.bind(0, "127.0.0.1", () => r()));
    const sentByPort = listener.address().port;
    const got = new Promise<string>((r) => listener.once("message", (m) => r(m.toString())));
    const c = await udpClient(udp);
    await c.send(request("OPTIONS", "bob", udp, { localPort: sentByPort, rport: false }));
    const text = await got;
    expect(text.split("\r\n")[0]).toBe("SIP/2.0 200 OK");
    expect(c.received).toHaveLength(0);
    listener.close();
    await c.close();
  });

  it("REGISTER gets 200 echoing the Contact bindings with expires and a Date", async () => {
    const c = await udpClient(udp);
    await c.send(
      request("REGISTER", "alice", udp, {
        localPort: c.port,
        extra: ["Contact: <sip:alice@127.0.0.1:5999>", "Expires: 600"],
      }),
    );
    const r = await c.waitFor((m) => statusOf(m) > 0);
    expect(statusOf(r)).toBe(200);
    expect(headerRows(r, "Contact")).toEqual(["<sip:alice@127.0.0.1:5999>;expires=600"]);
    expect(header(r, "Date")).toMatch(/GMT$/);
    await c.close();
  });
});
