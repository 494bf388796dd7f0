/**
 * Schema problems (zod issues) as one-line messages with a fix: unknown keys
 * with did-you-mean, wrong types and values, missing keys.
 */
import type { z } from "zod";
import { keysAt } from "./keys.js";
import type { Path, Report } from "./problems.js";
import { didYouMean } from "./suggest.js";

type Issue = z.core.$ZodIssue;

/** Reports every issue of a failed `safeParse`, unknown keys at the key itself. */
export function reportSchemaIssues(issues: readonly Issue[], report: Report): void {
  for (const issue of flattenIssues(issues)) {
    const path = issue.path as Path;
    if (issue.code === "unrecognized_keys") {
      const allowed = keysAt(path);
      for (const key of issue.keys) {
        const suggestion = didYouMean(key, allowed);
        report(
          [...path, key],
          `unknown key "${key}"`,
          suggestion ? `did you mean "${suggestion}"?` : `allowed here: ${allowed.join(", ")}`,
          true,
        );
      }
    } else {
      report(path, describeIssue(issue, path), hintFor(issue, path));
    }
  }
}

/** Union failures: report the branch that got furthest (the longest paths), not "invalid input". */
function flattenIssues(issues: readonly Issue[]): Issue[] {
  const out: Issue[] = [];
  for (const issue of issues) {
    if (issue.code === "invalid_union" && issue.errors.length > 0) {
      const depth = (errs: readonly Issue[]) => Math.max(...errs.map((e) => e.path.length));
      const typeOnly = (errs: readonly Issue[]) =>
        errs.every((e) => e.code === "invalid_type" && e.path.length === 0);
      const branches = issue.errors.filter((b) => !typeOnly(b));
      if (branches.length === 0) {
        out.push(issue);
        continue;
      }
      const best = branches.reduce((a, b) => (depth(b) > depth(a) ? b : a));
      out.push(...flattenIssues(best.map((e) => ({ ...e, path: [...issue.path, ...e.path] }) as Issue)));
    } else out.push(issue);
  }
  return out;
}

function describeIssue(issue: Issue, path: Path): string {
  const where = path.length > 0 ? `"${path[path.length - 1]}"` : "the file";
  switch (issue.code) {
    case "invalid_type":
      return issue.input === undefined
        ? `missing ${where}`
        : `${where} must be ${article(issue.expected)}, not ${kindOf(issue.input)}`;
    case "invalid_union":
      return `${where} has the wrong shape`;
    case "too_small":
    case "too_big":
    case "invalid_format":
    case "invalid_value":
      return issue.code === "invalid_value" && issue.input === undefined
        ? `missing ${where}`
        : `${where}: ${issue.message}`;
    default:
      return `${where}: ${issue.message}`;
  }
}

function hintFor(issue: Issue, path: Path): string | undefined {
  const last = path[path.length - 1];
  if (last === "send" && path.includes("then"))
    return "send: BYE, re-INVITE, UPDATE, DTMF (in the call) or INVITE, NOTIFY, OPTIONS (to the registered client)";
  if (last === "after" || last === "cancelAfter" || last === "hangUpAfter")
    return 'milliseconds or "500ms", "2s"';
  if (last === "respond" || last === "send") return "a status code 100..699, e.g. respond: 486";
  if (last === "method") return "a method or a list: method: [INVITE, OPTIONS]";
  if (last === "delay" || last === "wait")
    return 'milliseconds or "500ms", "2s"; random: { min: 1s, max: 3s }';
  if (issue.code === "invalid_type" && issue.input === undefined && last === "rules") return "rules: [ ... ]";
  return undefined;
}

function article(expected: string): string {
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return `${typeof v} ${JSON.stringify(v)}`;
}
