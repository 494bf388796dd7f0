/** The journal's queries: entries by filter, and messages grouped into calls. */

import type { JournalEntry, JournalKind, JournalRecord, MediaDirectionStats } from "./journal.js";
import { hashText } from "./journal-bytes.js";
import { JournalMessage, timeOf } from "./journal-entry.js";

export interface JournalFilter {
  /** Entries of these kinds only (default: all). */
  readonly kind?: JournalKind | readonly JournalKind[];
  readonly direction?: "in" | "out";
  readonly method?: string;
  readonly status?: number;
  readonly callId?: string;
  /** Entries with an id greater than this. */
  readonly sinceId?: number;
  /** Entries at or after this time (ISO or epoch ms). */
  readonly since?: string | number;
  /** At most this many, the most recent. */
  readonly limit?: number;
}

export interface Call {
  readonly callId: string;
  readonly first: string;
  readonly last: string;
  readonly messages: number;
  /** "in INVITE", "out 100 Trying"... in order. */
  readonly flow: readonly string[];
  readonly entries: readonly JournalEntry[];
  /** DTMF digits received in the call (RFC 4733, SIP INFO), when any. */
  readonly dtmf?: string;
  /** RTP statistics each way (packets, octets, loss, jitter), when the call had media. */
  readonly media?: { readonly sent: MediaDirectionStats; readonly received: MediaDirectionStats };
}

/** The records matching a filter, in order (message filters select messages only). */
export function filterRecords(live: readonly JournalRecord[], filter: JournalFilter): JournalRecord[] {
  const since =
    filter.since === undefined
      ? undefined
      : typeof filter.since === "number"
        ? filter.since
        : Date.parse(filter.since);
  const method = filter.method?.toUpperCase();
  const callHash = filter.callId === undefined ? 0 : hashText(filter.callId);
  const kinds = filter.kind === undefined ? undefined : ([] as JournalKind[]).concat(filter.kind);
  const found = live.filter(
    (e) =>
      (kinds === undefined || kinds.includes(e.kind)) &&
      (filter.direction === undefined || (e.kind !== "media" && e.direction === filter.direction)) &&
      (method === undefined ||
        (isMessage(e) && (e.method === method || e.cseq?.split(/\s+/)[1] === method))) &&
      (filter.status === undefined || (isMessage(e) && e.status === filter.status)) &&
      (filter.callId === undefined || ofCall(e, filter.callId, callHash)) &&
      (filter.sinceId === undefined || e.id > filter.sinceId) &&
      (since === undefined || timeOf(e) >= since),
  );
  return filter.limit !== undefined ? found.slice(Math.max(0, found.length - filter.limit)) : found;
}

/** Whether a record is of a call (a journaled message reads its Call-ID again only when its hash matches). */
export function ofCall(e: JournalRecord, callId: string, hash: number): boolean {
  return e instanceof JournalMessage ? e.isOfCall(callId, hash) : e.callId === callId;
}

/** SIP messages grouped by Call-ID, in order of their first message. */
export function groupCalls(messages: readonly JournalEntry[]): Call[] {
  const byId = new Map<string, JournalEntry[]>();
  for (const e of messages) {
    if (!e.callId) continue;
    const list = byId.get(e.callId) ?? [];
    list.push(e);
    byId.set(e.callId, list);
  }
  return [...byId].map(([callId, entries]) => ({
    callId,
    first: entries[0]!.time,
    last: entries[entries.length - 1]!.time,
    messages: entries.length,
    flow: entries.map(flowLine),
    entries,
  }));
}

/** journal.ts's isMessage (not imported: journal.ts imports this module). */
function isMessage(e: JournalRecord): e is JournalEntry {
  return e.kind === "request" || e.kind === "response" || e.kind === "unparsable";
}

function flowLine(e: JournalEntry): string {
  const what = e.kind === "response" ? `${e.status} ${e.reason}` : (e.method ?? "?");
  return `${e.direction} ${what}${e.retransmission ? " (retransmission)" : ""}`;
}
