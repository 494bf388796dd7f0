/**
 * The journal's entry types (journal.ts re-exports them): a SIP message as
 * the journal's JSON has it, and any record (a message, a DTMF digit, a
 * call's media statistics).
 */
import type { Endpoint, TransportName } from "../transport/types.js";
import type { DtmfEntry, MediaEntry } from "./media-entries.js";

/** A SIP message in or out (kind request, response or unparsable). */
export interface JournalEntry {
  /** 1, 2, 3... in the order messages were received or sent (media entries share the sequence). */
  readonly id: number;
  /** ISO 8601 time. */
  readonly time: string;
  readonly direction: "in" | "out";
  readonly transport: TransportName;
  readonly local: Endpoint;
  readonly remote: Endpoint;
  /** The message exactly as on the wire, as latin1 text (octets 0-255 map 1:1). */
  readonly raw: string;
  readonly kind: "request" | "response" | "unparsable";
  readonly method?: string;
  readonly status?: number;
  readonly reason?: string;
  readonly callId?: string;
  readonly cseq?: string;
  readonly from?: string;
  readonly to?: string;
  /** Transaction key: top Via branch and CSeq method (an ACK counts as its INVITE's; CANCEL has its own). */
  readonly transaction?: string;
  /** Dialog: Call-ID, From tag, To tag (when both tags are known). */
  readonly dialog?: string;
  /** The scenario rule that answered the request (requests and their responses). */
  rule?: string;
  readonly retransmission: boolean;
  /** Faults a scenario injected into this message ("duplicate (the 486 sent 2 more time(s))"...). */
  faults?: string[];
}

/**
 * Any journal entry: a SIP message ({@link JournalEntry}) or a call's media
 * event; narrow on `kind` (request | response | unparsable | dtmf | media).
 */
export type JournalRecord = JournalEntry | DtmfEntry | MediaEntry;
export type JournalKind = JournalRecord["kind"];
export const JOURNAL_KINDS: readonly JournalKind[] = ["request", "response", "unparsable", "dtmf", "media"];

/** A SIP message (not a DTMF or media entry). */
export function isMessage(e: JournalRecord): e is JournalEntry {
  return e.kind === "request" || e.kind === "response" || e.kind === "unparsable";
}
