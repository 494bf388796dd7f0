/**
 * A journaled SIP message as the journal holds it: the octets as they went
 * on the wire and the fields the SIP parser read, in one object of a fixed
 * shape. What only a reader needs (the latin1 text, the ISO time) is
 * derived when read, so journaling a message costs no copy, no date
 * formatting and no spread on the hot path (issue 12).
 */
import type { Endpoint, TransportName } from "../transport/types.js";
import type { JournalEntry } from "./journal.js";
import type { MessageFields } from "./message-summary.js";

/** Where and when a message went, besides its fields. */
export interface MessagePlace {
  readonly direction: "in" | "out";
  readonly transport: TransportName;
  readonly local: Endpoint;
  readonly remote: Endpoint;
  readonly retransmission: boolean;
}

export class JournalMessage implements JournalEntry {
  readonly direction: "in" | "out";
  readonly transport: TransportName;
  readonly local: Endpoint;
  readonly remote: Endpoint;
  readonly kind: "request" | "response" | "unparsable";
  readonly method: string | undefined;
  readonly status: number | undefined;
  readonly reason: string | undefined;
  readonly callId: string | undefined;
  readonly cseq: string | undefined;
  readonly from: string | undefined;
  readonly to: string | undefined;
  readonly transaction: string | undefined;
  readonly dialog: string | undefined;
  rule: string | undefined = undefined;
  readonly retransmission: boolean;
  faults: string[] | undefined = undefined;

  constructor(
    readonly id: number,
    /** Epoch ms. */
    readonly at: number,
    place: MessagePlace,
    /** The message's octets (latin1 text for entries built from JSON). */
    private readonly wire: Buffer | string,
    fields: MessageFields,
  ) {
    this.direction = place.direction;
    this.transport = place.transport;
    this.local = place.local;
    this.remote = place.remote;
    this.retransmission = place.retransmission;
    this.kind = fields.kind;
    this.method = fields.method;
    this.status = fields.status;
    this.reason = fields.reason;
    this.callId = fields.callId;
    this.cseq = fields.cseq;
    this.from = fields.from;
    this.to = fields.to;
    this.transaction = fields.transaction;
    this.dialog = fields.dialog;
  }

  /** ISO 8601 time. */
  get time(): string {
    return new Date(this.at).toISOString();
  }

  /** The message exactly as on the wire, as latin1 text (octets 0-255 map 1:1). */
  get raw(): string {
    return typeof this.wire === "string" ? this.wire : this.wire.toString("latin1");
  }

  /** The message's octets. */
  get bytes(): Buffer {
    return typeof this.wire === "string" ? Buffer.from(this.wire, "latin1") : this.wire;
  }

  /** Its length in octets. */
  get octets(): number {
    return this.wire.length;
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
    if (this.faults !== undefined) o.faults = this.faults;
    return o as unknown as JournalEntry;
  }
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

/** A plain object with every field of an entry (getters included), for copying with changes. */
export function plainRecord<T extends object>(e: T): T {
  return e instanceof JournalMessage ? (e.toJSON() as unknown as T) : e;
}
