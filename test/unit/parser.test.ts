import { describe, expect, it } from "vitest";
import * as sip from "../../src/sip/index.js";
import { type ParsedRequest, parseDatagram, parseUri, StreamFramer } from "../../src/sip/index.js";

const crlf = (s: string) => Buffer.from(s.replace(/\r?\n/g, "\r\n"), "latin1");

function ok(text: string | Buffer): ParsedRequest {
  const r = parseDatagram(typeof text === "string" ? crlf(text) : text);
  if (!r.ok) throw new Error(r.error.detail);
  if (r.message.kind !== "request") throw new Error("expected a request");
  return r.message;
}

const BASE = `OPTIONS sip:bob@example.test SIP/2.0
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-abc;rport
Max-Forwards: 70
From: "Alice" <sip:alice@example.test>;tag=1928301774
To: <sip:bob@example.test>
Call-ID: a84b4c76e66710@pc33.example.test
CSeq: 63104 OPTIONS
Content-Length: 0

`;

describe("request parsing", () => {
  it("reads the start line and the mandatory headers", () => {
    const m = ok(BASE);
    expect(m.method).toBe("OPTIONS");
    expect(m.uriRaw).toBe("sip:bob@example.test");
    expect(m.core.via[0]).toMatchObject({
      transport: "UDP",
      host: "192.0.2.1",
      port: 5060,
      branch: "z9hG4bK-abc",
    });
    expect(m.core.from).toMatchObject({ displayName: "Alice", tag: "1928301774" });
    expect(m.core.to.tag).toBeUndefined();
    expect(m.core.cseq).toEqual({ seq: 63104, method: "OPTIONS" });
    expect(m.core.maxForwards).toBe(70);
  });

  it("expands compact forms and is case-insensitive in names (RFC 3261 7.3.1, 7.3.3)", () => {
    const m = ok(`INVITE sip:bob@example.test SIP/2.0
v: SIP/2.0/TCP host.example.test;branch=z9hG4bK-1
f: <sip:a@example.test>;tag=x
t: sip:bob@example.test
i: compact@example.test
cseq: 1 INVITE
l: 0
m: <sip:a@192.0.2.1>
k: timer, 100rel

`);
    expect(m.headers.get("Contact")).toBe("<sip:a@192.0.2.1>");
    expect(m.headers.getAll("Supported")).toEqual(["timer", "100rel"]);
    expect(m.core.callId).toBe("compact@example.test");
    expect(m.core.via[0]!.transport).toBe("TCP");
  });

  it("unfolds continuation lines into one SP", () => {
    const m = ok(BASE.replace("Max-Forwards: 70", "Subject: first\n   second\n\tthird\nMax-Forwards: 70"));
    expect(m.headers.get("Subject")).toBe("first second third");
  });

  it("splits list headers on commas outside quotes and <>", () => {
    const m = ok(
      BASE.replace(
        "Max-Forwards: 70",
        'Contact: "A, B" <sip:a@x.test;p=1>, <sip:b@y.test>\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-2, SIP/2.0/UDP 10.0.0.2\nMax-Forwards: 70',
      ),
    );
    expect(m.headers.getAll("Contact")).toEqual(['"A, B" <sip:a@x.test;p=1>', "<sip:b@y.test>"]);
    expect(m.core.via.map((v) => v.host)).toEqual(["192.0.2.1", "10.0.0.1", "10.0.0.2"]);
  });

  it("accepts bare LF line ends and leading CRLFs", () => {
    const m = ok(Buffer.from(`\r\n\r\n${BASE}`, "latin1"));
    expect(m.method).toBe("OPTIONS");
  });

  it("keeps header octets exactly (latin1 round trip of UTF-8 display names)", () => {
    const utf8 = Buffer.from(BASE.replace('"Alice"', '"Ærø 日本"').replace(/\n/g, "\r\n"), "utf8");
    const m = ok(utf8);
    expect(Buffer.from(m.headers.get("From")!, "latin1").toString("utf8")).toContain("Ærø 日本");
  });

  it("takes the body from Content-Length and ignores trailing octets in a datagram (RFC 4475 3.1.1.8)", () => {
    const m = ok(`${BASE.replace("Content-Length: 0", "Content-Length: 4")}bodyEXTRA`);
    expect(m.body.toString()).toBe("body");
  });

  it("takes the rest of the datagram as body when Content-Length is absent (RFC 3261 18.3)", () => {
    const m = ok(`${BASE.replace("Content-Length: 0\n", "")}abc`);
    expect(m.body.toString()).toBe("abc");
  });

  it.each([
    ["a missing Call-ID", BASE.replace(/Call-ID:.*\n/, ""), /missing Call-ID/],
    ["two From headers", BASE.replace("To:", "From: <sip:x@y.test>;tag=2\nTo:"), /multiple From/],
    ["a CSeq method that differs", BASE.replace("63104 OPTIONS", "1 INVITE"), /CSeq method/],
    ["CSeq 2**31", BASE.replace("63104", "2147483648"), /2\*\*31/],
    ["Max-Forwards 256", BASE.replace("Max-Forwards: 70", "Max-Forwards: 256"), /above 255/],
    ["a negative Content-Length", BASE.replace("Content-Length: 0", "Content-Length: -1"), /Content-Length/],
    ["a header line with no colon", BASE.replace("Max-Forwards: 70", "Max-Forwards 70"), /no colon/],
    ["two SPs in the request line", BASE.replace("OPTIONS sip", "OPTIONS  sip"), /whitespace/],
    ["a Via without sent-by", BASE.replace("SIP/2.0/UDP 192.0.2.1:5060", "SIP/2.0/UDP"), /Via/],
    ["an unterminated quote", BASE.replace('"Alice"', '"Alice'), /quoted string/],
  ])("rejects %s with 400 and says what is wrong", (_name, text, detail) => {
    const r = parseDatagram(crlf(text));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.status).toBe(400);
    expect(r.error.detail).toMatch(detail);
    expect(r.error.partial?.kind).toBe("request");
  });

  it("answers an unknown version with 505 (RFC 3261 21.5.7)", () => {
    const r = parseDatagram(crlf(BASE.replace("SIP/2.0\n", "SIP/3.0\n")));
    expect(r.ok ? 0 : r.error.status).toBe(505);
  });

  it("parses responses, including an empty reason phrase", () => {
    const r = parseDatagram(crlf(BASE.replace("OPTIONS sip:bob@example.test SIP/2.0", "SIP/2.0 200 ")));
    expect(r.ok && r.message.kind === "response" && [r.message.status, r.message.reason]).toEqual([200, ""]);
  });
});

describe("URIs (RFC 3261 19.1, RFC 3966)", () => {
  it("parses sip URIs with user, password, port, params and headers", () => {
    const u = parseUri("sips:alice:secret@[2001:db8::1]:5061;transport=tcp;lr?subject=hi&priority=urgent");
    expect(u).toMatchObject({
      scheme: "sips",
      user: "alice",
      password: "secret",
      host: "[2001:db8::1]",
      port: 5061,
    });
    if (u.scheme !== "sips" || !("params" in u)) throw new Error("expected a sips URI");
    expect([...u.params]).toEqual([
      ["transport", "tcp"],
      ["lr", null],
    ]);
    expect(u.headers).toEqual([
      ["subject", "hi"],
      ["priority", "urgent"],
    ]);
  });

  it("keeps a user part that contains ';' (RFC 4475 3.1.1.9)", () => {
    const u = parseUri("sip:user;par=u%40example.net@example.com");
    expect(u).toMatchObject({ user: "user;par=u%40example.net", host: "example.com" });
  });

  it("parses tel and keeps unknown schemes", () => {
    expect(parseUri("tel:+1-201-555-0123;phone-context=x")).toMatchObject({
      scheme: "tel",
      number: "+1-201-555-0123",
    });
    expect(parseUri("im:user@example.test")).toEqual({ scheme: "im", raw: "im:user@example.test" });
  });

  it.each(["sip:", "sip:user@", "sip:host:99999", "sip:ho st", "<sip:x@y>", "nocolon"])(
    "rejects %s",
    (raw) => {
      expect(() => parseUri(raw)).toThrow();
    },
  );
});

describe("stream framing (RFC 3261 18.3)", () => {
  const msg = (body: string) =>
    crlf(BASE.replace("Content-Length: 0", `Content-Length: ${body.length}`) + body);

  it("frames messages split across chunks and glued together", () => {
    const framer = new StreamFramer({ maxMessageSize: 65535 });
    const all = Buffer.concat([msg("hello"), msg(""), msg("x")]);
    const frames = [];
    for (let i = 0; i < all.length; i += 7) frames.push(...framer.push(all.subarray(i, i + 7)));
    const bodies = frames.map((f) =>
      f.type === "message" && f.result.ok ? f.result.message.body.toString() : f.type,
    );
    expect(bodies).toEqual(["hello", "", "x"]);
  });

  it("reports a CRLF CRLF keep-alive ping (RFC 5626 3.5.1) and skips lone CRLFs", () => {
    const framer = new StreamFramer({ maxMessageSize: 65535 });
    expect(framer.push(Buffer.from("\r\n\r\n")).map((f) => f.type)).toEqual(["ping"]);
    expect(framer.push(Buffer.from("\r\n")).map((f) => f.type)).toEqual([]);
  });

  it("fails the stream with 513 when a message is larger than allowed", () => {
    const framer = new StreamFramer({ maxMessageSize: 300 });
    const frames = framer.push(msg("y".repeat(400)));
    expect(frames[0]).toMatchObject({ type: "fatal", status: 513 });
    const f = frames[0]!;
    expect(f.type === "fatal" && f.result && !f.result.ok && f.result.error.status).toBe(513);
  });

  it("fails the stream with 400 on a malformed Content-Length", () => {
    const framer = new StreamFramer({ maxMessageSize: 65535 });
    const frames = framer.push(crlf(BASE.replace("Content-Length: 0", "Content-Length: abc")));
    expect(frames[0]).toMatchObject({ type: "fatal", status: 400 });
  });
});

describe("what parses share", () => {
  it("the empty parameter map of URIs, Vias and name-addrs cannot be written through", () => {
    const r = sip.parseDatagram(
      Buffer.from(
        "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:c@d>\r\nTo: <sip:e@f>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n",
      ),
    );
    if (!r.ok) throw new Error(r.error.detail);
    const maps = [
      r.message.core.via[0]!.params,
      r.message.core.to.params,
      (r.message.core.from.uri as sip.SipUri).params,
    ];
    for (const m of maps) {
      expect(m).toStrictEqual(new Map());
      const writable = m as Map<string, string | null>;
      expect(() => writable.set("lr", null)).toThrow(TypeError);
      expect(() => writable.delete("lr")).toThrow(TypeError);
      expect(() => writable.clear()).toThrow(TypeError);
      expect(m.size).toBe(0);
    }
    expect(sip.parseParams("")).not.toBe(sip.parseParams(""));
    expect(() =>
      (sip.parseUri("sip:a@b") as unknown as { headers: unknown[] }).headers.push(["x", "y"]),
    ).toThrow(TypeError);
  });
});
