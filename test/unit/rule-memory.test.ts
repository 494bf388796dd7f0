/**
 * The journal's transaction key -> rule memory finds what a BoundedMap of
 * the same size finds, though it hashes rulings only when a lookup needs them.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RuleMemory } from "../../src/control/rule-memory.js";
import { BoundedMap } from "../../src/sip/bounded-map.js";

type Op = { set: true; rule: string } | { set: false; back: number };

describe("RuleMemory", () => {
  it("answers every lookup as a BoundedMap of the same size does (keys ruled once each)", () => {
    // Lookups rare enough that more rulings than the map holds often wait.
    const op: fc.Arbitrary<Op> = fc.oneof(
      {
        arbitrary: fc.record({ set: fc.constant(true as const), rule: fc.constantFrom("r1", "r2", "r3") }),
        weight: 10,
      },
      { arbitrary: fc.record({ set: fc.constant(false as const), back: fc.nat(40) }), weight: 1 },
    );
    fc.assert(
      fc.property(fc.nat(12), fc.array(op, { maxLength: 300 }), (max, ops) => {
        const memory = new RuleMemory(max);
        const reference = new BoundedMap<string, string>(max);
        let n = 0;
        for (const o of ops) {
          if (o.set) {
            const key = `z9hG4bK-${n++}/INVITE`;
            memory.set(key, o.rule);
            reference.set(key, o.rule);
          } else {
            // A key ruled `back` rulings ago (or never, past the first).
            const key = `z9hG4bK-${n - 1 - o.back}/INVITE`;
            expect(memory.get(key)).toBe(reference.get(key));
          }
        }
        for (let i = 0; i < n; i++) {
          const key = `z9hG4bK-${i}/INVITE`;
          expect(memory.get(key)).toBe(reference.get(key));
        }
      }),
    );
  });

  it("a key ruled again keeps the newest rule; clear() forgets all", () => {
    const memory = new RuleMemory(3);
    memory.set("a/INVITE", "r1");
    memory.set("b/INVITE", "r2");
    memory.set("a/INVITE", "r3");
    expect(memory.get("a/INVITE")).toBe("r3");
    expect(memory.get("b/INVITE")).toBe("r2");
    memory.clear();
    expect(memory.get("a/INVITE")).toBeUndefined();
    expect(memory.get("b/INVITE")).toBeUndefined();
  });
});
