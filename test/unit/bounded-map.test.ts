/**
 * BoundedMap (src/sip/bounded-map.ts): at most `max` keys, the oldest
 * dropped first, with one iterator kept across evictions (the journal's,
 * the authenticator's and the media maps' bound).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BoundedMap } from "../../src/sip/bounded-map.js";

describe("BoundedMap", () => {
  it("keeps the newest max keys, in insertion order", () => {
    const m = new BoundedMap<string, number>(3);
    for (let i = 1; i <= 5; i++) m.set(`k${i}`, i);
    expect([...m.keys()]).toEqual(["k3", "k4", "k5"]);
  });

  it("a key deleted and set again counts as new; setting a present key keeps its place", () => {
    const m = new BoundedMap<string, number>(3);
    m.set("a", 1).set("b", 2).set("c", 3);
    m.delete("a");
    m.set("a", 4);
    m.set("b", 5);
    m.set("d", 6);
    expect([...m]).toEqual([
      ["c", 3],
      ["a", 4],
      ["d", 6],
    ]);
  });

  it("clear() starts over", () => {
    const m = new BoundedMap<number, number>(2);
    for (let i = 0; i < 10; i++) m.set(i, i);
    m.clear();
    m.set(100, 1).set(101, 2).set(102, 3);
    expect([...m.keys()]).toEqual([101, 102]);
  });

  it("behaves as a Map that drops its first key past the bound, for any sequence of set/delete/clear", () => {
    const op = fc.oneof(
      fc.record({ set: fc.integer({ min: 0, max: 30 }) }),
      fc.record({ del: fc.integer({ min: 0, max: 30 }) }),
      fc.constant({ clear: true }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(op, { maxLength: 200 }), (max, ops) => {
        const m = new BoundedMap<number, number>(max);
        const model = new Map<number, number>();
        ops.forEach((o, i) => {
          if ("set" in o) {
            m.set(o.set, i);
            model.set(o.set, i);
            if (model.size > max) model.delete(model.keys().next().value!);
          } else if ("del" in o) {
            expect(m.delete(o.del)).toBe(model.delete(o.del));
          } else {
            m.clear();
            model.clear();
          }
          expect([...m]).toEqual([...model]);
        });
      }),
    );
  });
});
