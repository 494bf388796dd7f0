/**
 * One Node timer for every SIP timer: a binary min-heap of deadlines. Timers
 * are cancelled lazily (a flag), so cancelling is O(1) amortised; when the
 * cancelled entries outnumber the live ones (Timer H cancelled by every ACK,
 * 64*T1 ahead), the heap is rebuilt without them, so it stays within twice
 * the live timers.
 */
export interface TimerHandle {
  cancel(): void;
}

/**
 * What a timer may call instead of a closure: an object told which of its
 * timers fired (the handle schedule() returned). A transaction is its own
 * target, so its Timer J/H/I costs one heap entry, not an entry, a closure
 * and the closure's context, all kept for 64*T1.
 */
export interface TimerTarget {
  onTimer(timer: TimerHandle): void;
}

const NOOP = () => {};

/**
 * A scheduled timer: its heap entry is its handle, so a timer costs one
 * object (no closure per handle); a transaction holds several for 64*T1.
 */
class Entry implements TimerHandle {
  cancelled = false;

  constructor(
    readonly at: number,
    readonly seq: number,
    public fn: (() => void) | TimerTarget,
    private readonly owner: Scheduler,
  ) {}

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.owner.cancelled();
    // The entry stays in the heap until its deadline (a session timer:
    // up to Session-Expires); what the callback holds must not.
    this.fn = NOOP;
  }
}

export interface Clock {
  now(): number;
}

const MAX_TIMEOUT = 2 ** 31 - 1;
/** Below this many cancelled entries the heap is never rebuilt. */
const COMPACT_MIN = 1024;

export class Scheduler {
  private heap: Entry[] = [];
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private armedAt = Number.POSITIVE_INFINITY;
  private live = 0;

  constructor(
    private readonly clock: Clock = { now: () => performance.now() },
    /** A timer callback threw: reported here; the scheduler and the process go on. */
    private readonly onError: (err: unknown) => void = (err) => console.error(err),
    /** Manual: no Node timer is armed; whoever drives the clock calls runDue() (test/harness). */
    private readonly manual = false,
  ) {}

  /** The clock's time, in ms: what every deadline is measured against. */
  now(): number {
    return this.clock.now();
  }

  get pending(): number {
    return this.live;
  }

  /** Entries in the heap, cancelled ones not yet dropped included. */
  get queued(): number {
    return this.heap.length;
  }

  /** Calls `fn` (or `fn.onTimer(handle)`) once `delayMs` have passed, unless cancelled first. */
  schedule(delayMs: number, fn: (() => void) | TimerTarget): TimerHandle {
    const entry = new Entry(this.clock.now() + Math.max(0, delayMs), this.seq++, fn, this);
    this.push(entry);
    this.live++;
    this.arm();
    return entry;
  }

  /** A live timer was cancelled (Entry.cancel). */
  cancelled(): void {
    this.live--;
    const dead = this.heap.length - this.live;
    if (dead > COMPACT_MIN && dead > this.live) this.compact();
  }

  /** Drops the cancelled entries and restores the heap order (O(n), bottom-up). */
  private compact(): void {
    const h = this.heap;
    let n = 0;
    for (let i = 0; i < h.length; i++) {
      const e = h[i]!;
      if (!e.cancelled) h[n++] = e;
    }
    h.length = n;
    for (let i = (n >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  /** Runs every due timer; exposed for tests that drive a manual clock. */
  runDue(): void {
    const now = this.clock.now();
    for (;;) {
      const top = this.heap[0];
      if (!top || top.at > now) break;
      this.pop();
      if (top.cancelled) continue;
      top.cancelled = true;
      this.live--;
      const fn = top.fn;
      // Its handle may be kept (a transaction's timer fields): the callback's captures need not be.
      top.fn = NOOP;
      try {
        if (typeof fn === "function") fn();
        else fn.onTimer(top);
      } catch (err) {
        this.onError(err);
      }
    }
    this.arm();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    // Marked cancelled: a handle cancelled after the stop changes no count.
    for (const e of this.heap) e.cancelled = true;
    this.heap = [];
    this.live = 0;
  }

  private arm(): void {
    while (this.heap[0]?.cancelled) this.pop();
    if (this.manual) return;
    const top = this.heap[0];
    if (!top) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      this.armedAt = Number.POSITIVE_INFINITY;
      return;
    }
    if (this.timer && this.armedAt <= top.at) return;
    if (this.timer) clearTimeout(this.timer);
    this.armedAt = top.at;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.armedAt = Number.POSITIVE_INFINITY;
        this.runDue();
      },
      // setTimeout takes at most 2^31-1 ms; a later timer is re-armed when this fires.
      Math.min(MAX_TIMEOUT, Math.max(0, top.at - this.clock.now())),
    );
  }

  // Sifting moves the hole, not pairs: a destructuring swap may allocate an
  // array per step (log2 of the live timers per timer, 64*T1 of them live).
  private push(e: Entry): void {
    const h = this.heap;
    let i = h.length;
    h.push(e);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p]!;
      if (!less(e, parent)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = e;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (!last || h.length === 0) return;
    h[0] = last;
    this.siftDown(0);
  }

  private siftDown(start: number): void {
    const h = this.heap;
    const n = h.length;
    const e = h[start]!;
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const m = r < n && less(h[r]!, h[l]!) ? r : l;
      const child = h[m]!;
      if (!less(child, e)) break;
      h[i] = child;
      i = m;
    }
    h[i] = e;
  }
}

function less(a: Entry, b: Entry): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
