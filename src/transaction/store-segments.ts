/**
 * The slots of a CompletedStore (completed-store.ts), in segments of a
 * fixed size: the store's ring grows by a segment, never by copying. A
 * ring that doubled by copying every slot stopped the event loop for
 * ~10-50 ms at 100,000s of stored transactions, while a load ramped up
 * (issue 12); a segment is allocated (or reused) in microseconds.
 *
 * A sequence number's segment is found in a directory indexed by its high
 * bits; the directory doubles when the stored ones span all of it, which
 * copies one reference per segment, not the slots.
 */
import type { Flow } from "../transport/types.js";

/** Slots per segment (a power of two). */
export const SEGMENT_BITS = 10;
export const SEGMENT = 1 << SEGMENT_BITS;
const MASK = SEGMENT - 1;

/** Parallel arrays of one segment's slots (what the store keeps of each, by field). */
export class Segment {
  /** Fingerprints (transaction-key.ts) of each slot's key and merge key. */
  readonly keyHis = new Int32Array(SEGMENT);
  readonly keyLos = new Int32Array(SEGMENT);
  readonly mergeHis = new Int32Array(SEGMENT);
  readonly mergeLos = new Int32Array(SEGMENT);
  /**
   * The To tag of its responses as a number, when it is 12 hex digits (kept:
   * a fault may have made the stored bytes unreadable); NaN: in Extra.
   */
  readonly tags = new Float64Array(SEGMENT);
  readonly methodCodes = new Uint8Array(SEGMENT);
  readonly flows: Array<Flow | undefined> = new Array(SEGMENT).fill(undefined);
  readonly chunks: Array<Buffer | undefined> = new Array(SEGMENT).fill(undefined);
  readonly templates: Array<Buffer | undefined> = new Array(SEGMENT).fill(undefined);
  readonly offsets = new Int32Array(SEGMENT);
  readonly prefixes = new Int32Array(SEGMENT);
  readonly suffixes = new Int32Array(SEGMENT);
  /** 1: the middle in its chunk is a patch of its template's (ResponseArena). */
  readonly patched = new Uint8Array(SEGMENT);
  readonly lengths = new Int32Array(SEGMENT);
  readonly statuses = new Int32Array(SEGMENT);
  readonly expiries = new Float64Array(SEGMENT);
}

/** A slot's index in its segment. */
export function offsetOf(seq: number): number {
  return seq & MASK;
}

/**
 * Sequence numbers wrap here: times 4 (the transaction layer adds which
 * store) they stay small integers (Smi) in its index; a multiple of
 * SEGMENT, so segment numbers wrap too, at SEGMENT_WRAP.
 */
export const SEQ_WRAP = 2 ** 28;
const SEGMENT_WRAP = SEQ_WRAP / SEGMENT;

/**
 * The segments of a ring's live sequence numbers, by segment number (a
 * sequence number's high bits): `held` of them from `first`, consecutive;
 * the store reserves a segment before it writes the first slot of one,
 * and releases the oldest once its head moved past it.
 */
export class SegmentDirectory {
  private dir: Array<Segment | undefined> = [undefined];
  private dirMask = 0;
  private first = 0;
  private held = 0;
  /** One emptied segment kept for the next one needed (a steady load moves across segments without allocating). */
  private spare: Segment | undefined;

  /** The segment of a live sequence number. */
  of(seq: number): Segment {
    return this.dir[(seq >>> SEGMENT_BITS) & this.dirMask]!;
  }

  /** Slots in the segments held now (not counting the spare). */
  get capacity(): number {
    return this.held * SEGMENT;
  }

  /** The segment of `seq`, the next slot written (the ring's tail): added if it has none yet. */
  reserve(seq: number): Segment {
    const s = seq >>> SEGMENT_BITS;
    if (this.held > 0 && s === (this.first + this.held - 1) % SEGMENT_WRAP)
      return this.dir[s & this.dirMask]!;
    if (this.held === 0) this.first = s;
    else if (this.held === this.dirMask + 1) this.grow();
    const segment = this.spare ?? new Segment();
    this.dir[s & this.dirMask] = segment;
    this.spare = undefined;
    this.held++;
    return segment;
  }

  /** The oldest segment has no live slot left (the ring's head moved past it): kept as the spare or let go. */
  release(): void {
    const index = this.first & this.dirMask;
    if (this.spare === undefined) this.spare = this.dir[index];
    this.dir[index] = undefined;
    this.first = (this.first + 1) % SEGMENT_WRAP;
    this.held--;
  }

  /** A directory of twice the span: the held segments placed by their segment numbers (a reference each is copied). */
  private grow(): void {
    const mask = (this.dirMask + 1) * 2 - 1;
    const dir = new Array<Segment | undefined>(mask + 1).fill(undefined);
    for (let k = 0; k < this.held; k++) {
      const s = (this.first + k) % SEGMENT_WRAP;
      dir[s & mask] = this.dir[s & this.dirMask];
    }
    this.dir = dir;
    this.dirMask = mask;
  }
}
