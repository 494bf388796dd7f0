/**
 * CI verdicts: a scenario's `expectations` checked against the journal, as
 * a readable report and a JUnit XML file for CI systems.
 */
import { toMs } from "../scenario/duration.js";
import type { ExpectationT } from "../scenario/schema.js";
import type { Journal } from "./journal.js";
import { timeOf } from "./journal-entry.js";
import { countHolds, describeCount, findRequests, VerificationError, verify } from "./verify.js";

export interface ExpectationResult {
  readonly name: string;
  readonly ok: boolean;
  readonly received: number;
  readonly expected: string;
  /** Why it failed, with near misses. */
  readonly detail?: string;
}

export function checkExpectations(
  journal: Journal,
  expectations: readonly ExpectationT[],
): ExpectationResult[] {
  const first = journal.firstRequestAt;
  return expectations.map((x, i) => {
    const name = x.name ?? `expectation ${i + 1}`;
    const count = {
      ...(x.times !== undefined ? { times: x.times } : {}),
      ...(x.atLeast !== undefined ? { atLeast: x.atLeast } : {}),
      ...(x.atMost !== undefined ? { atMost: x.atMost } : {}),
    };
    let found = findRequests(journal, x.match);
    if (x.within !== undefined && first !== undefined) {
      const limit = first + toMs(x.within);
      found = found.filter((e) => timeOf(e) <= limit);
    }
    const expected = `${describeCount(count)}${x.within !== undefined ? ` within ${x.within}` : ""}`;
    if (countHolds(found.length, count)) return { name, ok: true, received: found.length, expected };
    let detail = `received ${found.length}, expected ${expected}`;
    if (x.within === undefined) {
      try {
        verify(journal, x.match, count);
      } catch (e) {
        if (e instanceof VerificationError) detail = e.message;
      }
    }
    return { name, ok: false, received: found.length, expected, detail };
  });
}

export function formatReport(results: readonly ExpectationResult[]): string {
  const lines = results.map((r) =>
    r.ok
      ? `PASS ${r.name}: received ${r.received} (expected ${r.expected})`
      : `FAIL ${r.name}: ${r.detail?.split("\n").join("\n     ")}`,
  );
  const failed = results.filter((r) => !r.ok).length;
  lines.push(`${results.length - failed} of ${results.length} expectations met`);
  return lines.join("\n");
}

const xml = (s: string) =>
  s
    // XML 1.0 forbids most control characters; a peer's Call-ID could carry them.
    .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]/g, "\ufffd")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");

export function junitXml(suite: string, results: readonly ExpectationResult[], seconds: number): string {
  const failures = results.filter((r) => !r.ok).length;
  const cases = results.map((r) => {
    const open = `    <testcase classname="${xml(suite)}" name="${xml(r.name)}" time="0">`;
    if (r.ok) return `${open}</testcase>`;
    return `${open}\n      <failure message="${xml(`received ${r.received}, expected ${r.expected}`)}">${xml(r.detail ?? "")}</failure>\n    </testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites tests="${results.length}" failures="${failures}" time="${seconds.toFixed(3)}">`,
    `  <testsuite name="${xml(suite)}" tests="${results.length}" failures="${failures}" errors="0" time="${seconds.toFixed(3)}">`,
    ...cases,
    "  </testsuite>",
    "</testsuites>",
    "",
  ].join("\n");
}
