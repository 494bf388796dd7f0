/**
 * What the journal holds (issue 12): its entries as rows (journal-ring.ts),
 * their octets on the shelf (journal-bytes.ts), and the budget in octets.
 * An entry object is made from a row only when someone reads it; the one
 * made for a reader who may keep it stays with the row, and the journal's
 * later notes (a rule, faults) are written to it rather than to the row.
 */

import { ITEM_OVERHEAD, JOURNAL_OBJECT_OVERHEAD } from "../transaction/budget.js";
import type { Endpoint, TransportName } from "../transport/types.js";
import { ByteShelf, hashText, OWN_SLOT } from "./journal-bytes.js";
import { copyFields, JournalMessage } from "./journal-entry.js";
import { JournalRing, OUT, RETRANSMISSION } from "./journal-ring.js";
import type { JournalEntry, JournalRecord } from "./journal-types.js";
import type { MessageFields } from "./message-summary.js";

/** What the journal notes of an entry after it was journaled. */
type Note = "rule" | "faults";

/** Octets a media entry is counted as holding besides the row's overhead (measured 2026-12-05: a DTMF entry ~385 B of heap, a media statistics entry ~551 B). */
const MEDIA_SIZE = 400;

export class JournalRows {
  readonly ring: JournalRing;
  /** The octets of the messages journaled. */
  private readonly shelf = new ByteShelf();
  /** Octets held: raw messages, a fixed overhead per entry, and one per entry object made (JOURNAL_OBJECT_OVERHEAD). */
  bytes = 0;
  /**
   * One entry followed past its row (the message being handled): the
   * object made for it, if any, still gets what the journal learns of it
   * once its row left (a journal of one entry, a response sent before the
   * request's rule is known).
   */
  private followId = 0;
  private followed: JournalMessage | undefined;

  constructor(
    /** Entries at most (at least 1: the newest is always kept). */
    maxEntries: number,
    private readonly maxBytes: number,
  ) {
    this.ring = new JournalRing(Math.max(1, maxEntries));
  }

  /** A new message's row: its octets on the shelf, its fields; older rows evicted to stay in budget. */
  put(
    at: number,
    flags: number,
    transport: TransportName,
    local: Endpoint,
    remote: Endpoint,
    wire: Buffer | string,
    fields: MessageFields,
    keep: boolean,
    timeText: string | undefined,
  ): number {
    const r = this.ring;
    if (r.count >= r.max) this.evictOldest();
    const chunk = this.shelf.put(wire);
    const size = wire.length + ITEM_OVERHEAD.journal;
    const row = r.append(fields.kind, at, flags, transport, size);
    const slot = this.shelf.slot;
    r.shelfSlot[row] = slot;
    r.offset[row] = this.shelf.offset;
    r.length[row] = wire.length;
    if (slot === OWN_SLOT) r.own[row] = chunk;
    r.callHash[row] = fields.callId === undefined ? 0 : hashText(fields.callId);
    r.method[row] = fields.method;
    r.status[row] = fields.status;
    r.local[row] = local;
    r.remote[row] = remote;
    if (keep) r.fields[row] = copyFields(fields);
    r.timeText[row] = timeText;
    this.bytes += size;
    this.evictOverBudget();
    return row;
  }

  /** A media entry's row (the entry is its own object); `make` numbers it. */
  putMedia<T extends { time: string }>(make: (id: number) => T): T {
    const r = this.ring;
    if (r.count >= r.max) this.evictOldest();
    const entry = make(r.nextId);
    const size = MEDIA_SIZE + ITEM_OVERHEAD.journal;
    const row = r.append("other", Date.parse(entry.time), 0, undefined, size);
    r.shelfSlot[row] = OWN_SLOT;
    r.objs[row] = entry as unknown as JournalRecord;
    this.bytes += size;
    this.evictOverBudget();
    return entry;
  }

  /** Evicts the oldest entries while the octets are over budget (the newest stays). */
  private evictOverBudget(): void {
    while (this.ring.count > 1 && this.bytes > this.maxBytes) this.evictOldest();
  }

  /** The oldest entry leaves (its size from the row: the entry and its octets are cold in the CPU's caches). */
  private evictOldest(): void {
    const r = this.ring;
    const row = r.head;
    this.bytes -= r.size[row]!;
    this.shelf.release(r.shelfSlot[row]!);
    r.shift();
  }

  /** From now on, `id`'s entry object (when one is made) is followed past its row. */
  follow(id: number): void {
    this.followId = id;
    this.followed = undefined;
  }

  /** The entry of an id while it is held, kept with its row; lent (see lend()) unless told otherwise. */
  entryOf(id: number, lent = true): JournalRecord | undefined {
    const row = this.ring.rowOf(id);
    if (row < 0) return undefined;
    const e = this.entryAt(row, true);
    if (lent) this.lend(e);
    return e;
  }

  /** A held entry, made for this reading only when it has no object yet. */
  readEntry(id: number): JournalEntry | undefined {
    const row = this.ring.rowOf(id);
    return row < 0 ? undefined : (this.entryAt(row, false) as JournalEntry);
  }

  /** A held row's entry: the one made already, else a new one (kept with the row when `keep`). */
  entryAt(row: number, keep: boolean): JournalRecord {
    const r = this.ring;
    const made = r.objs[row];
    if (made !== undefined) return made;
    const flags = r.flags[row]!;
    const slot = r.shelfSlot[row]!;
    const e = new JournalMessage(
      r.idOf(row),
      r.at[row]!,
      (flags & OUT) !== 0 ? "out" : "in",
      r.transportOf(row),
      r.local[row]!,
      r.remote[row]!,
      (flags & RETRANSMISSION) !== 0,
      slot === OWN_SLOT ? r.own[row]! : this.shelf.chunkAt(slot),
      r.offset[row]!,
      r.length[row]!,
      slot,
      r.kindOf(row) as JournalMessage["kind"],
      r.method[row],
      r.status[row],
      r.callHash[row]!,
      r.fields[row],
      r.timeText[row],
      r.rule[row],
      r.faults[row],
    );
    if (keep) {
      r.objs[row] = e;
      // Counted from now on; the next message journaled evicts to the
      // budget (not now: a query may be going through the rows).
      r.size[row] = r.size[row]! + JOURNAL_OBJECT_OVERHEAD;
      this.bytes += JOURNAL_OBJECT_OVERHEAD;
      if (e.id === this.followId) this.followed = e;
    }
    return e;
  }

  /**
   * An entry given to code that may keep it (a listener, onMessage, a
   * caller of record()): the octets it shares with other messages are
   * never overwritten (journal-bytes.ts).
   */
  lend(entry: JournalRecord): void {
    if (entry instanceof JournalMessage) this.shelf.pin(entry.shelfSlot);
  }

  /** The object that speaks for an entry's rule and faults: its row's, or the followed one once its row left. */
  objectOf(id: number): JournalEntry | undefined {
    const row = this.ring.rowOf(id);
    if (row >= 0) return this.ring.objs[row] as JournalEntry | undefined;
    return this.followId === id ? this.followed : undefined;
  }

  /** An entry's rule or faults: from the object that speaks for it, else from its row. */
  noteOf<K extends Note>(id: number, k: K): JournalEntry[K] {
    const o = this.objectOf(id);
    if (o !== undefined) return o[k];
    const row = this.ring.rowOf(id);
    return row < 0 ? undefined : (this.ring[k] as JournalEntry[K][])[row];
  }

  /** Sets an entry's rule or faults: on the object that speaks for it, else on its row. */
  setNote<K extends Note>(id: number, k: K, v: JournalEntry[K]): void {
    const o = this.objectOf(id);
    if (o !== undefined) o[k] = v;
    else {
      const row = this.ring.rowOf(id);
      if (row >= 0) (this.ring[k] as JournalEntry[K][])[row] = v;
    }
  }

  /** Every entry leaves (entries lent out keep their octets; the one followed is still followed). */
  clear(): void {
    this.ring.clear();
    this.shelf.releaseAll();
    this.bytes = 0;
  }
}
