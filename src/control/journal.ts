/**
 * The journal (WireMock's request journal): every message in and out, with
 * where it went, its bytes, a parsed summary, the transaction and dialog it
 * belongs to and the scenario rule that answered it. Bounded in memory;
 * capture sinks (JSONL, pcap) see every entry.
 */
import { DEFAULT_BUDGETS, ITEM_OVERHEAD } from "../transaction/budget.js";
import type { Endpoint, TransportName } from "../transport/types.js";

export interface JournalEntry {
  /** 1, 2, 3... in the order messages were received or sent. */
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

export interface JournalFilter {
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
  readonly media?: {
    readonly sent: {
      readonly packets: number;
      readonly octets: number;
      readonly lost: number;
      readonly jitterMs: number;
    };
    readonly received: {
      readonly packets: number;
      readonly octets: number;
      readonly lost: number;
      readonly jitterMs: number;
    };
  };
}

const HEAD_LIMIT = 4096;

/** Summary fields of raw message bytes, read with light regexes (the message may be broken). */
export function describeMessage(
  message: Buffer | string,
): Pick<
  JournalEntry,
  "kind" | "method" | "status" | "reason" | "callId" | "cseq" | "from" | "to" | "transaction" | "dialog"
> {
  // The journal already holds the message as latin1 text: no second copy of it.
  const head =
    typeof message === "string"
      ? message.slice(0, HEAD_LIMIT)
      : message.toString("latin1", 0, Math.min(message.length, HEAD_LIMIT));
  const end = head.indexOf("\r\n");
  const start = end < 0 ? head : head.slice(0, end);
  const h = (re: RegExp) => re.exec(head)?.[1]?.trim();
  const callId = h(/\r\n(?:Call-ID|i)[ \t]*:[ \t]*([^\r\n]*)/i);
  const cseq = h(/\r\n(?:CSeq)[ \t]*:[ \t]*([^\r\n]*)/i);
  const from = h(/\r\n(?:From|f)[ \t]*:[ \t]*([^\r\n]*)/i);
  const to = h(/\r\n(?:To|t)[ \t]*:[ \t]*([^\r\n]*)/i);
  const via = h(/\r\n(?:Via|v)[ \t]*:[ \t]*([^\r\n,]*)/i);
  const branch = via ? /;[ \t]*branch[ \t]*=[ \t]*([^;, \t]+)/i.exec(via)?.[1] : undefined;
  const cseqMethod = cseq?.split(/\s+/)[1];
  const tag = (v?: string) => (v ? /;[ \t]*tag[ \t]*=[ \t]*([^;, \t>]+)/i.exec(v)?.[1] : undefined);
  const fromTag = tag(from);
  const toTag = tag(to);
  const common = {
    ...(callId ? { callId } : {}),
    ...(cseq ? { cseq } : {}),
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
    // RFC 3261 17.2.3: the ACK for a non-2xx response belongs to the INVITE transaction.
    ...(branch && cseqMethod
      ? { transaction: `${branch}/${cseqMethod === "ACK" ? "INVITE" : cseqMethod}` }
      : {}),
    ...(callId && fromTag && toTag ? { dialog: `${callId};${fromTag};${toTag}` } : {}),
  };
  const status = /^SIP\/2\.0 ([1-6]\d\d) ?(.*)$/.exec(start);
  if (status) return { kind: "response", status: Number(status[1]), reason: status[2] ?? "", ...common };
  const request = /^([A-Za-z0-9.!%*_+`'~-]+) \S+ SIP\/\d\.\d$/.exec(start);
  if (request) return { kind: "request", method: request[1]!, ...common };
  return { kind: "unparsable", ...common };
}

export class Journal {
  /** The DTMF digits a call received (set by the mock), for `dtmf` in verify and expectations. */
  digitsOf?: (callId: string) => string;
  private list: JournalEntry[] = [];
  private nextId = 1;
  private readonly listeners = new Set<(e: JournalEntry) => void>();
  private readonly resetListeners = new Set<() => void>();
  /** Transaction key -> rule that answered it, so responses carry the rule too (bounded). */
  private readonly rules = new Map<string, string>();
  /** Transaction key -> the faulty response's status and its fault labels, for its copies (bounded). */
  private readonly faulty = new Map<string, { status: number; labels: string[] }>();

  /** Octets held (raw messages and a fixed overhead per entry); bounded by maxBytes as well as maxEntries. */
  private bytes = 0;

  constructor(
    readonly maxEntries = 10_000,
    readonly maxBytes = DEFAULT_BUDGETS.journal,
  ) {}

  /** Octets the entries held now are estimated to take. */
  get octets(): number {
    return this.bytes;
  }

  /** When the first request arrived (epoch ms), for expectations' `within`; reset by clear(). */
  firstRequestAt: number | undefined;

  add(fields: Omit<JournalEntry, "id">): JournalEntry {
    const entry: JournalEntry = { id: this.nextId++, ...fields };
    if (this.firstRequestAt === undefined && entry.direction === "in" && entry.kind === "request") {
      this.firstRequestAt = Date.parse(entry.time);
    }
    if (entry.rule === undefined && entry.transaction) {
      const rule = this.rules.get(entry.transaction);
      if (rule !== undefined) entry.rule = rule;
    }
    if (entry.direction === "out" && entry.transaction && entry.faults === undefined) {
      const f = this.faulty.get(entry.transaction);
      if (f && f.status === entry.status) entry.faults = f.labels;
    }
    this.list.push(entry);
    this.bytes += entry.raw.length + ITEM_OVERHEAD.journal;
    let drop = 0;
    while (
      drop < this.list.length - 1 &&
      (this.list.length - drop > this.maxEntries || this.bytes > this.maxBytes)
    ) {
      this.bytes -= this.list[drop]!.raw.length + ITEM_OVERHEAD.journal;
      drop++;
    }
    if (drop > 0) this.list.splice(0, drop);
    for (const l of this.listeners) l(entry);
    return entry;
  }

  /** Records the rule that answered a request (and, through its transaction key, its responses). */
  ruleFor(entry: JournalEntry, rule: string): void {
    entry.rule = rule;
    if (entry.transaction) {
      this.rules.set(entry.transaction, rule);
      if (this.rules.size > this.maxEntries) this.rules.delete(this.rules.keys().next().value!);
    }
  }

  /**
   * Records the faults a scenario put into a response just sent: the
   * journaled response is marked, and so are its duplicates and
   * retransmissions journaled after it.
   */
  faultFor(transaction: string, status: number, labels: readonly string[]): void {
    if (labels.length === 0) return;
    const f = { status, labels: [...labels] };
    this.faulty.set(transaction, f);
    if (this.faulty.size > this.maxEntries) this.faulty.delete(this.faulty.keys().next().value!);
    for (let i = this.list.length - 1; i >= Math.max(0, this.list.length - 64); i--) {
      const e = this.list[i]!;
      if (e.direction === "out" && e.transaction === transaction && e.status === status) {
        e.faults = f.labels;
        break;
      }
    }
  }

  /** Marks a message as a fault's target (a request the scenario dropped). */
  markFault(entry: JournalEntry, label: string): void {
    entry.faults = [...(entry.faults ?? []), label];
  }

  entries(filter: JournalFilter = {}): JournalEntry[] {
    const since =
      filter.since === undefined
        ? undefined
        : typeof filter.since === "number"
          ? filter.since
          : Date.parse(filter.since);
    const method = filter.method?.toUpperCase();
    const found = this.list.filter(
      (e) =>
        (filter.direction === undefined || e.direction === filter.direction) &&
        (method === undefined || e.method === method || e.cseq?.split(/\s+/)[1] === method) &&
        (filter.status === undefined || e.status === filter.status) &&
        (filter.callId === undefined || e.callId === filter.callId) &&
        (filter.sinceId === undefined || e.id > filter.sinceId) &&
        (since === undefined || Date.parse(e.time) >= since),
    );
    return filter.limit !== undefined ? found.slice(Math.max(0, found.length - filter.limit)) : found;
  }

  get size(): number {
    return this.list.length;
  }

  get lastId(): number {
    return this.nextId - 1;
  }

  clear(): void {
    this.list = [];
    this.bytes = 0;
    this.rules.clear();
    this.faulty.clear();
    this.firstRequestAt = undefined;
    for (const l of this.resetListeners) l();
  }

  /** Calls grouped by Call-ID, in order of their first message. */
  calls(filter: JournalFilter = {}): Call[] {
    const byId = new Map<string, JournalEntry[]>();
    for (const e of this.entries(filter)) {
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
      flow: entries.map(
        (e) =>
          `${e.direction} ${e.kind === "response" ? `${e.status} ${e.reason}` : (e.method ?? "?")}${e.retransmission ? " (retransmission)" : ""}`,
      ),
      entries,
    }));
  }

  subscribe(listener: (e: JournalEntry) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called after clear() (DELETE /__admin/journal, reset): the web UI starts over. */
  onClear(listener: () => void): () => void {
    this.resetListeners.add(listener);
    return () => this.resetListeners.delete(listener);
  }
}
