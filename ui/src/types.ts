/**
 * The JSON the UI reads: journal entries as GET /__admin/journal and the
 * events stream send them (src/control/journal.ts JournalEntry), and the
 * page data the server writes into <script id="sipmock-data">.
 */

export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

export interface JournalEntry {
  readonly id: number;
  readonly time: string;
  readonly direction: "in" | "out";
  readonly transport: string;
  readonly local: Endpoint;
  readonly remote: Endpoint;
  readonly raw: string;
  readonly kind: "request" | "response" | "unparsable";
  readonly method?: string;
  readonly status?: number;
  readonly reason?: string;
  readonly callId?: string;
  readonly cseq?: string;
  readonly from?: string;
  readonly to?: string;
  readonly transaction?: string;
  readonly dialog?: string;
  readonly rule?: string;
  readonly retransmission: boolean;
  /** Faults the scenario injected into this message, when the journal records them. */
  readonly fault?: string | readonly string[];
  readonly faults?: readonly string[];
}

interface DirectionStats {
  readonly packets: number;
  readonly octets: number;
  readonly lost: number;
  readonly jitterMs: number;
}

/** A DTMF digit a call received (journal kind "dtmf"). */
export interface DtmfRecord {
  readonly id: number;
  readonly time: string;
  readonly kind: "dtmf";
  readonly callId: string;
  readonly digit: string;
  readonly durationMs: number;
  readonly volume: number;
  readonly via: string;
  readonly transport?: string;
  readonly remote?: Endpoint;
}

/** A call's RTP statistics when its media ended (journal kind "media"). */
export interface MediaRecord {
  readonly id: number;
  readonly time: string;
  readonly kind: "media";
  readonly callId: string;
  readonly codec?: string;
  readonly local?: Endpoint;
  readonly remote?: Endpoint;
  readonly sent: DirectionStats;
  readonly received: DirectionStats;
}

/** Anything the journal holds: a SIP message, or a call's DTMF digit or media statistics. */
export type JournalRecord = JournalEntry | DtmfRecord | MediaRecord;

export function isMessage(r: JournalRecord): r is JournalEntry {
  return r.kind !== "dtmf" && r.kind !== "media";
}

export interface Expectation {
  readonly description: string;
  readonly ok: boolean;
  readonly detail?: string;
}

/** Optional catalogue facts for status codes (the server may add them). */
export interface CatalogCode {
  readonly code: number;
  readonly reason?: string;
  readonly rfc?: string;
  readonly section?: string;
  readonly description?: string;
}

export type PageData =
  | {
      readonly mode: "live";
      readonly api: string;
      readonly token: string | null;
      readonly catalog?: CatalogCode[];
    }
  | {
      readonly mode: "report";
      readonly entries: readonly JournalRecord[];
      readonly expectations: readonly Expectation[] | null;
      readonly generatedAt: string;
      readonly catalog?: CatalogCode[];
    };

/** Validates the page data's shape (it comes from the server, but is checked before use). */
export function parsePageData(text: string | null | undefined): PageData {
  let v: unknown;
  try {
    v = JSON.parse(text ?? "");
  } catch {
    throw new Error("the page has no valid sipmock-data JSON");
  }
  if (!v || typeof v !== "object") throw new Error("sipmock-data must be a JSON object");
  const o = v as Record<string, unknown>;
  if (o.mode === "live") {
    if (typeof o.api !== "string") throw new Error('live sipmock-data needs "api"');
    if (o.token !== null && o.token !== undefined && typeof o.token !== "string")
      throw new Error('"token" must be a string or null');
    return v as PageData;
  }
  if (o.mode === "report") {
    if (!Array.isArray(o.entries)) throw new Error('report sipmock-data needs "entries"');
    return v as PageData;
  }
  throw new Error('sipmock-data "mode" must be "live" or "report"');
}
