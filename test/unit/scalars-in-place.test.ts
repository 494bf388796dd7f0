/**
 * Max-Forwards and Content-Length read by index instead of trim() and a
 * regex: the same numbers and the same errors (400 reasons) as the regex
 * version they replace, for generated values.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HeaderParseError } from "../../src/sip/headers/errors.js";
import { parseContentLength, parseMaxForwards } from "../../src/sip/headers/scalars.js";

const DIGITS = /^[0-9]+$/;

/** The regex versions (src/sip/headers/scalars.ts before the change). */
function regexMaxForwards(value: string): number {
  const v = value.trim();
  if (!DIGITS.test(v)) throw new HeaderParseError("Max-Forwards", `malformed Max-Forwards "${value}"`);
  const n = Number(v);
  if (v.length > 10 || n > 255) throw new HeaderParseError("Max-Forwards", `Max-Forwards ${v} is above 255`);
  return n;
}

function regexContentLength(value: string): number {
  const v = value.trim();
  if (!DIGITS.test(v)) throw new HeaderParseError("Content-Length", `malformed Content-Length "${value}"`);
  if (v.length > 9) throw new HeaderParseError("Content-Length", `Content-Length ${v} is too large`);
  return Number(v);
}

function outcome(f: () => number): unknown {
  try {
    return f();
  } catch (e) {
    return `${(e as Error).constructor.name}: ${(e as Error).message}`;
  }
}

const value = fc
  .array(
    fc.constantFrom(
      ..."0123456789".split(""),
      "0",
      "9",
      " ",
      "\t",
      "\u00a0",
      "\ufeff",
      "a",
      "+",
      "-",
      ".",
      "\n",
    ),
    {
      maxLength: 14,
    },
  )
  .map((p) => p.join(""));

describe("Max-Forwards and Content-Length read in place", () => {
  it.each([
    "70",
    " 0 ",
    "255",
    "256",
    "0000000255",
    "00000000255",
    "99999999999",
    "",
    " ",
    "7 0",
    "+1",
    "1e3",
    "\u00a070\ufeff",
  ])("%j", (v) => {
    expect(outcome(() => parseMaxForwards(v))).toEqual(outcome(() => regexMaxForwards(v)));
    expect(outcome(() => parseContentLength(v))).toEqual(outcome(() => regexContentLength(v)));
  });

  it("generated values: the same number or the same error as the regex version", () => {
    fc.assert(
      fc.property(value, (v) => {
        expect(outcome(() => parseMaxForwards(v))).toEqual(outcome(() => regexMaxForwards(v)));
        expect(outcome(() => parseContentLength(v))).toEqual(outcome(() => regexContentLength(v)));
      }),
      { numRuns: 5000 },
    );
  });
});
