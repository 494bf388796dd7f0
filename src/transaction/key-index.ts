/**
 * Stored transactions by key fingerprint (transaction-key.ts): an
 * open-addressing hash table in one Int32Array (four words an entry:
 * fingerprint halves, value, unused; so one probe reads one cache line),
 * linear probing, at most half full, deletion by backward shift (no
 * tombstones, so probes stay short however many come and go). Where a Map
 * of string keys held 500,000 entries, each a key string of ~70 octets and
 * a hash-table entry the garbage collector traces, this is 32 octets per
 * entry (at half load) that it does not trace (issue 12).
 */

const MIN_CAPACITY = 1024;
const EMPTY = -1;
/** Words per entry: hi, lo, value, (unused: an entry per 16 octets, aligned). */
const W = 4;

export class KeyIndex {
  private mask = MIN_CAPACITY - 1;
  private table = emptyTable(MIN_CAPACITY);
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The value under fingerprint (hi, lo: 32-bit signed integers, as Fingerprint gives them), or -1. */
  get(hi: number, lo: number): number {
    const t = this.table;
    for (let i = hi & this.mask; ; i = (i + 1) & this.mask) {
      const v = t[i * W + 2]!;
      if (v === EMPTY) return EMPTY;
      if (t[i * W] === hi && t[i * W + 1] === lo) return v;
    }
  }

  /** Adds `value` (>= 0) under (hi, lo); a fingerprint already there keeps its first value (get finds that one). */
  add(hi: number, lo: number, value: number): void {
    if ((this.count + 1) * 2 > this.mask + 1) this.resize((this.mask + 1) * 2);
    this.place(hi, lo, value);
    this.count++;
  }

  /** Removes the entry (hi, lo) -> value; false when there is none. */
  delete(hi: number, lo: number, value: number): boolean {
    const t = this.table;
    let i = hi & this.mask;
    for (; ; i = (i + 1) & this.mask) {
      const v = t[i * W + 2]!;
      if (v === EMPTY) return false;
      if (v === value && t[i * W] === hi && t[i * W + 1] === lo) break;
    }
    t[i * W + 2] = EMPTY;
    this.count--;
    this.shiftBack(i);
    if (this.mask + 1 > MIN_CAPACITY && this.count * 8 < this.mask + 1) this.resize((this.mask + 1) / 2);
    return true;
  }

  private place(hi: number, lo: number, value: number): void {
    const t = this.table;
    let i = hi & this.mask;
    while (t[i * W + 2] !== EMPTY) i = (i + 1) & this.mask;
    t[i * W] = hi;
    t[i * W + 1] = lo;
    t[i * W + 2] = value;
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

  private resize(capacity: number): void {
    const old = this.table;
    this.mask = capacity - 1;
    this.table = emptyTable(capacity);
    for (let i = 0; i < old.length; i += W)
      if (old[i + 2] !== EMPTY) this.place(old[i]!, old[i + 1]!, old[i + 2]!);
  }
}

function emptyTable(capacity: number): Int32Array {
  const t = new Int32Array(capacity * W);
  for (let i = 2; i < t.length; i += W) t[i] = EMPTY;
  return t;
}
