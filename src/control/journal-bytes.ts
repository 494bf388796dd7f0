/**
 * Where the journal keeps its messages' octets: copied, one after another,
 * into shared 64 KiB chunks (issue 12). A message's own Buffer (the
 * datagram the transport read, the response the serializer wrote) then
 * dies young, and the journal holds one object per chunk instead of a
 * Buffer, an ArrayBuffer and a malloc'd backing store per message, all of
 * which a garbage collection copied once and promoted while the entry was
 * in the journal.
 *
 * Chunks are reused: a chunk none of whose messages is in the journal any
 * more, and none of whose entries was lent out (pin()), is written again,
 * after one turn of the event loop (the readers that queue an entry for
 * the end of the turn, captures and the web UI's stream, have read it by
 * then). Fresh memory costs a page fault per 4 KiB on first write; reused
 * chunks do not. A pinned chunk is left to the garbage collector, so an
 * entry lent out keeps its octets for as long as anyone holds it.
 */

/** Octets per chunk. */
const CHUNK = 64 * 1024;
/** A message longer than this gets a buffer of its own (it would waste most of a shared one). */
const OWN = CHUNK / 4;
/** Free chunks kept for reuse at most (4 MiB); more go to the garbage collector. */
const MAX_FREE = 64;
/** The slot of a message in a buffer of its own. */
export const OWN_SLOT = -1;

const EMPTY = Buffer.alloc(0);

export class ByteShelf {
  /** The chunks by slot (EMPTY: a vacant slot), their messages still in the journal, and whether an entry in them was lent out. */
  private readonly chunks: Buffer[] = [];
  private readonly live: number[] = [];
  private readonly pinned: boolean[] = [];
  /** Slots whose chunk can be written again; without a chunk; retired this turn of the event loop. */
  private readonly free: number[] = [];
  private readonly vacant: number[] = [];
  private cooling: number[] = [];
  private current = -1;
  private used = CHUNK;
  /** Where the octets of the last put() start in the buffer it returned, and that buffer's slot. */
  offset = 0;
  slot = OWN_SLOT;
  /** Chunks allocated so far (reuse means this stops growing). */
  allocated = 0;

  /** Copies a message's octets (a string: latin1, 0-255 map 1:1); returns the buffer now holding them at `offset`. */
  put(wire: Buffer | string): Buffer {
    const length = wire.length;
    if (length > OWN) {
      this.offset = 0;
      this.slot = OWN_SLOT;
      return typeof wire === "string" ? Buffer.from(wire, "latin1") : Buffer.from(wire);
    }
    if (this.used + length > CHUNK) this.next();
    const chunk = this.chunks[this.current]!;
    const at = this.used;
    if (typeof wire === "string") chunk.write(wire, at, length, "latin1");
    // TypedArray set: a memmove, without Buffer.copy's argument checks and view.
    else chunk.set(wire, at);
    this.used = at + length;
    this.offset = at;
    this.slot = this.current;
    this.live[this.current]!++;
    return chunk;
  }

  /** The chunk of a slot that holds messages in the journal. */
  chunkAt(slot: number): Buffer {
    return this.chunks[slot]!;
  }

  /** A message of `slot` left the journal. */
  release(slot: number): void {
    if (slot === OWN_SLOT) return;
    if (--this.live[slot]! === 0 && slot !== this.current) this.retire(slot);
  }

  /** An entry of `slot` is lent out (a listener, a caller): its chunk is never written again. */
  pin(slot: number): void {
    if (slot !== OWN_SLOT) this.pinned[slot] = true;
  }

  /** Every message left the journal (it was cleared). */
  releaseAll(): void {
    for (let slot = 0; slot < this.chunks.length; slot++) {
      if (this.live[slot]! > 0) {
        this.live[slot] = 0;
        if (slot !== this.current) this.retire(slot);
      }
    }
  }

  /** The next chunk to write: a free one, else a new one (in a vacant slot if any). */
  private next(): void {
    const last = this.current;
    let slot = this.free.pop();
    if (slot === undefined) {
      slot = this.vacant.pop();
      if (slot === undefined) {
        slot = this.chunks.length;
        this.live.push(0);
        this.pinned.push(false);
      }
      this.chunks[slot] = Buffer.allocUnsafeSlow(CHUNK);
      this.allocated++;
    }
    this.current = slot;
    this.used = 0;
    // The chunk left behind may be empty already (its messages evicted while it was written).
    if (last >= 0 && this.live[last] === 0) this.retire(last);
  }

  /** A chunk with no message in the journal: free for reuse once this turn of the event loop is over. */
  private retire(slot: number): void {
    if (this.cooling.length === 0) setImmediate(this.cooled);
    this.cooling.push(slot);
  }

  private readonly cooled = (): void => {
    for (const slot of this.cooling) {
      if (this.live[slot]! > 0 || slot === this.current) continue;
      if (this.pinned[slot] || this.free.length >= MAX_FREE) {
        // Its lent entries hold the buffer: the slot gets a new one when next used.
        this.chunks[slot] = EMPTY;
        this.pinned[slot] = false;
        this.vacant.push(slot);
      } else this.free.push(slot);
    }
    this.cooling = [];
  };
}

/** A 32-bit FNV-1a hash of a string's code units: compared before the string itself. */
export function hashText(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h | 0;
}
