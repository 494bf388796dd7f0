/**
 * A manual clock for deterministic tests: monotonic milliseconds (what the
 * SIP scheduler measures deadlines against) and wall time (registrar,
 * subscriptions, digest nonces) move together, only when a test says so.
 * Every SIP timer runs on the manual Scheduler this clock drives: nothing
 * fires until `advance()` reaches its deadline, and then it fires at exactly
 * that time, in deadline order, timers scheduled by timers included.
 */
import { Scheduler, type TimerHandle } from "../../src/transaction/scheduler.js";

/** Lets promise chains and setImmediate callbacks started by a timer or a message settle. */
export async function settle(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}

export class ManualClock {
  private mono = 0;
  /** Deadlines handed to the scheduler (cancelled ones too: advancing to them runs nothing). */
  private readonly deadlines: number[] = [];
  readonly scheduler: Scheduler;
  /** Errors thrown by timer callbacks (a test asserts there are none). */
  readonly errors: unknown[] = [];

  constructor(private readonly wallStart = Date.UTC(2026, 0, 1)) {
    this.scheduler = new Scheduler({ now: () => this.mono }, (err) => this.errors.push(err), true);
    const schedule = this.scheduler.schedule.bind(this.scheduler);
    this.scheduler.schedule = (delayMs: number, fn: () => void): TimerHandle => {
      this.addDeadline(this.mono + Math.max(0, delayMs));
      return schedule(delayMs, fn);
    };
  }

  /** Monotonic ms since the clock was made (starts at 0). */
  now(): number {
    return this.mono;
  }

  /** Wall time in ms since the epoch: the start (2026-01-01) plus the monotonic time. */
  wall(): number {
    return this.wallStart + this.mono;
  }

  /** Timers alive (scheduled, neither run nor cancelled). */
  get pending(): number {
    return this.scheduler.pending;
  }

  /** The earliest deadline still ahead (maybe of a cancelled timer), or undefined. */
  nextDeadline(): number | undefined {
    return this.deadlines[0];
  }

  /**
   * Moves time forward by `ms`, stopping at every deadline on the way: the
   * clock reads exactly a timer's deadline while it runs, and what it sends
   * or schedules (asynchronously too) happens before time moves on.
   */
  async advance(ms: number): Promise<void> {
    if (ms < 0) throw new RangeError(`cannot go back in time (${ms} ms)`);
    await this.advanceTo(this.mono + ms);
  }

  async advanceTo(target: number): Promise<void> {
    await this.runDue();
    for (;;) {
      const next = this.deadlines[0];
      if (next === undefined || next > target) break;
      this.deadlines.shift();
      if (next > this.mono) this.mono = next;
      await this.runDue();
    }
    this.mono = Math.max(this.mono, target);
    await this.runDue();
  }

  /** Runs what is due now, then lets what it started settle (repeated while that schedules more now). */
  async runDue(): Promise<void> {
    do {
      while (this.deadlines[0] !== undefined && this.deadlines[0] <= this.mono) this.deadlines.shift();
      this.scheduler.runDue();
      await settle();
    } while (this.deadlines[0] !== undefined && this.deadlines[0] <= this.mono);
  }

  private addDeadline(at: number): void {
    const d = this.deadlines;
    let lo = 0;
    let hi = d.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (d[mid]! <= at) lo = mid + 1;
      else hi = mid;
    }
    d.splice(lo, 0, at);
  }
}
