/** Journal entries grouped into calls (by Call-ID), and the list filters. */
import { peerKey } from "./endpoints.js";
import {
  type DtmfRecord,
  isMessage,
  type JournalEntry,
  type JournalRecord,
  type MediaRecord,
} from "./types.js";

export interface CallGroup {
  /** "" for messages without a readable Call-ID. */
  readonly callId: string;
  readonly entries: JournalEntry[];
  /** The call's DTMF digits and media statistics, in journal order (not arrows of the ladder). */
  readonly notes: Array<DtmfRecord | MediaRecord>;
  /** Peers (transport:ip:port) and transports seen, for the list and the filters. */
  readonly peers: Set<string>;
}

/** Calls in order of their first message; adding an entry is O(1). */
export class CallStore {
  private readonly byId = new Map<string, CallGroup>();
  private readonly ids = new Set<number>();
  /** Bumped on every change, so views know when to redraw. */
  version = 0;

  add(r: JournalRecord): CallGroup | undefined {
    if (this.ids.has(r.id)) return undefined;
    this.ids.add(r.id);
    const key = r.callId ?? "";
    let g = this.byId.get(key);
    if (!g) {
      g = { callId: key, entries: [], notes: [], peers: new Set() };
      this.byId.set(key, g);
    }
    if (!isMessage(r)) {
      // A digit or the media statistics: a note on the call, not an arrow.
      if (r.kind !== "dtmf" && r.kind !== "media") return undefined;
      g.notes.push(r);
      g.notes.sort((a, b) => a.id - b.id);
      this.version++;
      return g;
    }
    const e = r;
    const last = g.entries[g.entries.length - 1];
    if (last && last.id > e.id) {
      g.entries.push(e);
      g.entries.sort((a, b) => a.id - b.id);
    } else g.entries.push(e);
    g.peers.add(peerKey(e));
    this.version++;
    return g;
  }

  addAll(entries: readonly JournalRecord[]): void {
    for (const e of entries) this.add(e);
  }

  /**
   * Adds an entry, or replaces the one with its id when what the journal
   * learnt since differs (the rule and faults are set after a message is
   * streamed). Returns whether anything changed.
   */
  upsert(r: JournalRecord): boolean {
    if (!this.ids.has(r.id)) return this.add(r) !== undefined;
    if (!isMessage(r)) return false;
    const e = r;
    const list = this.byId.get(e.callId ?? "")?.entries;
    const i = list ? list.findIndex((x) => x.id === e.id) : -1;
    if (!list || i < 0) return false;
    const old = list[i]!;
    if (
      old.rule === e.rule &&
      JSON.stringify(old.faults ?? old.fault) === JSON.stringify(e.faults ?? e.fault)
    )
      return false;
    list[i] = e;
    this.version++;
    return true;
  }

  clear(): void {
    this.byId.clear();
    this.ids.clear();
    this.version++;
  }

  get(callId: string): CallGroup | undefined {
    return this.byId.get(callId);
  }

  get size(): number {
    return this.byId.size;
  }

  get entryCount(): number {
    return this.ids.size;
  }

  calls(): CallGroup[] {
    return [...this.byId.values()];
  }
}

/** What one arrow or list line says: the method, "486 Busy Here", or "(unparsable)". */
export function entryLabel(e: JournalEntry): string {
  if (e.kind === "response") return `${e.status ?? "?"}${e.reason ? ` ${e.reason}` : ""}`;
  if (e.kind === "request") return e.method ?? "?";
  return "(unparsable)";
}

/** The CSeq method: a response's request method (RFC 3261 8.1.1.5). */
export function cseqMethod(e: JournalEntry): string | undefined {
  return e.cseq?.trim().split(/\s+/)[1]?.toUpperCase();
}

/** "INVITE -> 486 Busy Here": the first request and the final answer to it. */
export function callSummary(g: CallGroup): string {
  const first = g.entries.find((e) => e.kind === "request");
  if (!first) return g.entries[0] ? entryLabel(g.entries[0]) : "";
  const method = first.method ?? "?";
  let final: JournalEntry | undefined;
  let provisional: JournalEntry | undefined;
  for (const e of g.entries) {
    if (e.kind !== "response" || cseqMethod(e) !== method.toUpperCase()) continue;
    if ((e.status ?? 0) >= 200) final = e;
    else provisional = e;
  }
  const answer = final ?? provisional;
  return answer ? `${method} \u2192 ${entryLabel(answer)}` : method;
}

export interface Filter {
  readonly text?: string;
  readonly method?: string;
  /** "486", or a class: "4xx" / "4". */
  readonly status?: string;
  readonly callId?: string;
  readonly peer?: string;
  readonly transport?: string;
  /** Epoch ms bounds (inclusive). */
  readonly since?: number;
  readonly until?: number;
}

export function isEmptyFilter(f: Filter): boolean {
  return (
    !f.text &&
    !f.method &&
    !f.status &&
    !f.callId &&
    !f.peer &&
    !f.transport &&
    f.since === undefined &&
    f.until === undefined
  );
}

function statusMatches(e: JournalEntry, wanted: string): boolean {
  const w = wanted.trim().toLowerCase();
  if (e.status === undefined) return false;
  const m = /^([1-6])(?:xx)?$/.exec(w);
  if (m) return Math.floor(e.status / 100) === Number(m[1]);
  return String(e.status) === w;
}

/** Whether one message passes every filter given. */
export function entryMatches(e: JournalEntry, f: Filter): boolean {
  if (f.method) {
    const m = f.method.trim().toUpperCase();
    if (m && e.method?.toUpperCase() !== m && cseqMethod(e) !== m) return false;
  }
  if (f.status?.trim() && !statusMatches(e, f.status)) return false;
  if (f.callId?.trim() && !(e.callId ?? "").toLowerCase().includes(f.callId.trim().toLowerCase()))
    return false;
  if (f.peer?.trim() && !peerKey(e).includes(f.peer.trim().toLowerCase())) return false;
  if (f.transport?.trim() && e.transport.toLowerCase() !== f.transport.trim().toLowerCase()) return false;
  if (f.since !== undefined || f.until !== undefined) {
    const t = Date.parse(e.time);
    if (f.since !== undefined && !(t >= f.since)) return false;
    if (f.until !== undefined && !(t <= f.until)) return false;
  }
  if (f.text?.trim()) {
    const needle = f.text.trim().toLowerCase();
    if (!e.raw.toLowerCase().includes(needle) && !(e.rule ?? "").toLowerCase().includes(needle)) return false;
  }
  return true;
}

/** The calls with at least one message passing the filter, in order. */
export function filterCalls(calls: readonly CallGroup[], f: Filter): CallGroup[] {
  if (isEmptyFilter(f)) return [...calls];
  return calls.filter((g) => g.entries.some((e) => entryMatches(e, f)));
}

/** Parses a date/time input's value ("2026-12-04T14:07:00", local time) to epoch ms. */
export function parseTimeInput(value: string): number | undefined {
  if (!value.trim()) return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}

/** One line for a call's DTMF digit or media statistics (the UI's notes under the ladder). */
export function noteText(n: DtmfRecord | MediaRecord): string {
  const t = n.time.slice(11, 23);
  const at = (e?: { address: string; port: number }) => (e ? ` from ${e.address}:${e.port}` : "");
  if (n.kind === "dtmf") return `${t} DTMF ${n.digit} (${n.via}, ${n.durationMs} ms)${at(n.remote)}`;
  const d = (x: MediaRecord["sent"]) =>
    `${x.packets} packets, ${x.octets} octets, lost ${x.lost}, jitter ${Number(x.jitterMs).toFixed(1)} ms`;
  return `${t} RTP${n.codec ? ` ${n.codec}` : ""}: sent ${d(n.sent)}; received ${d(n.received)}`;
}
