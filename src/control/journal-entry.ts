/**
 * A journaled SIP message as an object (issue 12). The journal holds its
 * messages as rows of parallel arrays (journal-ring.ts) and makes one of
 * these only when someone reads a row: a query, a listener, a capture, an
 * onMessage subscriber. Its octets stay in the journal's shared chunks
 * (journal-bytes.ts). What the row has (kind, method, status, direction,
 * retransmission, rule, faults) are plain properties; the header fields
 * (reason, callId, cseq, from, to, transaction, dialog) and `raw` are
 * accessors that read the octets again with the SIP parser the first time
 * one is asked for (describeMessage, the same reading the journal was
 * given) and keep that reading.
 *
 * The accessors are on the prototype: `toJSON()` (and JSON.stringify) give
 * the entry as the journal's JSON has always had it; a spread or
 * Object.keys() sees only the plain properties. An entry whose fields were
 * not read from its octets by the parser (added as fields, or refused by
 * the parser, whose partial reading depends on the transport) keeps the
 * fields it was given.
 */
import type { Endpoint, TransportName } from "../transport/types.js";
import type { JournalEntry } from "./journal-types.js";
import { describeMessage, type MessageFields } from "./message-summary.js";

export class JournalMessage implements JournalEntry {
  // Assigned in the constructor, in the order the journal's entries have
  // always had their keys (declared only: no class-field definitions first).
  declare readonly id: number;
  declare readonly time: string;
  declare readonly direction: "in" | "out";
  declare readonly transport: TransportName;
  declare readonly local: Endpoint;
  declare readonly remote: Endpoint;
  declare readonly kind: "request" | "response" | "unparsable";
  declare readonly method: string | undefined;
  declare readonly status: number | undefined;
  declare readonly retransmission: boolean;
  declare rule: string | undefined;
  declare faults: string[] | undefined;
  readonly #at: number;
  /** The chunk holding the message's octets, from #offset. */
  readonly #chunk: Buffer;
  readonly #offset: number;
  readonly #length: number;
  /** The shelf's slot of #chunk (journal-bytes.ts), for the journal. */
  readonly #slot: number;
  /** The Call-ID's hashText (0: none), so a search by Call-ID reads few entries again. */
  readonly #callHash: number;
  /** The header fields: given, or read from the octets on first use. */
  #fields: MessageFields | undefined;
  readonly #given: boolean;

  constructor(
    id: number,
    /** Epoch ms. */
    at: number,
    direction: "in" | "out",
    transport: TransportName,
    local: Endpoint,
    remote: Endpoint,
    retransmission: boolean,
    chunk: Buffer,
    offset: number,
    length: number,
    slot: number,
    kind: "request" | "response" | "unparsable",
    method: string | undefined,
    status: number | undefined,
    /** The Call-ID's hashText (0: none). */
    callHash: number,
    /** The header fields to keep (an object of the entry's own), else read from the octets when asked. */
    fields: MessageFields | undefined,
    timeText: string | undefined,
    rule: string | undefined,
    faults: string[] | undefined,
  ) {
    this.#at = at;
    this.#chunk = chunk;
    this.#offset = offset;
    this.#length = length;
    this.#slot = slot;
    this.#callHash = callHash;
    this.#fields = fields;
    this.#given = fields !== undefined;
    this.id = id;
    this.time = timeText ?? isoTime(at);
    this.direction = direction;
    this.transport = transport;
    this.local = local;
    this.remote = remote;
    this.kind = kind;
    this.method = method;
    this.status = status;
    this.retransmission = retransmission;
    this.rule = rule;
    this.faults = faults;
  }

  /** Epoch ms (NaN for an entry given a time that is not a date). */
  get at(): number {
    return this.#at;
  }

  /** The message's octets (a copy of its own). */
  get bytes(): Buffer {
    return Buffer.from(this.#chunk.subarray(this.#offset, this.#offset + this.#length));
  }

  /** The ByteShelf slot of the chunk holding its octets. */
  get shelfSlot(): number {
    return this.#slot;
  }

  /** Its length in octets. */
  get octets(): number {
    return this.#length;
  }

  /** The message exactly as on the wire, as latin1 text (octets 0-255 map 1:1). */
  get raw(): string {
    return this.#chunk.toString("latin1", this.#offset, this.#offset + this.#length);
  }

  get reason(): string | undefined {
    return this.fields().reason;
  }

  get callId(): string | undefined {
    return this.fields().callId;
  }

  get cseq(): string | undefined {
    return this.fields().cseq;
  }

  get from(): string | undefined {
    return this.fields().from;
  }

  get to(): string | undefined {
    return this.fields().to;
  }

  get transaction(): string | undefined {
    return this.fields().transaction;
  }

  get dialog(): string | undefined {
    return this.fields().dialog;
  }

  /** Whether its header fields are the ones it was given (else they are read from its octets when asked). */
  get fieldsGiven(): boolean {
    return this.#given;
  }

  /** Whether the entry's Call-ID is `callId` (its hash compared first: no reading of the octets for another call). */
  isOfCall(callId: string, hash: number): boolean {
    return this.#callHash === hash && this.callId === callId;
  }

  private fields(): MessageFields {
    let f = this.#fields;
    if (f === undefined) {
      f = copyFields(describeMessage(this.#chunk.subarray(this.#offset, this.#offset + this.#length)));
      this.#fields = f;
    }
    return f;
  }

  /** The entry as the journal's JSON has always had it (the same keys, in the same order). */
  toJSON(): JournalEntry {
    const o: Record<string, unknown> = {
      id: this.id,
      time: this.time,
      direction: this.direction,
      transport: this.transport,
      local: this.local,
      remote: this.remote,
      raw: this.raw,
      kind: this.kind,
    };
    for (const k of OPTIONAL) if (this[k] !== undefined) o[k] = this[k];
    o.retransmission = this.retransmission;
    if (this.rule !== undefined) o.rule = this.rule;
    if (this.faults !== undefined) o.faults = [...this.faults];
    return o as unknown as JournalEntry;
  }
}

/** The fields, in an object of their own (the hot path fills one scratch object). */
export function copyFields(f: MessageFields): MessageFields {
  return {
    kind: f.kind,
    method: f.method,
    status: f.status,
    reason: f.reason,
    callId: f.callId,
    cseq: f.cseq,
    from: f.from,
    to: f.to,
    transaction: f.transaction,
    dialog: f.dialog,
  };
}

/**
 * The ISO 8601 text of an epoch time: the last one made again for the same
 * millisecond (a request and its response, the messages of a busy
 * millisecond share it).
 */
let lastAt = Number.NaN;
let lastIso = "";
function isoTime(at: number): string {
  if (at !== lastAt) {
    lastIso = new Date(at).toISOString();
    lastAt = at;
  }
  return lastIso;
}

const OPTIONAL = [
  "method",
  "status",
  "reason",
  "callId",
  "cseq",
  "from",
  "to",
  "transaction",
  "dialog",
] as const satisfies readonly (keyof MessageFields)[];

/** Epoch ms of any entry (a JournalMessage keeps it as a number). */
export function timeOf(e: { readonly time: string }): number {
  return e instanceof JournalMessage ? e.at : Date.parse(e.time);
}
