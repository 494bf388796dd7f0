/**
 * Overload detection (issue 10 item 4; RFC 3261 21.5.4, the spirit of RFC
 * 7339): the mock is overloaded when the transaction budget is spent, the
 * event loop lags behind, or UDP requests wait in the kernel's receive queue
 * longer than their clients wait before retransmitting (T1); a new request
 * is then answered 503 with Retry-After instead of being dropped or queued
 * without bound. Rejections are counted per reason and reported once per
 * second, not per request.
 */
import type { Budgets, StoreName } from "./budget.js";
import type { Clock } from "./scheduler.js";

export type OverloadReason = StoreName | "event-loop-lag" | "udp-receive-queue";

export interface OverloadOptions {
  readonly budgets: Budgets;
  /** Mean event-loop delay (ms) over the last second above which new requests get 503; 0: never. */
  readonly maxLagMs: number;
  /** The current event-loop delay in ms (the real one, or a test's). */
  readonly lag: () => number;
  /** How long UDP datagrams may wait to be read before new requests get 503 (ms; the CLI's default is T1); 0: never. */
  readonly maxQueueDelayMs: number;
  /** How long a datagram read now has waited in a UDP receive queue (ms; the transport's probes). */
  readonly queueDelay: () => number;
  /** Retry-After seconds in the 503s. */
  readonly retryAfterS: number;
  readonly clock: Clock;
  /** Called at most once per second while requests are refused. */
  readonly report?: (message: string) => void;
}

/** RFC 3261 T1: a UDP client retransmits a request unanswered for this long (17.1.1.2, 17.1.2.2). */
export const DEFAULT_MAX_QUEUE_DELAY_MS = 500;

/** Octets a new transaction is assumed to need before it is charged (a small request). */
const MIN_TRANSACTION_COST = 6144;
const REPORT_EVERY_MS = 1000;
/** fitsHeadroom's slack over a spent transactions budget: limit/16, within these. */
const MIN_HEADROOM = 64 * 1024;
const MAX_HEADROOM = 1024 * 1024;

export class OverloadDetector {
  /** 503s sent, by reason. */
  readonly rejections = new Map<OverloadReason, number>();
  private lastReport = Number.NEGATIVE_INFINITY;
  private sinceReport = new Map<OverloadReason, number>();

  constructor(private readonly options: OverloadOptions) {}

  get retryAfterS(): number {
    return this.options.retryAfterS;
  }

  /** The current event-loop delay in ms. */
  get lagMs(): number {
    return this.options.lag();
  }

  /** How long a UDP datagram read now has waited in its receive queue (ms). */
  get queueDelayMs(): number {
    return this.options.queueDelay();
  }

  /**
   * Whether a transaction of `cost` octets still fits within the transactions
   * budget's headroom: the budget plus a fixed slack (1/16 of it, between 64
   * KiB and 1 MiB) for the requests let through a spent budget (the BYE that
   * ends a held call), so the overshoot is bounded whatever their number.
   */
  fitsHeadroom(cost: number): boolean {
    const budget = this.options.budgets.transactions;
    return budget.fits(cost - Math.min(MAX_HEADROOM, Math.max(MIN_HEADROOM, budget.limit / 16)));
  }

  /** Whether the transactions budget has no room for one more (a small request's). */
  noRoomForTransaction(): boolean {
    return !this.options.budgets.transactions.fits(MIN_TRANSACTION_COST);
  }

  /**
   * Why new requests are refused for load now (event-loop lag, the UDP
   * receive queue), or undefined. A load refusal spares a request within a
   * dialog the mock holds (the UA decides).
   */
  load(): OverloadReason | undefined {
    const { maxLagMs, maxQueueDelayMs } = this.options;
    if (maxLagMs > 0 && this.options.lag() > maxLagMs) return "event-loop-lag";
    if (maxQueueDelayMs > 0 && this.options.queueDelay() > maxQueueDelayMs) return "udp-receive-queue";
    return undefined;
  }

  /** Whether `store` has no room for `cost` more octets (an initial INVITE's dialog, a SUBSCRIBE's subscription). */
  full(store: StoreName, cost: number): boolean {
    return !this.options.budgets[store].fits(cost);
  }

  /** Counts a 503 sent for `reason`; reports the last second's refusals at most once per second. */
  refused(reason: OverloadReason): void {
    this.rejections.set(reason, (this.rejections.get(reason) ?? 0) + 1);
    this.sinceReport.set(reason, (this.sinceReport.get(reason) ?? 0) + 1);
    const now = this.options.clock.now();
    if (now - this.lastReport < REPORT_EVERY_MS) return;
    this.lastReport = now;
    const parts = [...this.sinceReport].map(([r, n]) => `${n} for ${describe(r)}`);
    this.sinceReport = new Map();
    this.options.report?.(
      `overload: answered 503 (Retry-After ${this.options.retryAfterS}) to new requests: ${parts.join(", ")}`,
    );
  }
}

function describe(reason: OverloadReason): string {
  if (reason === "event-loop-lag") return "event-loop lag";
  return reason === "udp-receive-queue" ? "the UDP receive queue" : `the ${reason} budget`;
}

/**
 * The event-loop delay: how late a 100 ms timer fires, averaged over the
 * last second or so (a single pause, a GC, does not make the mock
 * overloaded; a loop that is late on every turn does). perf_hooks'
 * monitorEventLoopDelay is not used: on Node 20 its samples miss a loop
 * blocked inside a callback (measured: a 1.5 s busy loop left its max at 23 ms).
 */
export function eventLoopLag(clock: Clock = { now: () => performance.now() }): {
  lag: () => number;
  stop: () => void;
} {
  const TICK_MS = 100;
  let last = 0;
  let expected = clock.now() + TICK_MS;
  let windowStart = clock.now();
  let late = 0;
  let ticks = 0;
  const timer = setInterval(() => {
    const now = clock.now();
    late += Math.max(0, now - expected);
    ticks++;
    expected = now + TICK_MS;
    if (now - windowStart >= 1000) {
      last = late / ticks;
      late = 0;
      ticks = 0;
      windowStart = now;
    }
  }, TICK_MS);
  timer.unref();
  return { lag: () => last, stop: () => clearInterval(timer) };
}
