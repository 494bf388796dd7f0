/**
 * The parser reads the usual spellings in place (the "SIP/2.0/" of a Via,
 * its transport, the CSeq and request methods, the sent-by's host and port)
 * and copies only the unusual ones: both paths must give the same result and
 * the same error, from real bytes.
 */
import { describe, expect, it } from "vitest";
import { type ParsedRequest, parseDatagram, parseUri } from "../../src/sip/index.js";

const crlf = (s: string) => Buffer.from(s.replace(/\r?\n/g, "\r\n"), "latin1");

function request(via: string, cseq = "7 OPTIONS", method = "OPTIONS", version = "SIP/2.0"): Buffer {
  return crlf(`${method} sip:bob@example.test:5070 ${version}
Via: ${via}
Max-Forwards: 70
From: <sip:alice@example.test>;tag=1
To: <sip:bob@example.test>
Call-ID: in-place@example.test
CSeq: ${cseq}
Content-Length: 0

`);
}

function ok(bytes: Buffer): ParsedRequest {
  const r = parseDatagram(bytes);
  if (!r.ok) throw new Error(r.error.detail);
  if (r.message.kind !== "request") throw new Error("not a request");
  return r.message;
}

function failure(bytes: Buffer): string {
  const r = parseDatagram(bytes);
  if (r.ok) throw new Error("parsed");
  return r.error.detail;
}

describe("Via read in place", () => {
  it.each([
    ["SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bK-1;rport", "SIP/2.0", "UDP", "192.0.2.1", 5062],
    ["SIP / 2.0 / udp 192.0.2.1 : 5062;branch=z9hG4bK-1", "SIP/2.0", "UDP", "192.0.2.1", 5062],
    ["sip/2.0/TCP host.example.test;branch=z9hG4bK-1", "SIP/2.0", "TCP", "host.example.test", undefined],
    ["SIP/3.0/XYZ [2001:db8::1]:5070;branch=z9hG4bK-1", "SIP/3.0", "XYZ", "[2001:db8::1]", 5070],
    ["SIP/2.0/WSS [2001:db8::1] :5071", "SIP/2.0", "WSS", "[2001:db8::1]", 5071],
    ["SIP/2.0/SCTP h:1;received=[2001:db8::9]", "SIP/2.0", "SCTP", "h", 1],
  ])("%s", (via, protocol, transport, host, port) => {
    const v = ok(request(via)).core.via[0]!;
    expect({ protocol: v.protocol, transport: v.transport, host: v.host, port: v.port, raw: v.raw }).toEqual({
      protocol,
      transport,
      host,
      port,
      raw: via,
    });
  });

  it.each([
    ["SIP/2.0/UDP [2001:db8::1;branch=z9hG4bK-1", /unterminated IPv6 reference/],
    ["SIP/2.0/UDP [2001:db8::1:5060;received=[::1]", /unterminated IPv6 reference/],
    ["SIP/2.0/UDP h:65536", /invalid port "65536"/],
    ["SIP/2.0/UDP h : 99999x", /invalid port "99999x"/],
    ["SIP/2.0/UDP -h", /invalid host "-h"/],
    ["SIP/2.0 UDP h", /malformed Via sent-protocol/],
    ["SIP/2.0/U(P h", /malformed Via sent-protocol/],
  ])("rejects %s", (via, reason) => {
    expect(failure(request(via))).toMatch(reason);
  });
});

describe("CSeq and request line read in place", () => {
  it("the CSeq number without a copy, leading zeros and the largest allowed", () => {
    expect(ok(request("SIP/2.0/UDP h", "007 OPTIONS")).core.cseq).toEqual({ seq: 7, method: "OPTIONS" });
    expect(ok(request("SIP/2.0/UDP h", "2147483647 OPTIONS")).core.cseq.seq).toBe(2147483647);
    expect(failure(request("SIP/2.0/UDP h", "2147483648 OPTIONS"))).toMatch(/2\*\*31/);
    expect(failure(request("SIP/2.0/UDP h", "00000000001 OPTIONS"))).toMatch(/2\*\*31/);
  });

  it("an unregistered method and a lower-case version are copied as received", () => {
    const m = ok(request("SIP/2.0/UDP h", "1 NEWMETHOD", "NEWMETHOD", "sip/2.0"));
    expect([m.method, m.core.cseq.method, m.version]).toEqual(["NEWMETHOD", "NEWMETHOD", "SIP/2.0"]);
    // A method that begins like a registered one is not taken for it.
    const o = ok(request("SIP/2.0/UDP h", "1 OPTIONSX", "OPTIONSX"));
    expect([o.method, o.core.cseq.method]).toEqual(["OPTIONSX", "OPTIONSX"]);
  });

  it("the Request-URI's host and port read in place", () => {
    const m = ok(request("SIP/2.0/UDP h"));
    expect(m.uri).toMatchObject({ user: "bob", host: "example.test", port: 5070 });
    expect(parseUri("sip:[2001:db8::1]:5060;transport=tcp")).toMatchObject({
      host: "[2001:db8::1]",
      port: 5060,
    });
    expect(() => parseUri("sip:a@b:70000")).toThrow(/invalid port "70000" in "sip:a@b:70000"/);
    expect(() => parseUri("sip:a@[::1;x=1")).toThrow(/unterminated IPv6 reference/);
  });
});

describe("Contact checked in place (not built)", () => {
  const withContact = (contact: string) =>
    crlf(`INVITE sip:bob@example.test SIP/2.0
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-c
Max-Forwards: 70
From: <sip:alice@example.test>;tag=1
To: <sip:bob@example.test>
Call-ID: contact-check@example.test
CSeq: 1 INVITE
Contact: ${contact}
Content-Length: 0

`);

  it.each([
    ["<sip:a@-bad>", /Contact: invalid host "-bad" in "sip:a@-bad"/],
    ["<sip:a@[2001:db8::1>", /unterminated IPv6 reference/],
    ["<sip:a@[2001:db8::g]>", /invalid IPv6 reference \[2001:db8::g\]/],
    ["<sip:a@h:99999>", /invalid port "99999" in "sip:a@h:99999"/],
    ["<sip:a@h>, <sip:b@bad_host>", /invalid host "bad_host"/],
  ])("%s gets 400 naming the problem", (contact, reason) => {
    const r = parseDatagram(withContact(contact));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.status).toBe(400);
    expect(r.error.detail).toMatch(reason);
  });

  it("a well-formed Contact list, and the empty body shared by bodiless requests", () => {
    const m = ok(
      withContact('"A" <sip:a@[2001:db8::1]:5070;transport=tcp>;expires=60, sip:b@h.example.test'),
    );
    expect(m.headers.getAll("Contact")).toHaveLength(2);
    expect(m.body.length).toBe(0);
  });
});
