/**
 * The extension-header parsers of src/sip/headers/ (issue 11 point 3), fed
 * with header rows of real messages: each message is parsed by the stack's
 * own parser and the row read from its Headers, as the UA reads it.
 */
import { describe, expect, it } from "vitest";
import {
  acceptsMediaType,
  HeaderParseError,
  indexOfUnquoted,
  listsOptionTag,
  parseAuthHeader,
  parseDatagram,
  parseEvent,
  parseMinSE,
  parseOptionTags,
  parseRAck,
  parseRSeq,
  parseSessionExpires,
  parseSubscriptionState,
  quotedStringEnd,
  quotesBalanced,
  splitTopLevel,
  tryParse,
  unquote,
} from "../../src/sip/index.js";

/** The Headers of an OPTIONS carrying `rows` (raw header lines, compact forms allowed). */
function headersOf(...rows: string[]) {
  const text = [
    "OPTIONS sip:b@example.test SIP/2.0",
    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-hdr",
    "Max-Forwards: 70",
    "From: <sip:a@example.test>;tag=f",
    "To: <sip:b@example.test>",
    "Call-ID: hdr@example.test",
    "CSeq: 1 OPTIONS",
    ...rows,
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");
  const r = parseDatagram(Buffer.from(text, "latin1"));
  if (!r.ok) throw new Error(r.error.detail);
  return r.message.headers;
}

function rejects(parse: () => unknown, header: string): void {
  let caught: unknown;
  try {
    parse();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(HeaderParseError);
  expect((caught as HeaderParseError).header).toBe(header);
}

describe("Session-Expires and Min-SE (RFC 4028 4)", () => {
  it("reads delta-seconds and the refresher, from the long and the compact form", () => {
    const h = headersOf("Session-Expires: 1800;refresher=uac", "Min-SE: 90");
    expect(parseSessionExpires(h.get("Session-Expires")!)).toEqual({ seconds: 1800, refresher: "uac" });
    expect(parseMinSE(h.get("Min-SE")!)).toBe(90);
    const x = headersOf("x: 4000 ; Refresher = UAS ; foo");
    expect(parseSessionExpires(x.get("Session-Expires")!)).toEqual({ seconds: 4000, refresher: "uas" });
    expect(parseSessionExpires("90")).toEqual({ seconds: 90 });
    expect(parseMinSE("120;x-ext=1")).toBe(120);
  });

  it("a refresher naming neither side is a generic-param: no refresher", () => {
    expect(parseSessionExpires("1800;refresher=proxy")).toEqual({ seconds: 1800 });
  });

  it("rejects what is not delta-seconds", () => {
    for (const bad of ["", "abc", "1800 s", "-5", "1800;=x", "99999999999", ";refresher=uac"]) {
      rejects(() => parseSessionExpires(bad), "Session-Expires");
    }
    for (const bad of ["", "1e3", "90 90", "4294967296"]) rejects(() => parseMinSE(bad), "Min-SE");
  });
});

describe("RSeq and RAck (RFC 3262 7.1, 7.2)", () => {
  it("reads the numbers and the method", () => {
    const h = headersOf("RSeq: 988789", "RAck: 776656 1 INVITE");
    expect(parseRSeq(h.get("RSeq")!)).toBe(988789);
    expect(parseRAck(h.get("RAck")!)).toEqual({ rseq: 776656, cseq: 1, method: "INVITE" });
    expect(parseRAck(" 1\t\t2  invite ")).toEqual({ rseq: 1, cseq: 2, method: "invite" });
    expect(parseRSeq(String(2 ** 31 - 1))).toBe(2 ** 31 - 1);
  });

  it("rejects numbers out of range and missing parts", () => {
    for (const bad of ["", "0", "x1", "1 2", String(2 ** 31), "12345678901"])
      rejects(() => parseRSeq(bad), "RSeq");
    for (const bad of [
      "",
      "1 2",
      "1 2 INVITE x",
      "a 2 INVITE",
      "1 b INVITE",
      "1 2 INV@ITE",
      `1 ${2 ** 31} INVITE`,
    ]) {
      rejects(() => parseRAck(bad), "RAck");
    }
  });
});

describe("option-tag lists (RFC 3261 20.32, 20.37, 20.40)", () => {
  it("collects tags across rows and commas, compact k included", () => {
    const h = headersOf("Supported: 100rel, timer", "k: path", "Supported:", "Require: 100rel");
    expect(parseOptionTags(h.getRows("Supported"))).toEqual(["100rel", "timer", "path"]);
    expect(parseOptionTags(h.getAll("Supported"))).toEqual(["100rel", "timer", "path"]);
    expect(parseOptionTags(h.getRows("Require"))).toEqual(["100rel"]);
    expect(parseOptionTags(h.getRows("Unsupported"))).toEqual([]);
  });

  it("tells whether a tag is listed, case-insensitively, without throwing", () => {
    const h = headersOf("Supported: 100REL ,timer", 'Require: foo bar, "timer"');
    expect(listsOptionTag(h.getRows("Supported"), "100rel")).toBe(true);
    expect(listsOptionTag(h.getRows("Supported"), "timer")).toBe(true);
    expect(listsOptionTag(h.getRows("Supported"), "path")).toBe(false);
    expect(listsOptionTag(h.getRows("Require"), "timer")).toBe(false);
    expect(listsOptionTag(h.getRows("Require"), "foo")).toBe(false);
    rejects(() => parseOptionTags(h.getRows("Require")), "option-tag");
  });
});

describe("Accept (RFC 3261 20.1)", () => {
  it("matches exact types, type/* and */*, with parameters, case-insensitively", () => {
    const h = headersOf("Accept: application/SDP;level=1, text/html", "Accept: message/*;q=0.5");
    const rows = h.getRows("Accept");
    expect(acceptsMediaType(rows, "application", "sdp")).toBe(true);
    expect(acceptsMediaType(rows, "text", "html")).toBe(true);
    expect(acceptsMediaType(rows, "message", "sipfrag")).toBe(true);
    expect(acceptsMediaType(rows, "text", "plain")).toBe(false);
    expect(acceptsMediaType(["*/*"], "application", "pidf+xml")).toBe(true);
    expect(acceptsMediaType(["application/*"], "application", "sdp")).toBe(true);
  });

  it("an empty Accept and malformed ranges accept nothing", () => {
    expect(acceptsMediaType(headersOf("Accept: ").getRows("Accept"), "application", "sdp")).toBe(false);
    for (const bad of [
      "*/sdp",
      "application",
      "application/sdp x",
      "/sdp",
      "app lication/sdp",
      '"application/sdp"',
    ]) {
      expect(acceptsMediaType([bad], "application", "sdp")).toBe(false);
    }
  });
});

describe("Event and Subscription-State (RFC 6665 8.2.1, 8.2.3)", () => {
  it("reads the package (lower-cased, templates kept) and the id", () => {
    const h = headersOf("Event: Presence;id=abc1", "o: presence.winfo");
    expect(parseEvent(h.get("Event")!)).toEqual({ package: "presence", id: "abc1" });
    expect(parseEvent(h.getRows("Event")[1]!)).toEqual({ package: "presence.winfo" });
    expect(parseEvent('message-summary ; foo="x;y"')).toEqual({ package: "message-summary" });
  });

  it("rejects malformed event types and ids", () => {
    for (const bad of [
      "",
      "pres ence",
      "presence.",
      ".winfo",
      "presence;id",
      'presence;id="a b"',
      "presence;=1",
    ]) {
      rejects(() => parseEvent(bad), "Event");
    }
  });

  it("reads the state, expires and reason", () => {
    const h = headersOf(
      "Subscription-State: active;expires=3600",
      "Subscription-State: terminated;reason=Timeout",
    );
    const [active, terminated] = h.getRows("Subscription-State");
    expect(parseSubscriptionState(active!)).toEqual({ state: "active", expires: 3600 });
    expect(parseSubscriptionState(terminated!)).toEqual({ state: "terminated", reason: "timeout" });
    expect(parseSubscriptionState("PENDING;retry-after=5;x=y")).toEqual({ state: "pending" });
  });

  it("rejects a bad state or parameter value", () => {
    for (const bad of [
      "",
      "act ive",
      "active;expires=soon",
      "active;expires",
      'terminated;reason="x"',
      "x;retry-after=-1",
    ]) {
      rejects(() => parseSubscriptionState(bad), "Subscription-State");
    }
  });
});

describe("tryParse", () => {
  it("turns HeaderParseError into undefined and lets other errors through", () => {
    expect(tryParse(parseMinSE, "90")).toBe(90);
    expect(tryParse(parseMinSE, "ninety")).toBeUndefined();
    expect(() =>
      tryParse(() => {
        throw new TypeError("bug");
      }),
    ).toThrow(TypeError);
  });
});

describe("the quoted-string scanner (RFC 3261 25.1), one for every parser", () => {
  it("finds the closing quote past quoted-pairs, or -1", () => {
    expect(quotedStringEnd('"a\\"b" x', 0)).toBe(5);
    expect(quotedStringEnd('x "" y', 2)).toBe(3);
    expect(quotedStringEnd('"open \\"', 0)).toBe(-1);
    expect(quotedStringEnd('"ends in \\', 0)).toBe(-1);
  });

  it("drives splitting, balance, unquoting and search outside quotes", () => {
    expect(splitTopLevel('"a,b" <sip:x;y,z>, c', ",")).toEqual(['"a,b" <sip:x;y,z>', "c"]);
    expect(splitTopLevel('a, "b, c', ",")).toEqual(["a", '"b, c']);
    expect(quotesBalanced('"a\\"" b')).toBe(true);
    expect(quotesBalanced('"a\\" b')).toBe(false);
    expect(unquote('"al\\"ice\\\\"')).toBe('al"ice\\');
    expect(indexOfUnquoted('"<x>" <sip:a@b>', "<")).toBe(6);
    expect(indexOfUnquoted('"<x> <sip:a@b>', "<")).toBe(-1);
  });
});

describe("Authorization and WWW-Authenticate (RFC 3261 25.1, RFC 7616)", () => {
  it("reads the scheme and the parameters, quoted or not", () => {
    const h = headersOf(
      'Authorization: Digest username="bob", realm="atlanta.example.com", nonce="ea9c8e88df84f1cec4341ae6cbe5a359", uri="sips:ss2.biloxi.example.com", response="dfe56131d1958046689d83306477ecc", qop=auth, nc=00000001, cnonce="0a4f113b"',
    );
    const a = parseAuthHeader("Authorization", h.get("Authorization")!);
    expect(a.scheme).toBe("Digest");
    expect(a.params.get("username")).toBe("bob");
    expect(a.params.get("nc")).toBe("00000001");
    expect(a.params.get("cnonce")).toBe("0a4f113b");
    expect(parseAuthHeader("WWW-Authenticate", 'Digest realm="a\\"b", stale=TRUE').params).toEqual(
      new Map([
        ["realm", 'a"b'],
        ["stale", "TRUE"],
      ]),
    );
  });

  it("keeps the parameters before a malformed one, and needs a scheme", () => {
    expect([...parseAuthHeader("Authorization", "Digest a=1, =2, b=3").params]).toEqual([["a", "1"]]);
    expect(parseAuthHeader("Authorization", 'Digest a="open').params.get("a")).toBe("open");
    rejects(() => parseAuthHeader("Authorization", ""), "Authorization");
    rejects(() => parseAuthHeader("Proxy-Authorization", '"Digest"'), "Proxy-Authorization");
  });
});
