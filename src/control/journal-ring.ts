/**
 * The journal's entries as rows of parallel arrays (issue 12): a message
 * journaled under load is a few numbers in typed arrays and a few
 * references to objects it shares with other messages (its endpoints, its
 * rule, the chunk of its octets), not an object of its own. An entry
 * object is made when someone reads the row (a query, a listener, a
 * capture); the row then keeps it, so what the journal learns later (the
 * rule that answered, a fault) reaches whoever holds it.
 *
 * Before, each message was a JournalMessage of ~190 octets that lived as
 * long as the journal held it (10,000 entries: 1.25 s at 8,000 messages
 * a second): every one was copied by a young-generation collection and
 * promoted, ~4 ms a scavenge at 4,000 calls/s, and died in the old
 * generation.
 *
 * Rows are a ring, oldest first from `head`; their ids are consecutive
 * (the journal numbers messages and media entries in one sequence). The
 * ring grows by doubling up to the journal's entry budget: a journal that
 * never fills holds small arrays.
 */
import type { Endpoint, TransportName } from "../transport/types.js";
import { TRANSPORT_NAMES } from "../transport/types.js";
import type { JournalRecord } from "./journal-types.js";
import type { MessageFields } from "./message-summary.js";

/** Row flags: sent by the mock; a retransmission; then its kind (2 bits). */
export const OUT = 1;
export const RETRANSMISSION = 2;
const KIND_SHIFT = 2;
const KIND_MASK = 3 << KIND_SHIFT;

/** Kinds of rows: a SIP message's three, and a media entry (DTMF digit, RTP statistics) kept as its object. */
const KINDS = ["request", "response", "unparsable", "other"] as const;
export type RowKind = (typeof KINDS)[number];
const KIND_CODE: Record<RowKind, number> = { request: 0, response: 1, unparsable: 2, other: 3 };

/** Rows the ring starts with (it doubles as it fills, up to the journal's budget). */
const FIRST = 256;

export class JournalRing {
  /** The oldest row's index, and how many rows are held. */
  head = 0;
  count = 0;
  /** The oldest row's id (rows' ids are consecutive: the next one is firstId + count). */
  firstId = 1;
  capacity: number;

  // One array per field, indexed by row. Numbers in typed arrays; references
  // in plain arrays (shared objects: endpoints, rules, labels).
  at!: Float64Array;
  flags!: Uint8Array;
  transport!: Uint8Array;
  /** The ByteShelf slot of the row's octets, where they start and how many (journal-bytes.ts). */
  shelfSlot!: Int32Array;
  offset!: Int32Array;
  length!: Int32Array;
  /** Octets the row counts for in the journal's budget. */
  size!: Int32Array;
  /** The Call-ID's hashText (0: none). */
  callHash!: Int32Array;
  /** A response's status (small integers: no object in the array). */
  status!: (number | undefined)[];
  method!: (string | undefined)[];
  local!: (Endpoint | undefined)[];
  remote!: (Endpoint | undefined)[];
  rule!: (string | undefined)[];
  faults!: (string[] | undefined)[];
  /** The header fields, when kept as given (else read from the octets when asked). */
  fields!: (MessageFields | undefined)[];
  /** The time as given, when not the ISO text of `at`. */
  timeText!: (string | undefined)[];
  /** The octets, when in a buffer of their own (OWN_SLOT). */
  own!: (Buffer | undefined)[];
  /** The entry object made for the row (a media entry's is the row). */
  objs!: (JournalRecord | undefined)[];

  /** Rows at most (the journal's entry budget, a whole number of at least 1; NaN: no bound, as Infinity). */
  readonly max: number;

  constructor(max: number) {
    this.max = Number.isNaN(max) ? Number.POSITIVE_INFINITY : Math.max(1, Math.floor(max));
    this.capacity = Math.min(this.max, FIRST);
    this.allocate(this.capacity);
  }

  /** The id the next row gets. */
  get nextId(): number {
    return this.firstId + this.count;
  }

  /** The row of an id, or -1 when it is not held. */
  rowOf(id: number): number {
    const i = id - this.firstId;
    return i >= 0 && i < this.count ? this.rowAt(i) : -1;
  }

  /** The row of the i-th oldest entry held. */
  rowAt(i: number): number {
    const r = this.head + i;
    return r >= this.capacity ? r - this.capacity : r;
  }

  /** The id of a held row. */
  idOf(row: number): number {
    const i = row >= this.head ? row - this.head : row + this.capacity - this.head;
    return this.firstId + i;
  }

  kindOf(row: number): RowKind {
    return KINDS[(this.flags[row]! & KIND_MASK) >> KIND_SHIFT]!;
  }

  transportOf(row: number): TransportName {
    return this.transportNames[this.transport[row]!]! as TransportName;
  }

  /**
   * Transport names by code: SIP's, then any other a caller journaled
   * (add() of an entry read back from elsewhere), kept as given; past 255
   * names, the rest are "other".
   */
  private readonly transportNames: string[] = [...TRANSPORT_NAMES];
  private readonly transportCodes = new Map<string, number>(TRANSPORT_NAMES.map((t, i) => [t, i]));

  private transportCode(t: string): number {
    const code = this.transportCodes.get(t);
    if (code !== undefined) return code;
    const name = this.transportNames.length < 255 ? t : "other";
    const known = this.transportCodes.get(name);
    if (known !== undefined) return known;
    this.transportCodes.set(name, this.transportNames.push(name) - 1);
    return this.transportNames.length - 1;
  }

  /** A new row at the tail (the caller makes room first: count < max); its index. */
  append(
    kind: RowKind,
    at: number,
    flags: number,
    transport: TransportName | undefined,
    size: number,
  ): number {
    if (this.count === this.capacity) this.grow();
    const row = this.rowAt(this.count);
    this.count++;
    this.at[row] = at;
    this.flags[row] = flags | (KIND_CODE[kind] << KIND_SHIFT);
    this.transport[row] = transport === undefined ? 0 : this.transportCode(transport);
    this.size[row] = size;
    return row;
  }

  /** Lets the oldest row go (its references cleared, so nothing it held stays alive). */
  shift(): void {
    const row = this.head;
    this.clearRow(row);
    this.head = row + 1 === this.capacity ? 0 : row + 1;
    this.count--;
    this.firstId++;
  }

  /** Lets every row go; ids go on from where they were. */
  clear(): void {
    for (let i = 0; i < this.count; i++) this.clearRow(this.rowAt(i));
    this.firstId += this.count;
    this.head = 0;
    this.count = 0;
  }

  private clearRow(row: number): void {
    this.status[row] = undefined;
    this.method[row] = undefined;
    this.local[row] = undefined;
    this.remote[row] = undefined;
    this.rule[row] = undefined;
    this.faults[row] = undefined;
    this.fields[row] = undefined;
    this.timeText[row] = undefined;
    this.own[row] = undefined;
    this.objs[row] = undefined;
  }

  /** Twice the rows (up to max), the held ones copied oldest first. */
  private grow(): void {
    const old = this.arrays();
    const n = this.count;
    const from = this.head;
    const was = this.capacity;
    this.capacity = Math.min(this.max, was * 2);
    if (this.capacity <= was) throw new Error("journal ring: full (the journal evicts before it appends)");
    this.allocate(this.capacity);
    const now = this.arrays();
    for (const name of Object.keys(now) as (keyof typeof now)[]) {
      const src = old[name];
      const dst = now[name];
      for (let i = 0; i < n; i++) {
        const r = from + i;
        (dst as unknown[])[i] = (src as unknown[])[r >= was ? r - was : r];
      }
    }
    this.head = 0;
  }

  private allocate(n: number): void {
    this.at = new Float64Array(n);
    this.flags = new Uint8Array(n);
    this.transport = new Uint8Array(n);
    this.shelfSlot = new Int32Array(n);
    this.offset = new Int32Array(n);
    this.length = new Int32Array(n);
    this.size = new Int32Array(n);
    this.callHash = new Int32Array(n);
    this.status = blank(n);
    this.method = blank(n);
    this.local = blank(n);
    this.remote = blank(n);
    this.rule = blank(n);
    this.faults = blank(n);
    this.fields = blank(n);
    this.timeText = blank(n);
    this.own = blank(n);
    this.objs = blank(n);
  }

  private arrays() {
    const { at, flags, transport, status, shelfSlot, offset, length, size, callHash } = this;
    const { method, local, remote, rule, faults, fields, timeText, own, objs } = this;
    return {
      at,
      flags,
      transport,
      status,
      shelfSlot,
      offset,
      length,
      size,
      callHash,
      method,
      local,
      remote,
      rule,
      faults,
      fields,
      timeText,
      own,
      objs,
    };
  }
}

/** An array of n undefined (packed: no holes for V8 to look through). */
function blank<T>(n: number): (T | undefined)[] {
  return new Array<T | undefined>(n).fill(undefined);
}
