/**
 * Requests an overloaded mock refused before they had a transaction (503 +
 * Retry-After, RFC 3261 21.5.4), remembered over UDP for 64*T1 by the
 * fingerprint of their transaction key. RFC 3261 8.2.7: a stateless UAS
 * "MUST NOT retransmit responses" and "MUST ignore ACK requests". So a
 * refusal costs one 503 and no timer; a retransmission of the request gets
 * the same 503 again (same reason; the To tag is a keyed hash of the
 * request, statelessTag), whatever the load is by then, and is never taken
 * as a new request (a call its client, holding its 503, would never ACK or
 * end); the ACK of a refused INVITE is absorbed.
 *
 * 64*T1 is as long as a client retransmits (Timer B and F, 17.1.1.2,
 * 17.1.2.2). Every refusal waits the same delay, so they end in the order
 * they came: a ring, first in first out, one timer for all. Each costs 17
 * octets here and a KeyIndex entry (32 octets at half load) in its owner;
 * at most MAX_REFUSED are kept (8,192 refusals/s for 64*T1), and beyond
 * that the oldest is forgotten early: a late retransmission of it is a new
 * request again (refused again with the same To tag while the load lasts).
 */
import { STORE_NAMES } from "./budget.js";
import type { OverloadReason } from "./overload.js";
import type { Scheduler, TimerHandle, TimerTarget } from "./scheduler.js";
import { SEQ_WRAP } from "./store-segments.js";

/** Refusals remembered at most (about 12.6 MiB with their index entries, at most twice that while either grows). */
export const MAX_REFUSED = 1 << 18;
const MIN_SLOTS = 256;

/** The reasons a slot keeps, as their index here. */
const REASONS: readonly OverloadReason[] = [...STORE_NAMES, "event-loop-lag", "udp-receive-queue"];

/** What the store tells its owner (the transaction layer). */
export interface RefusedOwner {
  /** A refusal is forgotten (its 64*T1 are over, or room was needed): its index entry goes. */
  forgotten(hi: number, lo: number, seq: number): void;
}

export class RefusedStore implements TimerTarget {
  private his = new Int32Array(MIN_SLOTS);
  private los = new Int32Array(MIN_SLOTS);
  private expiries = new Float64Array(MIN_SLOTS);
  private reasons = new Uint8Array(MIN_SLOTS);
  /** Sequence number of the oldest slot and of the next one (mod SEQ_WRAP). */
  private head = 0;
  private tail = 0;
  private count = 0;
  private timer: TimerHandle | undefined;

  constructor(
    private readonly owner: RefusedOwner,
    private readonly scheduler: Scheduler,
    /** How long a refusal is remembered (64*T1). */
    private readonly delay: number,
    private readonly max = MAX_REFUSED,
    /** The first sequence number (a test starts near SEQ_WRAP). */
    first = 0,
  ) {
    this.head = first;
    this.tail = first;
  }

  /** Refusals remembered now. */
  get size(): number {
    return this.count;
  }

  /** Slots in the ring now (it doubles when full, and is back to the smallest once empty). */
  get capacity(): number {
    return this.his.length;
  }

  /** Remembers a refusal of the request whose key has the fingerprint (hi, lo); its sequence number. */
  add(hi: number, lo: number, reason: OverloadReason): number {
    if (this.count === this.max) this.forgetOldest();
    if (this.count === this.his.length) this.grow();
    const seq = this.tail;
    const i = seq & (this.his.length - 1);
    this.his[i] = hi;
    this.los[i] = lo;
    this.expiries[i] = this.scheduler.now() + this.delay;
    this.reasons[i] = REASONS.indexOf(reason);
    this.tail = (seq + 1) % SEQ_WRAP;
    this.count++;
    if (!this.timer) this.timer = this.scheduler.schedule(this.delay, this);
    return seq;
  }

  /** Why the request of refusal `seq` (a slot it still holds) was refused. */
  reasonOf(seq: number): OverloadReason {
    return REASONS[this.reasons[seq & (this.his.length - 1)]!]!;
  }

  /** 64*T1 are over for the oldest ones: they are forgotten, in order. */
  onTimer(): void {
    this.timer = undefined;
    const now = this.scheduler.now();
    while (this.count > 0 && this.expiries[this.head & (this.his.length - 1)]! <= now) this.forgetOldest();
    if (this.count > 0) {
      const next = this.expiries[this.head & (this.his.length - 1)]!;
      this.timer = this.scheduler.schedule(next - now, this);
    }
  }

  /** Forgets every refusal (shutdown). */
  clear(): void {
    this.timer?.cancel();
    this.timer = undefined;
    while (this.count > 0) this.forgetOldest();
  }

  private forgetOldest(): void {
    const seq = this.head;
    const i = seq & (this.his.length - 1);
    this.head = (seq + 1) % SEQ_WRAP;
    this.count--;
    this.owner.forgotten(this.his[i]!, this.los[i]!, seq);
    if (this.count === 0 && this.his.length > MIN_SLOTS) this.shrink();
  }

  /** Twice the slots; each live one moves to its place in the new arrays (seq & mask). */
  private grow(): void {
    this.resize(this.his.length * 2);
  }

  /** Empty: back to the smallest arrays (a burst of refusals leaves nothing behind). */
  private shrink(): void {
    this.resize(MIN_SLOTS);
  }

  private resize(slots: number): void {
    const his = new Int32Array(slots);
    const los = new Int32Array(slots);
    const expiries = new Float64Array(slots);
    const reasons = new Uint8Array(slots);
    const oldMask = this.his.length - 1;
    for (let k = 0; k < this.count; k++) {
      const seq = (this.head + k) % SEQ_WRAP;
      const from = seq & oldMask;
      const to = seq & (slots - 1);
      his[to] = this.his[from]!;
      los[to] = this.los[from]!;
      expiries[to] = this.expiries[from]!;
      reasons[to] = this.reasons[from]!;
    }
    this.his = his;
    this.los = los;
    this.expiries = expiries;
    this.reasons = reasons;
  }
}
