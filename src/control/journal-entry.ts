/**
 * A journaled SIP message as the journal holds it: the octets as they went
 * on the wire and the fields the SIP parser read, in one object of a fixed
 * shape. What only a reader needs (the latin1 text) is derived when read,
 * so journaling a message costs no copy of its octets (issue 12).
 *
 * `raw` is an own enumerable property (an accessor), so the entry still
 * spreads, structuredClones, lists its keys and compares like the plain
 * object it used to be; the octets and the epoch time are private. `time`
 * is plain text: messages journaled in the same millisecond share one
 * string, made once (an own accessor costs a defineProperty per entry,
 * about 0.2 µs, more than formatting the time once per millisecond).
 */
import type { Endpoint, TransportName } from "../transport/types.js";
import type { JournalEntry } from "./journal.js";
import type { MessageFields } from "./message-summary.js";

export class JournalMessage implements JournalEntry {
  // Assigned in the constructor, in the order the journal's entries have
  // always had their keys (declared only: no class-field definitions first).
  declare readonly id: number;
  declare readonly time: string;
  declare readonly direction: "in" | "out";
  declare readonly transport: TransportName;
  declare readonly local: Endpoint;
  declare readonly remote: Endpoint;
  declare readonly raw: string;
  declare readonly kind: "request" | "response" | "unparsable";
  declare readonly method: string | undefined;
  declare readonly status: number | undefined;
  declare readonly reason: string | undefined;
  declare readonly callId: string | undefined;
  declare readonly cseq: string | undefined;
  declare readonly from: string | undefined;
  declare readonly to: string | undefined;
  declare readonly transaction: string | undefined;
  declare readonly dialog: string | undefined;
  declare readonly retransmission: boolean;
  declare rule: string | undefined;
  declare faults: string[] | undefined;
  readonly #at: number;
  /** The message's octets (latin1 text for entries given as text). */
  readonly #wire: Buffer | string;

  constructor(
    id: number,
    /** Epoch ms. */
    at: number,
    direction: "in" | "out",
    transport: TransportName,
    local: Endpoint,
    remote: Endpoint,
    retransmission: boolean,
    wire: Buffer | string,
    fields: MessageFields,
    timeText: string | undefined,
  ) {
    this.#at = at;
    this.#wire = wire;
    this.id = id;
    this.time = timeText ?? isoTime(at);
    this.direction = direction;
    this.transport = transport;
    this.local = local;
    this.remote = remote;
    Object.defineProperty(this, "raw", RAW);
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
    this.retransmission = retransmission;
    this.rule = undefined;
    this.faults = undefined;
  }

  /** Epoch ms (NaN for an entry given a time that is not a date). */
  get at(): number {
    return this.#at;
  }

  /** The message's octets. */
  get bytes(): Buffer {
    return typeof this.#wire === "string" ? Buffer.from(this.#wire, "latin1") : this.#wire;
  }

  /** Its length in octets. */
  get octets(): number {
    return this.#wire.length;
  }

  /** The octets as latin1 text (0-255 map 1:1). */
  static textOf(e: JournalMessage): string {
    return typeof e.#wire === "string" ? e.#wire : e.#wire.toString("latin1");
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

/**
 * `raw` is an own enumerable accessor (an entry spreads and compares with
 * it), its descriptor shared by every entry: no closure per entry.
 */
const RAW: PropertyDescriptor = {
  get(this: JournalMessage) {
    return JournalMessage.textOf(this);
  },
  enumerable: true,
  configurable: true,
};

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
