/**
 * Stored transactions by key fingerprint (transaction-key.ts): an
 * open-addressing hash table in one Int32Array (four words an entry:
 * fingerprint halves, value + 1, unused; so one probe reads one cache
 * line), linear probing, at most half full, deletion by backward shift (no
 * tombstones, so probes stay short however many come and go; only a table
 * being emptied by a resize marks what left it). Where a Map
 * of string keys held 500,000 entries, each a key string of ~70 octets and
 * a hash-table entry the garbage collector traces, this is 32 octets per
 * entry (at half load) that it does not trace (issue 12).
 *
 * It resizes a little at a time. Rehashing 500,000 entries at once stopped
 * the event loop for ~30 ms while a load ramped up (p99 of every request
 * then); now a resize only allocates the new table (zeroed by the
 * allocator: 0 is an empty slot, so it is not written first), and every
 * add, delete or lookup after it moves the entries of a few slots of the
 * old table, until it is empty and dropped. Until then a lookup reads both
 * tables. Moved entries leave a tombstone in the old table, which keeps
 * the probe sequences of the others there intact (it is never written to
 * again).
 */

const MIN_CAPACITY = 1024;
/** A vacant slot (the value word is value + 1). */
const EMPTY = 0;
/** A slot of the old table whose entry moved to the new one. */
const MOVED = -1;
/** Words per entry: hi, lo, value + 1, (unused: an entry per 16 octets, aligned). */
const W = 4;
/**
 * Old slots moved per operation while a resize is under way. A table
 * doubles at half full and halves below an eighth, so at least 1/16 of the
 * old table's slots in operations come before the next resize: by then the
 * old table is empty (settle() only finishes what is left, if anything).
 */
const STEP = 16;

export class KeyIndex {
  private mask = MIN_CAPACITY - 1;
  private table = new Int32Array(MIN_CAPACITY * W);
  /** The table being emptied into `table` (a resize under way), and the next of its slots to move. */
  private old: Int32Array | undefined;
  private oldMask = 0;
  private next = 0;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Slots of the table (the new one while a resize is under way). */
  get capacity(): number {
    return this.mask + 1;
  }

  /** Whether a resize is under way (slots of the old table are still to be scanned). */
  get resizing(): boolean {
    return this.old !== undefined;
  }

  /**
   * The value under fingerprint (hi, lo: 32-bit signed integers, as
   * Fingerprint gives them), or -1. Two values under one fingerprint (two
   * keys of the same 64-bit fingerprint: taken for the same transaction)
   * give one of them.
   */
  get(hi: number, lo: number): number {
    this.step();
    const v = find(this.table, this.mask, hi, lo);
    if (v >= 0 || this.old === undefined) return v;
    return find(this.old, this.oldMask, hi, lo);
  }

  /** Adds `value` (>= 0) under (hi, lo). */
  add(hi: number, lo: number, value: number): void {
    this.step();
    if ((this.count + 1) * 2 > this.mask + 1) this.resize((this.mask + 1) * 2);
    place(this.table, this.mask, hi, lo, value + 1);
    this.count++;
  }

  /** Removes the entry (hi, lo) -> value; false when there is none. */
  delete(hi: number, lo: number, value: number): boolean {
    this.step();
    if (!this.deleteIn(hi, lo, value + 1)) return false;
    this.count--;
    if (this.mask + 1 > MIN_CAPACITY && this.count * 8 < this.mask + 1) this.resize((this.mask + 1) / 2);
    return true;
  }

  /** Moves every entry left in the old table (the next resize begins; a test). */
  settle(): void {
    while (this.old !== undefined) this.step();
  }

  private deleteIn(hi: number, lo: number, stored: number): boolean {
    const t = this.table;
    for (let i = hi & this.mask; ; i = (i + 1) & this.mask) {
      const v = t[i * W + 2]!;
      if (v === EMPTY) break;
      if (v === stored && t[i * W] === hi && t[i * W + 1] === lo) {
        t[i * W + 2] = EMPTY;
        this.shiftBack(i);
        return true;
      }
    }
    const old = this.old;
    if (old === undefined) return false;
    for (let i = hi & this.oldMask; ; i = (i + 1) & this.oldMask) {
      const v = old[i * W + 2]!;
      if (v === EMPTY) return false;
      if (v === stored && old[i * W] === hi && old[i * W + 1] === lo) {
        old[i * W + 2] = MOVED;
        return true;
      }
    }
  }

  /**
   * Linear probing's deletion: the entries after the hole, up to the next
   * empty slot, move back into it when their home slot does not lie
   * (cyclically) between the hole and where they are.
   */
  private shiftBack(hole: number): void {
    const t = this.table;
    let j = hole;
    for (;;) {
      j = (j + 1) & this.mask;
      const v = t[j * W + 2]!;
      if (v === EMPTY) return;
      const home = t[j * W]! & this.mask;
      const stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (stays) continue;
      t[hole * W] = t[j * W]!;
      t[hole * W + 1] = t[j * W + 1]!;
      t[hole * W + 2] = v;
      t[j * W + 2] = EMPTY;
      hole = j;
    }
  }

  /** Starts a resize: a new table, into which the current one is moved STEP slots per operation. */
  private resize(capacity: number): void {
    this.settle();
    this.old = this.table;
    this.oldMask = this.mask;
    this.next = 0;
    this.mask = capacity - 1;
    this.table = new Int32Array(capacity * W);
  }

  /** Moves the entries of the old table's next STEP slots (if a resize is under way). */
  private step(): void {
    const old = this.old;
    if (old === undefined) return;
    const end = Math.min(this.next + STEP, this.oldMask + 1);
    for (let i = this.next; i < end; i++) {
      const v = old[i * W + 2]!;
      if (v > 0) {
        place(this.table, this.mask, old[i * W]!, old[i * W + 1]!, v);
        old[i * W + 2] = MOVED;
      }
    }
    this.next = end;
    if (end > this.oldMask) this.old = undefined;
  }
}

/** The value under (hi, lo) in table t (moved entries skipped), or -1. */
function find(t: Int32Array, mask: number, hi: number, lo: number): number {
  for (let i = hi & mask; ; i = (i + 1) & mask) {
    const v = t[i * W + 2]!;
    if (v === EMPTY) return -1;
    if (v > 0 && t[i * W] === hi && t[i * W + 1] === lo) return v - 1;
  }
}

/** Puts (hi, lo) -> stored (value + 1) in the first vacant slot from its home. */
function place(t: Int32Array, mask: number, hi: number, lo: number, stored: number): void {
  let i = hi & mask;
  while (t[i * W + 2] !== EMPTY) i = (i + 1) & mask;
  t[i * W] = hi;
  t[i * W + 1] = lo;
  t[i * W + 2] = stored;
}
