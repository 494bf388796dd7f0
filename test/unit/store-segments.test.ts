/**
 * The completed store's ring in segments (store-segments.ts, issue 12): a
 * ring of sequence numbers played against its directory, across the wrap
 * of sequence numbers at 2^28, through bursts that make the directory
 * double while the live range wraps. Every live slot keeps what was
 * written to it; segments are held only while they have live slots.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { offsetOf, SEGMENT, SEQ_WRAP, SegmentDirectory } from "../../src/transaction/store-segments.js";

/** A FIFO of sequence numbers from `start`, as CompletedStore keeps them. */
class Ring {
  readonly dir = new SegmentDirectory();
  head: number;
  tail: number;
  count = 0;
  /** Slots read back with another sequence number than the one written (plain compares: expect() per slot is slow). */
  wrong = 0;
  constructor(start: number) {
    this.head = start;
    this.tail = start;
  }
  push(): void {
    const seq = this.tail;
    this.dir.reserve(seq);
    this.dir.of(seq).keyHis[offsetOf(seq)] = seq | 0;
    this.tail = (seq + 1) % SEQ_WRAP;
    this.count++;
  }
  shift(): void {
    const seq = this.head;
    if (this.dir.of(seq).keyHis[offsetOf(seq)] !== (seq | 0)) this.wrong++;
    this.head = (seq + 1) % SEQ_WRAP;
    this.count--;
    if (offsetOf(this.head) === 0) this.dir.release();
  }
  /** Every live slot holds its own sequence number. */
  check(): void {
    for (let k = 0; k < this.count; k++) {
      const seq = (this.head + k) % SEQ_WRAP;
      if (this.dir.of(seq).keyHis[offsetOf(seq)] !== (seq | 0)) this.wrong++;
    }
  }
  /** Segments that hold a live slot (count > 0). */
  spanned(): number {
    const first = Math.floor(this.head / SEGMENT);
    const last = Math.floor(((this.tail - 1 + SEQ_WRAP) % SEQ_WRAP) / SEGMENT);
    return ((last - first + SEQ_WRAP / SEGMENT) % (SEQ_WRAP / SEGMENT)) + 1;
  }
}

describe("SegmentDirectory", () => {
  it("keeps every live slot through bursts across the wrap of sequence numbers", () => {
    // A burst: how many come, then how many of the oldest go.
    const burst = fc.record({
      add: fc.integer({ min: 0, max: 5000 }),
      end: fc.integer({ min: 0, max: 5000 }),
    });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 * SEGMENT }),
        fc.array(burst, { maxLength: 12 }),
        (back, bursts) => {
          const ring = new Ring(SEQ_WRAP - back);
          for (const { add, end } of bursts) {
            for (let k = 0; k < add; k++) ring.push();
            ring.check();
            for (let k = 0; k < end && ring.count > 0; k++) ring.shift();
            ring.check();
            expect(ring.wrong).toBe(0);
            // Empty, at most the segment the next slot goes into is held.
            if (ring.count === 0) expect(ring.dir.capacity).toBeLessThanOrEqual(SEGMENT);
            else expect(ring.dir.capacity).toBe(ring.spanned() * SEGMENT);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it("moves across segments under a steady load without holding more than it needs", () => {
    const ring = new Ring(0);
    for (let k = 0; k < 3000; k++) ring.push();
    for (let k = 0; k < 100_000; k++) {
      ring.push();
      ring.shift();
    }
    ring.check();
    expect(ring.wrong).toBe(0);
    expect(ring.dir.capacity).toBeLessThanOrEqual(4 * SEGMENT);
  });
});
