/**
 * parseParamsIn finds the ";" between parameters by indexOf when the list
 * has no quoted string and no "<" (nextTopLevel otherwise): the same map, or
 * the same refusal, as the version that always scanned (reference below),
 * for generated parameter lists and ranges, built and only checked.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  isToken,
  NO_PARAMS,
  nextTopLevel,
  parseParamsIn,
  skipSpace,
  trimEndIndex,
} from "../../src/sip/tokens.js";

/** parseParamsIn at 6862bef (USUAL_PARAMS sharing left out: it changes no value). */
function reference(input: string, from: number, to: number): Array<[string, string | null]> | undefined {
  const params = new Map<string, string | null>();
  const first = skipSpace(input, from, to);
  const end = trimEndIndex(input, first, to);
  for (let start = first; start < end; ) {
    const sep = nextTopLevel(input, 0x3b, start, end);
    const ps = skipSpace(input, start, sep);
    const pe = trimEndIndex(input, ps, sep);
    if (ps < pe) {
      let eq = ps;
      while (eq < pe && input.charCodeAt(eq) !== 0x3d) eq++;
      const name = input.slice(ps, trimEndIndex(input, ps, eq)).toLowerCase();
      if (!isToken(name)) return undefined;
      if (!params.has(name)) params.set(name, eq < pe ? input.slice(skipSpace(input, eq + 1, pe), pe) : null);
    }
    start = sep + 1;
  }
  return [...params];
}

const piece = fc.constantFrom(
  ";",
  "=",
  '"',
  "\\",
  "<",
  ">",
  " ",
  "\t",
  "tag",
  "Branch",
  "x",
  "1",
  "a b",
  "(",
  ",",
  "\u00a0",
);
const list = fc.array(piece, { maxLength: 14 }).map((p) => p.join(""));

describe("parseParamsIn with indexOf for plain lists", () => {
  it("generated lists and ranges: the same entries or the same refusal", () => {
    fc.assert(
      fc.property(list, fc.nat(20), fc.nat(20), (input, a, b) => {
        const from = Math.min(a, b, input.length);
        const to = Math.min(Math.max(a, b), input.length);
        const want = reference(input, from, to);
        const built = parseParamsIn(input, from, to);
        expect(built === undefined ? undefined : [...built]).toEqual(want);
        if (built !== undefined && built.size === 0) expect(built).toBe(NO_PARAMS);
        expect(parseParamsIn(input, from, to, false) !== undefined).toBe(want !== undefined);
      }),
      { numRuns: 5000 },
    );
  });
});
