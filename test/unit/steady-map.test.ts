/**
 * SteadyMap (src/sip/steady-map.ts, issue 12): a Map that keeps a hidden
 * entry so that V8 does not reallocate its table each time it empties. It
 * must read exactly as a Map: checked against one over random operations.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SteadyMap } from "../../src/sip/steady-map.js";

const op = fc.oneof(
  fc.record({ op: fc.constant("set" as const), k: fc.integer({ min: 0, max: 6 }), v: fc.integer() }),
  fc.record({ op: fc.constant("delete" as const), k: fc.integer({ min: 0, max: 6 }) }),
  fc.record({ op: fc.constant("clear" as const) }),
);

describe("SteadyMap", () => {
  it("reads as a Map: size, get, has, every way of iterating (fast-check)", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const m = new Map<number, number>();
        const s = new SteadyMap<number, number>();
        for (const o of ops) {
          if (o.op === "set") {
            expect(s.set(o.k, o.v)).toBe(s);
            m.set(o.k, o.v);
          } else if (o.op === "delete") expect(s.delete(o.k)).toBe(m.delete(o.k));
          else {
            s.clear();
            m.clear();
          }
          expect(s.size).toBe(m.size);
          for (let k = 0; k <= 6; k++) {
            expect(s.get(k)).toBe(m.get(k));
            expect(s.has(k)).toBe(m.has(k));
          }
          expect([...s]).toEqual([...m]);
          expect([...s.keys()]).toEqual([...m.keys()]);
          expect([...s.values()]).toEqual([...m.values()]);
          expect([...s.entries()]).toEqual([...m.entries()]);
          const seen: Array<[number, number]> = [];
          s.forEach((v, k, map) => {
            expect(map).toBe(s);
            seen.push([k, v]);
          });
          expect(seen).toEqual([...m]);
        }
      }),
    );
  });

  it("iterates as a Map while entries are deleted and added during the iteration", () => {
    const run = (m: Map<number, number>): number[] => {
      for (let k = 0; k < 6; k++) m.set(k, k);
      const seen: number[] = [];
      for (const [k] of m) {
        seen.push(k);
        if (k === 1) m.delete(2);
        if (k === 3) m.set(9, 9);
        if (k === 4) m.delete(0);
      }
      for (const v of m.values()) if (v === 5) m.delete(5);
      return [...seen, -1, ...m.keys()];
    };
    expect(run(new SteadyMap())).toEqual(run(new Map()));
  });
});
