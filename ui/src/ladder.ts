/**
 * Ladder diagram layout for one call: one lane per endpoint (the origin and
 * proxies its Via headers name, the peers the mock exchanged messages with,
 * the mock's listeners), one arrow per journal entry, in journal order.
 * Pure: the SVG is drawn from this by ladder-view.ts.
 */
import { headerValues, mockKey, peerKey, viaPath } from "./endpoints.js";
import { entryLabel } from "./model.js";
import type { JournalEntry } from "./types.js";

export type LaneRole = "client" | "proxy" | "peer" | "mock";

export interface Lane {
  readonly endpoint: string;
  readonly role: LaneRole;
  readonly x: number;
}

export interface Arrow {
  readonly entry: JournalEntry;
  readonly label: string;
  readonly from: string;
  readonly to: string;
  readonly retransmission: boolean;
  /** Fault label(s), "" when none. */
  readonly fault: string;
  /** The scenario rule that answered, "" when none. */
  readonly rule: string;
  /** Milliseconds since the previous message of the call (0 for the first). */
  readonly deltaMs: number;
  readonly y: number;
}

export interface LadderLayout {
  readonly lanes: Lane[];
  readonly arrows: Arrow[];
  readonly width: number;
  readonly height: number;
  /** Index of the first arrow shown and how many messages the call has. */
  readonly offset: number;
  readonly total: number;
}

export const LANE_WIDTH = 200;
export const ROW_HEIGHT = 36;
export const HEADER_HEIGHT = 56;
const MARGIN = 110;
const NOTES_WIDTH = 240;

/** The lanes of a call, left to right: origin and proxies from Via, the peers, the mock. */
export function deriveLanes(entries: readonly JournalEntry[]): Array<Omit<Lane, "x">> {
  const hops: string[] = [];
  const origins = new Set<string>();
  const peers: string[] = [];
  const proxied = new Set<string>();
  const mocks: string[] = [];
  for (const e of entries) {
    const peer = peerKey(e);
    const mock = mockKey(e);
    if (!peers.includes(peer)) peers.push(peer);
    if (!mocks.includes(mock)) mocks.push(mock);
    const path = viaPath(e);
    if (path.length > 0) {
      proxied.add(peer);
      origins.add(path[0]!);
      for (const hop of path) if (!hops.includes(hop)) hops.push(hop);
    }
  }
  const taken = new Set([...peers, ...mocks]);
  const lanes: Array<Omit<Lane, "x">> = [];
  for (const h of hops) {
    if (!taken.has(h)) lanes.push({ endpoint: h, role: origins.has(h) ? "client" : "proxy" });
  }
  for (const p of peers) {
    if (!mocks.includes(p)) lanes.push({ endpoint: p, role: proxied.has(p) ? "proxy" : "peer" });
  }
  for (const m of mocks) lanes.push({ endpoint: m, role: "mock" });
  return lanes;
}

/**
 * The rule of each transaction, from whichever of its messages carries it:
 * a request streamed live is sent before the scenario decides, its
 * responses carry the rule.
 */
function rulesByTransaction(entries: readonly JournalEntry[]): Map<string, string> {
  const rules = new Map<string, string>();
  for (const e of entries)
    if (e.rule && e.transaction && !rules.has(e.transaction)) rules.set(e.transaction, e.rule);
  return rules;
}

/** The fault the journal recorded, or what an outgoing message itself shows was broken on purpose. */
export function faultOf(e: JournalEntry): string {
  const recorded = e.faults ?? e.fault;
  if (recorded !== undefined) return typeof recorded === "string" ? recorded : recorded.join(", ");
  if (e.direction !== "out") return "";
  // The mock never sends a broken message unless a scenario's fault: says so.
  if (e.kind === "unparsable") return "unparsable (garbage, truncate or malformed)";
  const split = e.raw.indexOf("\r\n\r\n");
  if (split < 0) return e.kind === "response" ? "truncate (no end of headers)" : "";
  const declared = headerValues(e.raw, ["content-length", "l"])[0];
  // The raw text is latin1: one character per octet.
  const body = e.raw.length - split - 4;
  if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) !== body) {
    return `contentLength (Content-Length: ${declared}, body ${body} octets)`;
  }
  return "";
}

export function formatDelta(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "+0 ms";
  if (ms < 10_000) return `+${Math.round(ms)} ms`;
  return `+${(ms / 1000).toFixed(1)} s`;
}

/**
 * Lays out a call's ladder: every lane, and the arrows of entries
 * [offset, offset + limit) so a call with thousands of messages stays fast.
 */
export function layoutLadder(entries: readonly JournalEntry[], offset = 0, limit = 500): LadderLayout {
  const lanes = deriveLanes(entries).map((l, i) => ({ ...l, x: MARGIN + i * LANE_WIDTH }));
  const start = Math.max(0, Math.min(offset, Math.max(0, entries.length - 1)));
  const shown = entries.slice(start, start + limit);
  let prev = start > 0 ? Date.parse(entries[start - 1]!.time) : undefined;
  const rules = rulesByTransaction(entries);
  const arrows = shown.map((e, i): Arrow => {
    const t = Date.parse(e.time);
    const deltaMs = prev === undefined || Number.isNaN(t) || Number.isNaN(prev) ? 0 : t - prev;
    prev = t;
    const peer = peerKey(e);
    const mock = mockKey(e);
    return {
      entry: e,
      label: entryLabel(e),
      from: e.direction === "in" ? peer : mock,
      to: e.direction === "in" ? mock : peer,
      retransmission: e.retransmission,
      fault: faultOf(e),
      rule: e.rule ?? (e.transaction ? rules.get(e.transaction) : undefined) ?? "",
      deltaMs,
      y: HEADER_HEIGHT + (i + 1) * ROW_HEIGHT,
    };
  });
  return {
    lanes,
    arrows,
    // Room on the right of the last lane for the notes (retransmission, rule).
    width: MARGIN + Math.max(1, lanes.length) * LANE_WIDTH + NOTES_WIDTH,
    height: HEADER_HEIGHT + (arrows.length + 1) * ROW_HEIGHT,
    offset: start,
    total: entries.length,
  };
}
