/**
 * Time for the media layer: a real clock (performance.now + setTimeout) and a
 * manual clock for tests, so RTP pacing (RFC 3550 5.1 timestamps) and RTCP
 * intervals (6.2) are driven without sleeping.
 */
import type { MediaClock, MediaTimer } from "./types.js";

export const realMediaClock: MediaClock = {
  now: () => performance.now(),
  setTimer(delayMs, fn) {
    // Whole milliseconds: Node keeps one timer list per distinct duration.
    return new RealTimer(setTimeout(fn, Math.max(0, Math.round(delayMs))));
  },
};

/** A Node timer as a MediaTimer (an object of one shape, no closure per timer). */
class RealTimer implements MediaTimer {
  constructor(private readonly timeout: NodeJS.Timeout) {}

  cancel(): void {
    clearTimeout(this.timeout);
  }
}

interface ManualEntry {
  at: number;
  seq: number;
  fn: () => void;
  live: boolean;
}

/** A clock that only moves when told: advance() runs due timers in deadline order. */
export class ManualMediaClock implements MediaClock {
  private t: number;
  private seq = 0;
  private entries: ManualEntry[] = [];

  constructor(start = 0) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimer(delayMs: number, fn: () => void): MediaTimer {
    const e: ManualEntry = { at: this.t + Math.max(0, delayMs), seq: this.seq++, fn, live: true };
    this.entries.push(e);
    return {
      cancel: () => {
        e.live = false;
      },
    };
  }

  get pending(): number {
    return this.entries.filter((e) => e.live).length;
  }

  /** Moves time forward by ms, running every timer that falls due, each at its own deadline. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      this.entries = this.entries.filter((e) => e.live);
      let next: ManualEntry | undefined;
      for (const e of this.entries) {
        if (e.at <= end && (!next || e.at < next.at || (e.at === next.at && e.seq < next.seq))) next = e;
      }
      if (!next) break;
      this.t = Math.max(this.t, next.at);
      next.live = false;
      next.fn();
    }
    this.t = end;
  }
}
