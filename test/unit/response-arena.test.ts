/**
 * ResponseArena (src/transaction/response-arena.ts): what the stores keep of
 * each final response for 64*T1. Every response comes back octet for octet,
 * whatever it shares with the templates; one client's responses (equal
 * lengths) cost only the octets that differ; a new length gets a template
 * of its own after a few responses.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { assemble, type KeptParts, ResponseArena } from "../../src/transaction/response-arena.js";
import { crlf } from "./transaction-fixtures.js";

/** A 200 to SIPp's OPTIONS n, as sipmock answers it (call numbers of `width` digits, a random To tag). */
function sippOk(n: number, width = 6, toTag = "a1b2c3d4e5f6"): Buffer {
  const call = String(n).padStart(width, "0");
  return crlf(`SIP/2.0 200 OK
Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-4242-${call}-0;rport=5061;received=127.0.0.1
From: sipp <sip:sipp@127.0.0.1:5061>;tag=4242SIPpTag00${call}
To: <sip:bench@127.0.0.1:5060>;tag=${toTag}
Call-ID: ${call}-4242@127.0.0.1
CSeq: 1 OPTIONS
Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, SUBSCRIBE, NOTIFY, REFER, INFO, UPDATE, PRACK, MESSAGE
Accept: application/sdp
Supported: 100rel, timer, replaces
Server: sipmock/0.1.0
Content-Length: 0

`);
}

/** What keep() said, copied (it reuses one object), and the response it must give back. */
function keepAll(arena: ResponseArena, responses: readonly Buffer[]): Array<{ want: Buffer; k: KeptParts }> {
  return responses.map((want) => ({ want, k: { ...arena.keep(want) } }));
}

function back(want: Buffer, k: KeptParts): Buffer {
  return assemble(k.chunk, k.offset, k.template, k.prefix, k.suffix, want.length, k.patched);
}

const hex = (n: number) => (n * 2654435761).toString(16).padStart(12, "0").slice(-12);

describe("ResponseArena", () => {
  it("gives back every response it kept, octet for octet, whatever they share", () => {
    const base = sippOk(1);
    const arb = fc.array(
      fc.record({
        cut: fc.nat({ max: base.length }),
        len: fc.nat({ max: 80 }),
        fill: fc.integer({ min: 0, max: 255 }),
        extra: fc.nat({ max: 20_000 }),
      }),
      { minLength: 1, maxLength: 60 },
    );
    fc.assert(
      fc.property(arb, (edits) => {
        const responses = edits.map((e) =>
          Buffer.concat([
            base.subarray(0, e.cut),
            Buffer.alloc(e.len, e.fill),
            base.subarray(e.cut),
            Buffer.alloc(e.extra % 7 === 0 ? e.extra : 0, 0x62),
          ]),
        );
        for (const { want, k } of keepAll(new ResponseArena(), responses))
          expect(back(want, k).equals(want)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it("gives back responses of one length whose octets differ anywhere (patches), octet for octet", () => {
    const base = sippOk(1);
    const edit = fc.record({ at: fc.nat({ max: base.length - 1 }), octet: fc.integer({ min: 0, max: 255 }) });
    const arb = fc.array(fc.array(edit, { maxLength: 40 }), { minLength: 1, maxLength: 40 });
    fc.assert(
      fc.property(arb, (changes) => {
        const responses = changes.map((list) => {
          const r = Buffer.from(base);
          for (const c of list) r[c.at] = c.octet;
          return r;
        });
        const kept = keepAll(new ResponseArena(), responses);
        for (const { want, k } of kept) expect(back(want, k).equals(want)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("keeps one client's responses as the octets that differ: a few dozen octets each, not the middle", () => {
    const arena = new ResponseArena();
    // 3000 of them: their patches fill more than one 64 KiB chunk.
    const responses = Array.from({ length: 3000 }, (_, n) => sippOk(100_000 + n, 6, hex(n)));
    const first = responses[0]!.length;
    const before = arena.written;
    const kept = keepAll(arena, responses);
    expect(new Set(kept.map(({ k }) => k.chunk)).size).toBeGreaterThan(1);
    const perResponse = (arena.written - before - first) / 2999;
    // Branch, From tag, To tag (12 hex) and Call-ID differ: 27 octets with their runs (the middle: 163).
    expect(perResponse).toBeLessThan(32);
    expect(kept.slice(1).every(({ k }) => k.patched)).toBe(true);
    for (const { want, k } of kept) expect(back(want, k).equals(want)).toBe(true);
  });

  it("a new length (call numbers one digit longer) gets a template of its own within 16 responses", () => {
    const arena = new ResponseArena();
    keepAll(arena, [sippOk(1, 6)]);
    const longer = Array.from({ length: 40 }, (_, n) => sippOk(n, 7, hex(n)));
    const kept = keepAll(arena, longer);
    // The first ones share a prefix and suffix with the old length's template; then one is kept whole and patched against after.
    expect(kept.slice(0, 15).every(({ k }) => !k.patched && k.template !== undefined)).toBe(true);
    expect(kept[15]!.k.template).toBeUndefined();
    expect(kept.slice(16).every(({ k }) => k.patched)).toBe(true);
    for (const { want, k } of kept) expect(back(want, k).equals(want)).toBe(true);
  });

  it("an older template of the response's length is patched against when the newest shares too little", () => {
    const arena = new ResponseArena();
    const first = sippOk(1);
    // As long as it, sharing no octet at either end: kept whole, the newest template.
    const unlike = Buffer.from(first.map((o) => o ^ 0x20));
    const [, newest] = keepAll(arena, [first, unlike]);
    expect(newest!.k.template).toBeUndefined();
    const [{ want, k }] = keepAll(arena, [sippOk(2, 6, hex(2))]) as [{ want: Buffer; k: KeptParts }];
    expect(k.patched).toBe(true);
    expect(k.template?.equals(first)).toBe(true);
    expect(back(want, k).equals(want)).toBe(true);
  });

  it("a response of the template's length that differs throughout keeps its middle as is (a patch would be larger)", () => {
    const arena = new ResponseArena();
    const base = sippOk(1);
    keepAll(arena, [base]);
    const other = Buffer.from(base);
    // Same start line and last 80 octets; every other octet between differs.
    for (let i = 20; i < other.length - 80; i += 2) other[i] = other[i]! ^ 0x20;
    const before = arena.written;
    const [{ want, k }] = keepAll(arena, [other]) as [{ want: Buffer; k: KeptParts }];
    expect(k.patched).toBe(false);
    expect(arena.written - before).toBe(want.length - k.prefix - k.suffix);
    expect(back(want, k).equals(want)).toBe(true);
  });
});
