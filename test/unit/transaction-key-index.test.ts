/**
 * Stored transactions are found by the 64-bit fingerprint of their key
 * (KeyIndex, Fingerprint) and keep no key, merge key or To tag string
 * (issue 12). The index against a Map as model (fast-check, with
 * fingerprints that crowd a few home slots, so probing wraps and deletion
 * shifts entries back); and, on a manual clock with real SIP bytes, what a
 * stored transaction still gives: retransmissions answered, its id read
 * back from its response when the TU held nothing under it, merged
 * requests (8.2.2.2) found, RFC 2543 keys, other To tags, many methods.
 */
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { type ParsedRequest, parseDatagram } from "../../src/sip/index.js";
import { KeyIndex } from "../../src/transaction/key-index.js";
import type { ServerTransaction } from "../../src/transaction/server-transaction.js";
import { Fingerprint, transactionKey } from "../../src/transaction/transaction-key.js";
import { TransactionLayer } from "../../src/transaction/transaction-layer.js";
import { ManualClock } from "../harness/clock.js";
import { crlf, J, T, udp } from "./transaction-fixtures.js";

describe("KeyIndex", () => {
  it("agrees with a Map through adds and deletes, crowded home slots and resizes", () => {
    // An op: add or delete key k (fingerprint: few distinct his, so many share a home slot).
    // Keys 0..1500 and at least 2000 ops: most deletes hit, and the table grows past 1024 slots and back.
    const op = fc.record({ add: fc.boolean(), k: fc.integer({ min: 0, max: 1500 }) });
    fc.assert(
      fc.property(fc.array(op, { minLength: 2000, maxLength: 6000 }), (ops) => {
        const index = new KeyIndex();
        const model = new Map<number, number>();
        // Homes at the end of 1024-slot blocks: clusters wrap around the end of the table.
        const hi = (k: number) => (k % 7) * 1024 + 1021 + (k % 3);
        const lo = (k: number) => k * 2654435761;
        let v = 0;
        for (const { add, k } of ops) {
          if (add && !model.has(k)) {
            index.add(hi(k), lo(k) | 0, v);
            model.set(k, v++);
          } else if (!add) {
            const had = model.get(k);
            expect(index.delete(hi(k), lo(k) | 0, had ?? 0)).toBe(had !== undefined);
            model.delete(k);
            expect(index.get(hi(k), lo(k) | 0)).toBe(-1);
          }
          // Also while a resize moves entries (a lookup moves some too).
          const other = (k * 7 + 1) % 1501;
          expect(index.get(hi(other), lo(other) | 0)).toBe(model.get(other) ?? -1);
        }
        expect(index.size).toBe(model.size);
        for (let k = 0; k <= 1500; k++) expect(index.get(hi(k), lo(k) | 0)).toBe(model.get(k) ?? -1);
      }),
      // No shrinking: thousands of operations take minutes to shrink, and the first failure says enough.
      { numRuns: 30, endOnFailure: true },
    );
  });

  it("resizes a few slots per operation: every key is found, added and deleted while entries move", () => {
    const index = new KeyIndex();
    const hi = (k: number) => Math.imul(k, 40503);
    // The 513th entry makes 1024 slots more than half full: the table doubles.
    for (let k = 0; k < 512; k++) index.add(hi(k), k, k);
    expect(index.resizing).toBe(false);
    index.add(hi(512), 512, 512);
    expect(index.capacity).toBe(2048);
    expect(index.resizing).toBe(true);
    // 16 old slots move per operation: 1024 of them take 64 operations.
    for (let k = 0; k < 30; k++) expect(index.get(hi(k), k)).toBe(k);
    expect(index.resizing).toBe(true);
    // Deleted while in either table, added while both are there.
    for (let k = 0; k < 513; k += 5) {
      expect(index.delete(hi(k), k, k)).toBe(true);
      // Gone from both tables (a moved entry leaves no live copy behind).
      expect(index.get(hi(k), k)).toBe(-1);
    }
    for (let k = 1000; k < 1010; k++) index.add(hi(k), k, k);
    expect(index.resizing).toBe(false);
    for (let k = 0; k < 513; k++) expect(index.get(hi(k), k)).toBe(k % 5 === 0 ? -1 : k);
    for (let k = 1000; k < 1010; k++) expect(index.get(hi(k), k)).toBe(k);
    expect(index.size).toBe(513 - 103 + 10);
    // Shrinking is the same: below an eighth of 2048 slots it halves, and moves as it goes.
    for (let k = 0; k < 513; k++) if (k % 5 !== 0) index.delete(hi(k), k, k);
    expect(index.capacity).toBe(1024);
    for (let k = 1000; k < 1010; k++) expect(index.get(hi(k), k)).toBe(k);
    expect(index.size).toBe(10);
  });

  it("settle() finishes a resize at once", () => {
    const index = new KeyIndex();
    for (let k = 0; k < 513; k++) index.add(k * 3, k, k);
    expect(index.resizing).toBe(true);
    index.settle();
    expect(index.resizing).toBe(false);
    for (let k = 0; k < 513; k++) expect(index.get(k * 3, k)).toBe(k);
  });

  it("deletes only the entry with that value", () => {
    const index = new KeyIndex();
    index.add(5, 6, 1);
    expect(index.delete(5, 6, 2)).toBe(false);
    expect(index.get(5, 6)).toBe(1);
    expect(index.delete(5, 6, 1)).toBe(true);
    expect(index.get(5, 6)).toBe(-1);
  });

  it("grows past 100,000 entries and shrinks back as they go", () => {
    const index = new KeyIndex();
    const hi = (k: number) => Math.imul(k, 40503);
    for (let k = 0; k < 100_000; k++) index.add(hi(k), k, k);
    for (let k = 0; k < 100_000; k += 997) expect(index.get(hi(k), k)).toBe(k);
    for (let k = 0; k < 99_990; k++) index.delete(hi(k), k, k);
    expect(index.size).toBe(10);
    for (let k = 99_990; k < 100_000; k++) expect(index.get(hi(k), k)).toBe(k);
    expect(index.get(hi(5), 5)).toBe(-1);
  });
});

describe("Fingerprint", () => {
  it("is the same for the same key, also after other keys, and differs between keys", () => {
    const fp = new Fingerprint();
    const keys = Array.from({ length: 20_000 }, (_, n) => `z9hG4bK-${n}|10.0.0.1:5062|OPTIONS`);
    const seen = new Set<string>();
    for (const k of keys) {
      fp.of(k);
      seen.add(`${fp.hi}:${fp.lo}`);
    }
    expect(seen.size).toBe(keys.length);
    const first = { ...new Fingerprint().of(keys[0]!) };
    for (const k of keys.slice(1, 9)) fp.of(k);
    // A string equal to the first key but another object.
    expect({ ...fp.of(`z9hG4bK-${0}|10.0.0.1:5062|OPTIONS`) }).toEqual(first);
    // The empty string too (the memo of recent keys starts with no entry, not with "").
    const empty = { ...fp.of("") };
    for (const k of keys.slice(20, 26)) fp.of(k);
    expect({ ...fp.of("") }).toEqual(empty);
    // One code unit apart, also above 0xFF.
    expect({ ...fp.of("a|b|OPTIONS") }).not.toEqual({ ...fp.of("a|c|OPTIONS") });
    expect({ ...fp.of("a|\u0101|X") }).not.toEqual({ ...fp.of("a|\u0001|X") });
  });
});

function request(
  n: number,
  o: { method?: string; branch?: string; toTag?: string; cseq?: number; from?: string } = {},
): ParsedRequest {
  const method = o.method ?? "OPTIONS";
  const branch = o.branch ?? `z9hG4bK-${n}-idx`;
  const r = parseDatagram(
    crlf(`${method} sip:bob@127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 10.0.0.1:5062;branch=${branch};rport
Max-Forwards: 70
From: <sip:alice@example.test>;tag=${o.from ?? `f${n}`}
To: <sip:bob@example.test>${o.toTag ? `;tag=${o.toTag}` : ""}
Call-ID: ${n}-idx@10.0.0.1
CSeq: ${o.cseq ?? 1} ${method}
Content-Length: 0

`),
  );
  if (!r.ok || r.message.kind !== "request") throw new Error("bad fixture");
  return r.message;
}

/** The final response a UAS sends to a request (RFC 3261 8.2.6.2: Via, From, To with tag, Call-ID, CSeq). */
function answer(r: ParsedRequest, tag: string, status = 200): Buffer {
  const h = r.headers;
  const to = r.core.to.tag ? h.get("To") : `${h.get("To")};tag=${tag}`;
  return crlf(`SIP/2.0 ${status} ${status === 200 ? "OK" : "Busy Here"}
Via: ${h.get("Via")};received=10.0.0.1
From: ${h.get("From")}
To: ${to}
Call-ID: ${r.core.callId}
CSeq: ${h.get("CSeq")}
Content-Length: 0

`);
}

const clocks: ManualClock[] = [];
afterEach(() => {
  for (const c of clocks.splice(0)) {
    c.scheduler.stop();
    expect(c.errors).toEqual([]);
  }
});

/** A layer whose TU holds nothing once a transaction is stored (onStored: false), as the UAS with idle contexts. */
function harness(held = false) {
  const clock = new ManualClock();
  clocks.push(clock);
  const sent: Buffer[] = [];
  const created: ServerTransaction[] = [];
  const retransmitted: ServerTransaction[] = [];
  const ended: ServerTransaction[] = [];
  const layer = new TransactionLayer(
    (_flow, bytes) => sent.push(bytes),
    {
      onRequest: (tx) => created.push(tx),
      onAck: () => {},
      onRetransmission: (tx) => retransmitted.push(tx),
      onStored: () => held,
      onTerminated: (tx) => ended.push(tx),
    },
    clock.scheduler,
    T,
  );
  return { layer, clock, sent, created, retransmitted, ended };
}

describe("stored transactions without key strings", () => {
  it("answer retransmissions and give their id read back from the response when the TU held nothing", async () => {
    const h = harness(false);
    for (let n = 0; n < 2000; n++) {
      h.layer.receive(request(n), udp);
      h.created[n]!.respond(200, answer(request(n), h.created[n]!.toTag));
    }
    for (const n of [0, 1023, 1999]) {
      h.layer.receive(request(n), udp);
      expect(h.sent.at(-1)!.toString("latin1")).toBe(
        answer(request(n), h.created[n]!.toTag).toString("latin1"),
      );
      const tx = h.retransmitted.at(-1)!;
      expect(tx.forgotten).toBe(true);
      expect([tx.id, tx.method, tx.toTag]).toEqual([h.created[n]!.id, "OPTIONS", h.created[n]!.toTag]);
    }
    // The same branch from another sent-by, or another method, is another transaction.
    h.layer.receive(request(5, { method: "INFO", branch: "z9hG4bK-5-idx" }), udp);
    expect(h.created).toHaveLength(2001);
    await h.clock.advance(J);
    // They ended (their keys are gone: the layer holds only the INFO); the TU, which held nothing, is not told.
    expect(h.ended).toEqual([]);
    expect(h.layer.size).toBe(1);
    for (const n of [0, 1999]) {
      h.layer.receive(request(n), udp);
      expect(h.created.at(-1)!.request.core.callId).toBe(`${n}-idx@10.0.0.1`);
    }
    expect(h.created).toHaveLength(2003);
  });

  it("keep the id as a string when the TU still holds something under it, and tell the TU when it ends", async () => {
    const h = harness(true);
    h.layer.receive(request(1), udp);
    h.created[0]!.respond(200, crlf("SIP/2.0 200 OK\nbroken by a fault\n\n"));
    h.layer.receive(request(1), udp);
    const tx = h.retransmitted.at(-1)!;
    expect(tx.forgotten).toBe(false);
    // (The bytes do not say it: it is the kept string.)
    expect(tx.id).toBe(h.created[0]!.id);
    await h.clock.advance(J);
    expect(h.ended.map((e) => [e.id, e.state])).toEqual([[h.created[0]!.id, "terminated"]]);
    expect(h.layer.size).toBe(0);
  });

  it("find a merged request (8.2.2.2) under a stored transaction's merge key, until it ends", async () => {
    const h = harness();
    h.layer.receive(request(7), udp);
    h.created[0]!.respond(486, answer(request(7), h.created[0]!.toTag, 486));
    const merged = request(7, { branch: "z9hG4bK-other" });
    h.layer.receive(merged, udp);
    expect(h.created).toHaveLength(2);
    const found = h.layer.findMergedWith(merged, h.created[1]!);
    expect([found?.id, found?.state]).toEqual([h.created[0]!.id, "completed"]);
    // Another CSeq is not merged.
    const next = request(7, { branch: "z9hG4bK-third", cseq: 2 });
    h.layer.receive(next, udp);
    expect(h.layer.findMergedWith(next, h.created[2]!)).toBeUndefined();
    h.created[1]!.respond(482, answer(merged, h.created[1]!.toTag, 486));
    h.created[2]!.respond(200, answer(next, h.created[2]!.toTag));
    await h.clock.advance(J);
    expect(h.layer.size).toBe(0);
    const again = request(7, { branch: "z9hG4bK-fourth" });
    h.layer.receive(again, udp);
    expect(h.layer.findMergedWith(again, h.created[3]!)).toBeUndefined();
  });

  it("match RFC 2543 retransmissions (no magic cookie: the key is not all in the response)", () => {
    const h = harness();
    const old = request(3, { branch: "1234" });
    h.layer.receive(old, udp);
    h.created[0]!.respond(200, answer(old, h.created[0]!.toTag));
    h.layer.receive(request(3, { branch: "1234" }), udp);
    expect(h.created).toHaveLength(1);
    expect(h.retransmitted.at(-1)!.id).toBe(transactionKey(old, "OPTIONS"));
  });

  it("keep a To tag that is not ours (an in-dialog request's), and methods that are not registered ones", async () => {
    const h = harness();
    h.layer.receive(request(4, { toTag: "Their-Tag.1" }), udp);
    h.created[0]!.respond(200, answer(request(4, { toTag: "Their-Tag.1" }), ""));
    for (let n = 0; n < 300; n++) {
      const r = request(100 + n, { method: `M${n}` });
      h.layer.receive(r, udp);
      h.created.at(-1)!.respond(200, answer(r, h.created.at(-1)!.toTag));
    }
    h.layer.receive(request(4, { toTag: "Their-Tag.1" }), udp);
    expect(h.retransmitted.at(-1)!.toTag).toBe("Their-Tag.1");
    for (const n of [0, 255, 256, 299]) {
      h.layer.receive(request(100 + n, { method: `M${n}` }), udp);
      expect(h.retransmitted.at(-1)!.method).toBe(`M${n}`);
      expect(h.retransmitted.at(-1)!.id).toBe(h.created[1 + n]!.id);
    }
    // Those strings go with their transactions: nothing a peer's methods fill stays behind.
    await h.clock.advance(J);
    expect(h.layer.size).toBe(0);
    const stores = (h.layer as unknown as { stores: Array<Record<string, unknown>> }).stores;
    expect(stores.map((st) => (st.extras as Map<number, unknown>).size)).toEqual([0, 0, 0]);
    expect(
      stores.flatMap((st) => Object.values(st).filter((v) => Array.isArray(v) && v.includes("M0"))),
    ).toEqual([]);
  });
});
