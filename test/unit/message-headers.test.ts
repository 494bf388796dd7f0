/**
 * The header list finds rows by any spelling of their name (RFC 3261
 * 7.3.1: names are case-insensitive; 7.3.3: compact forms), from a parse
 * or built by hand, and keeps repeated rows apart.
 */
import { describe, expect, it } from "vitest";
import { canonicalHeaderName } from "../../src/sip/header-names.js";
import { Headers } from "../../src/sip/message.js";
import { parseDatagram } from "../../src/sip/parser.js";

const TEXT = [
  "INVITE sip:bob@example.test SIP/2.0",
  "v: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-1",
  "VIA: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK-2",
  "From: <sip:a@example.test>;tag=1",
  "t: <sip:bob@example.test>",
  "call-id: id-1",
  "CSeq: 1 INVITE",
  "X-Custom-thing: one",
  "x-custom-THING: two",
  "Require: foo, bar",
  "l: 0",
  "",
  "",
].join("\r\n");

function parsed(): Headers {
  const r = parseDatagram(Buffer.from(TEXT, "latin1"));
  if (!r.ok) throw new Error(r.error.detail);
  return r.message.headers;
}

const byHand = () =>
  new Headers([
    ["v", "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-1"],
    ["VIA", "SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK-2"],
    ["From", "<sip:a@example.test>;tag=1"],
    ["t", "<sip:bob@example.test>"],
    ["call-id", "id-1"],
    ["CSeq", "1 INVITE"],
    ["X-Custom-thing", "one"],
    ["x-custom-THING", "two"],
    ["Require", "foo, bar"],
    ["l", "0"],
  ]);

describe("Headers lookups by any spelling", () => {
  for (const [label, make] of [
    ["parsed", parsed],
    ["built", byHand],
  ] as const) {
    it(`${label}: canonical, compact and any-case names find the same rows`, () => {
      const h = make();
      for (const name of ["Via", "v", "V", "via", "VIA"]) {
        expect(h.get(name), name).toBe("SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-1");
        expect(h.getRows(name), name).toEqual([
          "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-1",
          "SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK-2",
        ]);
        expect(h.has(name), name).toBe(true);
      }
      for (const name of ["Call-ID", "call-id", "i", "CALL-ID"]) expect(h.get(name), name).toBe("id-1");
      for (const name of ["To", "t", "TO"]) expect(h.get(name), name).toBe("<sip:bob@example.test>");
      for (const name of ["Content-Length", "l", "content-length"]) expect(h.get(name), name).toBe("0");
      for (const name of ["X-Custom-Thing", "x-custom-thing", "X-CUSTOM-THING"])
        expect(h.getRows(name), name).toEqual(["one", "two"]);
      expect(h.getAll("require")).toEqual(["foo", "bar"]);
      for (const name of ["Timestamp", "timestamp", "c", "X-Custom"]) {
        expect(h.get(name), name).toBeUndefined();
        expect(h.has(name), name).toBe(false);
        expect(h.getRows(name), name).toEqual([]);
      }
    });
  }

  it("rows added, set and deleted under another spelling are found under any", () => {
    const h = byHand();
    h.set("via", "SIP/2.0/TCP h.test;branch=z9hG4bK-3");
    expect(h.getRows("v")).toEqual(["SIP/2.0/TCP h.test;branch=z9hG4bK-3"]);
    h.append("m", "<sip:a@192.0.2.1>");
    expect(h.get("Contact")).toBe("<sip:a@192.0.2.1>");
    expect(h.delete("CONTACT")).toBe(true);
    expect(h.has("m")).toBe(false);
  });
});

describe("canonicalHeaderName", () => {
  const CANONICAL = [
    "Via",
    "From",
    "To",
    "Call-ID",
    "CSeq",
    "Contact",
    "Max-Forwards",
    "Content-Type",
    "Content-Length",
    "User-Agent",
    "Allow",
    "Accept",
    "Accept-Encoding",
    "Accept-Language",
    "Supported",
    "Record-Route",
    "WWW-Authenticate",
    "Proxy-Authenticate",
    "Session-Expires",
    "Min-SE",
    "RSeq",
    "RAck",
    "Allow-Events",
    "Subscription-State",
    "P-Asserted-Identity",
    "X-Not-Usual",
  ];

  it("gives the canonical spelling of any spelling, and a canonical one unchanged", () => {
    for (const name of CANONICAL) {
      expect(canonicalHeaderName(name)).toBe(name);
      expect(canonicalHeaderName(name.toLowerCase())).toBe(name);
      expect(canonicalHeaderName(name.toUpperCase())).toBe(name);
      // A string of its own (not the literal): the same answer.
      expect(canonicalHeaderName(` ${name}`.slice(1))).toBe(name);
    }
    expect(canonicalHeaderName("v")).toBe("Via");
    expect(canonicalHeaderName("K")).toBe("Supported");
  });
});
