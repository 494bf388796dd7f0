/**
 * Verification against the journal (WireMock's verify and near misses):
 * request patterns are the scenario `match` block, matched against the
 * requests as the stack parsed them; a failed verification says what was
 * expected, what arrived, and which requests came closest.
 */
import { compileMatch } from "../scenario/matcher.js";
import { Match, type MatchT } from "../scenario/schema.js";
import type { RequestFacts } from "../scenario/types.js";
import { isSipUri, uriUser } from "../sip/uri.js";
import type { TransportName } from "../transport/types.js";
import type { Journal, JournalEntry } from "./journal.js";

/** Which requests to count: the same keys as a scenario rule's `match`. */
export type RequestPattern = MatchT;

export interface CountExpectation {
  /** Exactly this many. */
  readonly times?: number;
  readonly atLeast?: number;
  readonly atMost?: number;
}

export class VerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "VerificationError";
  }
}

export class PatternError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PatternError";
  }
}

/** Validates a pattern with the scenario schema; throws PatternError naming the problem. */
export function checkPattern(pattern: unknown): RequestPattern {
  const r = Match.safeParse(pattern ?? {});
  if (!r.success) {
    const issues = r.error.issues.map((i) =>
      i.code === "unrecognized_keys"
        ? `unknown key${i.keys.length > 1 ? "s" : ""} ${i.keys.map((k) => `"${k}"`).join(", ")}${i.path.length ? ` in ${i.path.join(".")}` : ""}`
        : `${i.path.join(".") || "pattern"}: ${i.message}`,
    );
    throw new PatternError(`invalid request pattern: ${issues.join("; ")}`);
  }
  try {
    compileMatch(r.data);
  } catch (e) {
    throw new PatternError(`invalid request pattern: ${(e as Error).message}`);
  }
  return r.data;
}

/**
 * The facts a pattern is matched against: the request as the stack parsed
 * it (kept by the journal beside the entry), where it came from, and the
 * digits its call received by now.
 */
export function factsOf(
  entry: JournalEntry,
  journal: Pick<Journal, "requestOf" | "digitsOf">,
): RequestFacts | undefined {
  const request = journal.requestOf(entry);
  if (!request) return undefined;
  const digitsOf = journal.digitsOf;
  const user = uriUser(request.uri);
  return {
    method: request.method,
    ...(user !== undefined ? { requestUser: user } : {}),
    ...(isSipUri(request.uri) ? { requestHost: request.uri.host } : {}),
    transport: entry.transport as TransportName,
    sourceAddress: entry.remote.address,
    sourcePort: entry.remote.port,
    hasBody: request.body.length > 0,
    request,
    // The digits the call received by the time of the check.
    ...(digitsOf ? { dtmf: digitsOf(request.core.callId) } : {}),
  };
}

/** Inbound requests (retransmissions excluded) matching the pattern. */
export function findRequests(journal: Journal, pattern: RequestPattern): JournalEntry[] {
  const matches = compileMatch(pattern);
  return journal
    .entries({ direction: "in" })
    .filter((e) => !e.retransmission && e.kind === "request")
    .filter((e) => {
      const f = factsOf(e, journal);
      return f !== undefined && matches(f);
    });
}

export function describeCount(c: CountExpectation): string {
  if (c.times !== undefined) return `exactly ${c.times}`;
  if (c.atLeast !== undefined && c.atMost !== undefined) return `between ${c.atLeast} and ${c.atMost}`;
  if (c.atMost !== undefined) return `at most ${c.atMost}`;
  return `at least ${c.atLeast ?? 1}`;
}

export function countHolds(n: number, c: CountExpectation): boolean {
  if (c.times !== undefined) return n === c.times;
  return n >= (c.atLeast ?? (c.atMost === undefined ? 1 : 0)) && (c.atMost === undefined || n <= c.atMost);
}

/** Throws a VerificationError with near misses unless the count holds. */
export function verify(
  journal: Journal,
  pattern: RequestPattern,
  count: CountExpectation = {},
): JournalEntry[] {
  const found = findRequests(journal, pattern);
  if (countHolds(found.length, count)) return found;
  const lines = [
    `expected ${describeCount(count)} request(s) matching ${JSON.stringify(pattern)}, received ${found.length}`,
  ];
  if (found.length > 0) {
    lines.push("matching:");
    for (const e of found.slice(0, 5))
      lines.push(`  #${e.id} ${e.time} ${firstLine(e)} (Call-ID ${e.callId ?? "?"})`);
  }
  const near = nearMisses(journal, pattern).slice(0, 3);
  if (near.length > 0) {
    lines.push("closest requests that did not match:");
    for (const m of near) {
      lines.push(
        `  #${m.entry.id} ${firstLine(m.entry)} (Call-ID ${m.entry.callId ?? "?"}): ${m.passed}/${m.total} conditions`,
      );
      for (const d of m.differences) lines.push(`    - ${d}`);
    }
  } else if (found.length === 0) lines.push("no requests were received at all");
  throw new VerificationError(lines.join("\n"));
}

function firstLine(e: JournalEntry): string {
  const i = e.raw.indexOf("\r\n");
  return i < 0 ? e.raw.slice(0, 80) : e.raw.slice(0, i);
}

interface Condition {
  readonly label: string;
  readonly pattern: RequestPattern;
  readonly actual: (f: RequestFacts) => string;
}

/** The pattern split into its conditions, each with how to show the actual value. */
function conditions(p: RequestPattern): Condition[] {
  const out: Condition[] = [];
  const r = (f: RequestFacts) => f.request;
  if (p.method !== undefined)
    out.push({
      label: `method ${JSON.stringify(p.method)}`,
      pattern: { method: p.method },
      actual: (f) => f.method,
    });
  if (p.requestUri)
    out.push({
      label: `requestUri ${JSON.stringify(p.requestUri)}`,
      pattern: { requestUri: p.requestUri },
      actual: (f) => r(f).uri.raw,
    });
  if (p.to)
    out.push({ label: `to ${JSON.stringify(p.to)}`, pattern: { to: p.to }, actual: (f) => r(f).core.to.raw });
  if (p.from)
    out.push({
      label: `from ${JSON.stringify(p.from)}`,
      pattern: { from: p.from },
      actual: (f) => r(f).core.from.raw,
    });
  for (const [name, spec] of Object.entries(p.headers ?? {})) {
    out.push({
      label: `header ${name} ${JSON.stringify(spec)}`,
      pattern: { headers: { [name]: spec } },
      actual: (f) => r(f).headers.get(name) ?? "(absent)",
    });
  }
  if (p.body)
    out.push({
      label: `body ${JSON.stringify(p.body)}`,
      pattern: { body: p.body },
      actual: (f) => JSON.stringify(r(f).body.toString("latin1").slice(0, 60)),
    });
  if (p.transport !== undefined)
    out.push({
      label: `transport ${JSON.stringify(p.transport)}`,
      pattern: { transport: p.transport },
      actual: (f) => f.transport,
    });
  if (p.source !== undefined)
    out.push({
      label: `source ${JSON.stringify(p.source)}`,
      pattern: { source: p.source },
      actual: (f) => f.sourceAddress,
    });
  if (p.dtmf !== undefined)
    out.push({
      label: `dtmf ${JSON.stringify(p.dtmf)}`,
      pattern: { dtmf: p.dtmf },
      actual: (f) => f.dtmf ?? "",
    });
  return out;
}

export interface NearMiss {
  readonly entry: JournalEntry;
  readonly passed: number;
  readonly total: number;
  readonly differences: readonly string[];
}

/** Requests that failed the pattern, closest first (most conditions met). */
export function nearMisses(journal: Journal, pattern: RequestPattern): NearMiss[] {
  const conds = conditions(pattern).map((c) => ({ ...c, test: compileMatch(c.pattern) }));
  const all = compileMatch(pattern);
  const out: NearMiss[] = [];
  for (const e of journal.entries({ direction: "in" })) {
    if (e.retransmission || e.kind !== "request") continue;
    const f = factsOf(e, journal);
    if (!f || all(f)) continue;
    const differences: string[] = [];
    let passed = 0;
    for (const c of conds) {
      if (c.test(f)) passed++;
      else differences.push(`${c.label}: was ${JSON.stringify(c.actual(f))}`);
    }
    out.push({ entry: e, passed, total: conds.length, differences });
  }
  return out.sort((a, b) => b.passed - a.passed || b.entry.id - a.entry.id);
}
