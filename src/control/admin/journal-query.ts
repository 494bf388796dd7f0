/** The journal's filter from a query string (GET /__admin/journal, /__admin/calls): a 400 for a bad value. */
import { HttpProblem } from "../http-problem.js";
import { JOURNAL_KINDS, type JournalFilter, type JournalKind } from "../journal.js";

export function journalFilter(url: URL): JournalFilter {
  const q = url.searchParams;
  const since = sinceParam(q);
  const direction = q.get("direction");
  if (direction !== null && direction !== "in" && direction !== "out") {
    throw new HttpProblem(400, "Bad query", 'direction must be "in" or "out"');
  }
  const kinds = kindParam(q);
  const code = integerParam(q, "code");
  const sinceId = integerParam(q, "sinceId");
  const limit = integerParam(q, "limit");
  return {
    ...(q.get("method") ? { method: q.get("method")! } : {}),
    ...(code !== undefined ? { status: code } : {}),
    ...(q.get("callId") ? { callId: q.get("callId")! } : {}),
    ...(sinceId !== undefined ? { sinceId } : {}),
    ...(limit !== undefined ? { limit } : {}),
    ...(since !== null ? { since: /^\d+$/.test(since) ? Number(since) : since } : {}),
    ...(direction ? { direction } : {}),
    ...(kinds && kinds.length > 0 ? { kind: kinds as JournalKind[] } : {}),
  };
}

function integerParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  if (!/^\d+$/.test(v)) throw new HttpProblem(400, "Bad query", `${name} must be an integer, got "${v}"`);
  return Number(v);
}

function sinceParam(q: URLSearchParams): string | null {
  const since = q.get("since");
  if (since !== null && Number.isNaN(Date.parse(since)) && !/^\d+$/.test(since)) {
    throw new HttpProblem(
      400,
      "Bad query",
      `since must be an ISO time or epoch milliseconds, got "${since}"`,
    );
  }
  return since;
}

function kindParam(q: URLSearchParams): string[] | undefined {
  const kinds = q
    .get("kind")
    ?.split(",")
    .filter((k) => k !== "");
  const badKind = kinds?.find((k) => !(JOURNAL_KINDS as readonly string[]).includes(k));
  if (badKind !== undefined) {
    throw new HttpProblem(
      400,
      "Bad query",
      `kind must be one of ${JOURNAL_KINDS.join(", ")} (comma-separated), got "${badKind}"`,
    );
  }
  return kinds;
}
