/**
 * Issue 10 items 6-8 at the scenario loader: user regexes run on RE2 and a
 * pattern it cannot run is a file:line:col error; size, nesting, aliases and
 * the rule count are bounded before the costly parts; validation time is
 * linear in the number of rules (ratio only, no absolute time).
 */
import { describe, expect, it } from "vitest";
import { checkPattern, PatternError } from "../../src/control/verify.js";
import { tooDeep } from "../../src/scenario/bounds.js";
import { formatProblem, parseScenario } from "../../src/scenario/load.js";
import { compileRegex } from "../../src/scenario/matcher.js";

const errors = (text: string, limits = {}) => {
  const r = parseScenario(text, "s.yaml", {}, { allowFiles: false, ...limits });
  return r.ok ? [] : r.problems.map(formatProblem);
};

describe("regular expressions run on RE2", () => {
  it("a catastrophic pattern answers at once, match or not", () => {
    const test = compileRegex("^(a+)+$");
    expect(test(`${"a".repeat(5000)}!`)).toBe(false);
    expect(test("a".repeat(5000))).toBe(true);
  });

  it("a backreference or lookaround is a file:line:col error naming RE2", () => {
    const text = [
      "name: re",
      "rules:",
      "  - match: { to: { user: '^(a)\\1$' } }",
      "    respond: 486",
      "  - match: { body: { regex: '(?=x)x' } }",
      "    respond: 488",
      "",
    ].join("\n");
    const got = errors(text);
    expect(got).toHaveLength(2);
    expect(got[0]).toMatch(
      /^s\.yaml:3:12: rule 1: invalid regular expression "\^\(a\)\\\\1\$": invalid escape sequence: `\\1` \(RE2 syntax: no backreferences or lookaround\); fix: regular expressions use RE2 syntax/,
    );
    expect(got[1]).toMatch(/^s\.yaml:5:12: rule 2: invalid regular expression "\(\?=x\)x": .*lookaround/);
  });

  it("verify patterns are checked the same way", () => {
    expect(() => checkPattern({ from: { user: "(?<!a)b" } })).toThrow(PatternError);
    expect(() => checkPattern({ from: { user: "^[a-z]+\\d{2,3}$" } })).not.toThrow();
  });
});

describe("scenario bounds", () => {
  it("a text above the size limit is refused before parsing", () => {
    expect(errors(`name: big\nrules: []\n# ${"x".repeat(2000)}\n`, { maxBytes: 1000 })).toEqual([
      "s.yaml:1:1: scenario is 2023 octets, more than the 1000 accepted; fix: split it into several files (--scenario a.yaml --scenario b.yaml), or raise --max-scenario-size",
    ]);
  });

  it("flow collections nested past the bound are refused at their position", () => {
    expect(errors(`name: deep\nrules:\n  - match: ${"[".repeat(500_000)}\n`)).toEqual([
      "s.yaml:3:76: [ ] and { } nest more than 64 deep; fix: a scenario needs a few levels; close the brackets or quote the text",
    ]);
    // Brackets in quoted strings and comments do not count.
    expect(
      tooDeep(`a: "${"[".repeat(100)}"\nb: '${"{".repeat(100)}'\n# ${"[".repeat(100)}\n`),
    ).toBeUndefined();
    expect(tooDeep(`{"a":"${"[".repeat(100)}"}`)).toBeUndefined();
    // ...up to a far higher bound, so a misread quote cannot hide unbounded nesting.
    expect(tooDeep(`a: "${"[".repeat(2000)}"`)).toBe(1004);
  });

  it("an alias bomb is a problem, not an exception", () => {
    const levels = ["a: &a [x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(", ")}]`);
    }
    const got = errors(`${levels.join("\n")}\nname: bomb\nrules: []\n`);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatch(/^s\.yaml:1:1: YAML: Excessive alias count .*; fix: use fewer aliases/);
  });

  it("more rules than the bound is one error at rules:", () => {
    const rules = (n: number) =>
      `name: many\nrules:\n${"  - match: { method: OPTIONS }\n    respond: 200\n    times: 1\n".repeat(n)}`;
    expect(errors(rules(3), { maxRules: 2 })).toEqual([
      "s.yaml:2:1: 3 rules, more than the 2 accepted; fix: split the scenario, or raise --max-rules",
    ]);
    expect(errors(rules(2), { maxRules: 2 })).toEqual([]);
  });
});

describe("validation time is linear in the number of rules", () => {
  const scenario = (n: number) =>
    `name: many\nrules:\n${Array.from(
      { length: n },
      (_, i) =>
        `  - match: { requestUri: { user: "^u${i}$" }, method: [INVITE, OPTIONS] }\n    respond: 486\n`,
    ).join("")}`;

  /** The best of 3 runs, in milliseconds. */
  const best = (text: string) => {
    let min = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const r = parseScenario(text, "s.yaml", {}, { allowFiles: false });
      min = Math.min(min, performance.now() - t0);
      expect(r.ok).toBe(true);
    }
    return min;
  };

  it("8x the rules cost well under 64x the time (the unreachable-rule check was quadratic)", () => {
    const small = scenario(1_250);
    const large = scenario(10_000);
    best(small);
    let ratio = best(large) / best(small);
    if (ratio >= 20) ratio = Math.min(ratio, best(large) / best(small));
    expect(ratio).toBeLessThan(20);
  });
});
