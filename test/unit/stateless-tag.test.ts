/**
 * RFC 3261 8.2.7: a stateless answer gives the same To tag to a request and
 * its retransmissions, and another to another request; from real bytes.
 */
import { describe, expect, it } from "vitest";
import type { ParsedRequest } from "../../src/sip/index.js";
import { sha256Hex, sha256HexByObject, statelessTag } from "../../src/transaction/tags.js";
import { parseRequest } from "./dialog-fixtures.js";

function invite(callId: string, fromTag: string, branch: string): ParsedRequest {
  return parseRequest(`INVITE sip:bob@example.test SIP/2.0
Via: SIP/2.0/UDP 192.0.2.7:5060;branch=${branch}
Max-Forwards: 70
From: <sip:alice@example.test>;tag=${fromTag}
To: <sip:bob@example.test>
Call-ID: ${callId}
CSeq: 1 INVITE
Content-Length: 0

`);
}

describe("statelessTag", () => {
  it("is 48 bits in hex, the same for the same request parsed again", () => {
    const tag = statelessTag(invite("c1@example.test", "f1", "z9hG4bK-1"));
    expect(tag).toMatch(/^[0-9a-f]{12}$/);
    expect(statelessTag(invite("c1@example.test", "f1", "z9hG4bK-1"))).toBe(tag);
  });

  it("differs when the Call-ID, the From tag or the branch does", () => {
    const tags = new Set([
      statelessTag(invite("c1@example.test", "f1", "z9hG4bK-1")),
      statelessTag(invite("c2@example.test", "f1", "z9hG4bK-1")),
      statelessTag(invite("c1@example.test", "f2", "z9hG4bK-1")),
      statelessTag(invite("c1@example.test", "f1", "z9hG4bK-2")),
      // The fields are kept apart: moving a character across them changes the tag.
      statelessTag(invite("c1@example.test", "f1z", "9hG4bK-1")),
    ]);
    expect(tags.size).toBe(5);
  });

  it("is keyed: not the hash of the fields alone", () => {
    const tag = statelessTag(invite("c1@example.test", "f1", "z9hG4bK-1"));
    expect(sha256Hex("c1@example.test\nf1\nz9hG4bK-1").slice(0, 12)).not.toBe(tag);
    expect(sha256Hex("\nc1@example.test\nf1\nz9hG4bK-1").slice(0, 12)).not.toBe(tag);
  });
});

describe("sha256Hex", () => {
  it("is SHA-256 in hex by either way node:crypto offers (FIPS 180-2's 'abc' vector)", () => {
    const abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    expect(sha256Hex("abc")).toBe(abc);
    expect(sha256HexByObject("abc")).toBe(abc);
    for (const text of ["", "c1@example.test\nf1\nz9hG4bK-1", "é\u0000ÿ"])
      expect(sha256Hex(text)).toBe(sha256HexByObject(text));
  });
});
