/**
 * Receiver statistics for one RTP source (RFC 3550): sequence number
 * bookkeeping with wrap-around and restart detection (A.1, without the
 * probation that would discard a short call's first packets), cumulative and
 * fraction lost (A.3), interarrival jitter (A.8, 6.4.1) and the report block
 * fields for RR/SR (6.4.1).
 */
import type { ReportBlock } from "./rtcp.js";

const MAX_DROPOUT = 3000;
const MAX_MISORDER = 100;
const SEQ_MOD = 0x10000;

export class SourceStats {
  private maxSeq = 0;
  private cycles = 0;
  private baseSeq = 0;
  private badSeq = SEQ_MOD + 1;
  private received = 0;
  private expectedPrior = 0;
  private receivedPrior = 0;
  private transit: number | undefined;
  /** In timestamp units, kept as a float (A.8 keeps it scaled; the report truncates). */
  jitter = 0;
  /** Middle 32 bits of the NTP time of the last SR from this source, and when it came (ms). */
  lastSr = 0;
  lastSrAt: number | undefined;

  constructor(
    readonly ssrc: number,
    firstSeq: number,
  ) {
    this.init(firstSeq);
  }

  private init(seq: number): void {
    this.baseSeq = seq;
    this.maxSeq = seq;
    this.badSeq = SEQ_MOD + 1;
    this.cycles = 0;
    this.received = 0;
    this.receivedPrior = 0;
    this.expectedPrior = 0;
  }

  /** Counts a packet; false when it is a wild sequence jump not (yet) accepted (A.1 update_seq). */
  update(seq: number): boolean {
    const udelta = (seq - this.maxSeq + SEQ_MOD) % SEQ_MOD;
    if (udelta < MAX_DROPOUT) {
      if (seq < this.maxSeq) this.cycles += SEQ_MOD;
      this.maxSeq = seq;
    } else if (udelta <= SEQ_MOD - MAX_MISORDER) {
      if (seq === this.badSeq) {
        this.init(seq); // two sequential packets: the source restarted
      } else {
        this.badSeq = (seq + 1) % SEQ_MOD;
        return false;
      }
    }
    this.received++;
    return true;
  }

  /** A.8: arrival and timestamp in the same units (timestamp units). */
  updateJitter(arrivalTs: number, rtpTimestamp: number): void {
    const transit = arrivalTs - rtpTimestamp;
    if (this.transit !== undefined) {
      let d = Math.abs(transit - this.transit);
      if (d > 2 ** 31) d = 2 ** 32 - d; // timestamp wrapped
      this.jitter += (d - this.jitter) / 16;
    }
    this.transit = transit;
  }

  get extendedMax(): number {
    return this.cycles + this.maxSeq;
  }

  get expected(): number {
    return this.extendedMax - this.baseSeq + 1;
  }

  /** A.3: cumulative lost, never below 0 here (duplicates can make the RFC value negative). */
  get lost(): number {
    return Math.max(0, this.expected - this.received);
  }

  get packets(): number {
    return this.received;
  }

  /** Report block for this source at time now (ms); advances the "prior" counters (A.3). */
  reportBlock(now: number): ReportBlock {
    const expected = this.expected;
    const expectedInterval = expected - this.expectedPrior;
    const receivedInterval = this.received - this.receivedPrior;
    this.expectedPrior = expected;
    this.receivedPrior = this.received;
    const lostInterval = expectedInterval - receivedInterval;
    const fractionLost =
      expectedInterval === 0 || lostInterval <= 0 ? 0 : Math.floor((lostInterval << 8) / expectedInterval);
    return {
      ssrc: this.ssrc,
      fractionLost: Math.min(255, fractionLost),
      cumulativeLost: expected - this.received,
      highestSeq: this.extendedMax >>> 0,
      jitter: Math.floor(this.jitter) >>> 0,
      lsr: this.lastSrAt === undefined ? 0 : this.lastSr,
      dlsr: this.lastSrAt === undefined ? 0 : Math.floor(((now - this.lastSrAt) * 65536) / 1000) >>> 0,
    };
  }
}
