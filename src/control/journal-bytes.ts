/**
 * Where the journal keeps its messages' octets: copied, one after another,
 * into shared chunks (issue 12). A message's own Buffer (the datagram the
 * transport read, the response the serializer wrote) then dies young, and
 * the journal holds one object per chunk instead of a Buffer, an
 * ArrayBuffer and a malloc'd backing store per message, all of which a
 * garbage collection copied once and promoted while the entry was in the
 * journal.
 *
 * A chunk is never written again once full: an entry read after it left the
 * journal (a test holding it, a capture queued) still reads its own octets.
 * A chunk is freed by the garbage collector when no entry points into it
 * any more; the journal evicts first in, first out, so at most one chunk is
 * partly held by evicted entries.
 */

/** Octets per chunk. */
const CHUNK = 64 * 1024;
/** A message longer than this gets a chunk of its own (it would waste most of a shared one). */
const OWN = CHUNK / 4;

export class ByteShelf {
  private chunk: Buffer = Buffer.allocUnsafeSlow(CHUNK);
  private used = 0;
  /** Where the octets of the last put() start in the chunk it returned. */
  offset = 0;

  /** Copies a message's octets (a string: latin1, 0-255 map 1:1); returns the chunk now holding them at `offset`. */
  put(wire: Buffer | string): Buffer {
    const length = wire.length;
    if (length > OWN) {
      this.offset = 0;
      return typeof wire === "string" ? Buffer.from(wire, "latin1") : Buffer.from(wire);
    }
    if (this.used + length > CHUNK) {
      this.chunk = Buffer.allocUnsafeSlow(CHUNK);
      this.used = 0;
    }
    const chunk = this.chunk;
    const at = this.used;
    if (typeof wire === "string") chunk.write(wire, at, length, "latin1");
    // TypedArray set: a memmove, without Buffer.copy's argument checks and view.
    else chunk.set(wire, at);
    this.used = at + length;
    this.offset = at;
    return chunk;
  }
}

/** A 32-bit FNV-1a hash of a string's code units: compared before the string itself. */
export function hashText(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h | 0;
}
