/**
 * Patterns V8 runs in place of RE2 (src/scenario/plain-regex.ts, issue 12):
 * for every pattern it takes, V8 and RE2 (re2js) agree on every input
 * (fast-check over a grammar of both plain and non-plain syntax, and
 * inputs with newlines, carriage returns, Latin-1 and astral characters);
 * what it does not take stays with RE2.
 */
import fc from "fast-check";
import { RE2JS } from "re2js";
import { describe, expect, it, vi } from "vitest";
import { compileRegex } from "../../src/scenario/matcher.js";
import { plainRegexSource } from "../../src/scenario/plain-regex.js";

/** Classes of any body: letters, digits, "-", "^", "]" and other punctuation in any order (most are refused). */
const classArb = fc
  .tuple(
    fc.boolean(),
    fc.array(
      fc.constantFrom(
        "a",
        "c",
        "z",
        "A",
        "Z",
        "0",
        "5",
        "9",
        "-",
        "^",
        "]",
        "[",
        ".",
        "*",
        "/",
        " ",
        "\\",
        ":",
        "$",
      ),
      {
        minLength: 1,
        maxLength: 5,
      },
    ),
  )
  .map(([not, body]) => `[${not ? "^" : ""}${body.join("")}]`);

/** Pieces of patterns, plain and not (these must be refused). */
const piece = fc.oneof(
  fc.constantFrom("a", "b", "Z", "0", "7", "@", "-", "_", ":", ";", " ", "/", "=", "%", "é"),
  fc.constantFrom(
    "\\d",
    "\\w",
    "\\.",
    "\\+",
    "\\*",
    "\\?",
    "\\(",
    "\\)",
    "\\[",
    "\\]",
    "\\{",
    "\\}",
    "\\|",
    "\\^",
    "\\$",
    "\\\\",
    "\\/",
  ),
  fc.constantFrom("\\s", "\\b", "\\D", "\\-", "\\n"),
  fc.constantFrom(
    ".",
    "[a-z]",
    "[^0-9]",
    "[-a]",
    "[a-]",
    "[0-9a-fA-F]",
    "[.*+?]",
    "[^\\n]",
    "[a-c-e]",
    "[z-a]",
    "[:alpha:]",
    "[[:digit:]]",
    "[^]",
    "[]a]",
    "[a^$]",
  ),
  fc.constantFrom("*", "+", "?", "{2}", "|", "(", ")", "(?i)", "$", "^"),
  classArb,
);
const patternArb = fc
  .tuple(fc.boolean(), fc.array(piece, { maxLength: 6 }), fc.boolean())
  .map(([start, parts, end]) => `${start ? "^" : ""}${parts.join("")}${end ? "$" : ""}`);
const inputArb = fc
  .array(
    fc.constantFrom(
      "a",
      "b",
      "Z",
      "0",
      "7",
      "@",
      "-",
      "_",
      ":",
      " ",
      "/",
      ".",
      "\n",
      "\r",
      "é",
      "\u2028",
      "\u2029",
      "\u0085",
      "\ud800",
      "\udc00",
      "c",
      "z",
      "5",
      "9",
      "😀",
      "$",
      "^",
      "\\",
      "[",
      "]",
      "*",
    ),
    { maxLength: 8 },
  )
  .map((a) => a.join(""));

function re2(pattern: string): RE2JS | undefined {
  try {
    return RE2JS.compile(pattern);
  } catch {
    return undefined;
  }
}

describe("patterns V8 runs in place of RE2", () => {
  it("agree with RE2 on every input, for every pattern taken (fast-check)", () => {
    let taken = 0;
    fc.assert(
      fc.property(patternArb, fc.array(inputArb, { minLength: 1, maxLength: 8 }), (pattern, inputs) => {
        const source = plainRegexSource(pattern);
        const r = re2(pattern);
        if (source === undefined || r === undefined) return;
        taken++;
        const v8 = new RegExp(source, "u");
        for (const input of inputs)
          expect([pattern, input, v8.test(input)]).toEqual([pattern, input, r.test(input)]);
      }),
      { numRuns: 3000 },
    );
    // The grammar must reach the plain patterns, not only the refused ones.
    expect(taken).toBeGreaterThan(500);
  });

  it("take the built-in scenario's pattern and plain ones; leave repetition, alternation, groups and the rest to RE2", () => {
    for (const p of [
      "^[1-6][0-9][0-9]$",
      "^alice$",
      "example\\.com",
      "^sip:.@",
      "[^0-9]",
      "^\\d\\d\\d$",
      "a b",
    ])
      expect(plainRegexSource(p), p).toBeDefined();
    for (const p of [
      "^(a+)+$",
      "a*",
      "a|b",
      "(a)",
      "a{2}",
      "\\s",
      "\\b",
      "[[:digit:]]",
      "[a-c-e]",
      "[[a]",
      "\\-",
      "é",
      "a\tb",
    ])
      expect(plainRegexSource(p), p).toBeUndefined();
    // "." is any character but a newline, as in RE2 (V8's own "." stops at "\r" too).
    expect(compileRegex("^a.b$")("a\rb")).toBe(true);
    expect(compileRegex("^a.b$")("a\nb")).toBe(false);
    // A whole code point, as RE2 reads it.
    expect(compileRegex("^[^a]$")("😀")).toBe(true);
    expect(compileRegex("^.$")("😀")).toBe(true);
  });

  it("a scenario's plain pattern is run by V8, the others by RE2", () => {
    const spy = vi.spyOn(RE2JS.prototype, "test");
    try {
      expect(compileRegex("^[1-6][0-9][0-9]$")("486")).toBe(true);
      expect(spy).not.toHaveBeenCalled();
      expect(compileRegex("^[1-6][0-9]+$")("4860")).toBe(true);
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
    }
  });
});
