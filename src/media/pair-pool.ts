/**
 * Ended calls' RTP/RTCP socket pairs, kept bound for the next calls on the
 * same address: a pair saves two socket/bind/close system calls and Node's
 * socket set-up each time it is reused. What reaches it between calls must
 * never reach the next call, so a pair is reused only after a quarantine:
 * QUARANTINE_MS since its call ended with no datagram at all on either
 * socket (any datagram then, a late packet of the old call or a peer still
 * sending, closes the pair for good, as if it had never been pooled: the
 * kernel answers the rest with port unreachable as it does for any closed
 * port). Oldest first, at most MAX_POOLED pairs (beyond: closed at once).
 * A pair nobody took for IDLE_MS is closed too (`idle()`), so a mock whose
 * load has stopped gives its ports back instead of holding up to 4,096 of
 * them bound for good.
 */
import type { SocketPair } from "./ports.js";

/** Longer than any in-flight datagram of the old call (a one-way delay), and than a 20-ms RTP stream's gap. */
export const QUARANTINE_MS = 1000;
/** 2 x 2,048 sockets (about 9 MB of RSS): up to 2,000 calls/s reuses every pair after its 1 s of quarantine. */
export const MAX_POOLED = 2048;
/** A pooled pair not taken for this long is closed: a load that stopped leaves no sockets bound. */
export const IDLE_MS = 60_000;

/** A doubly linked FIFO per local address (a pair is bound to one), O(1) take, put and removal. */
interface Queue {
  head: SocketPair | undefined;
  tail: SocketPair | undefined;
}

export class PairPool {
  private readonly byAddress = new Map<string, Queue>();
  private count = 0;

  constructor(
    private readonly now: () => number,
    private readonly quarantineMs = QUARANTINE_MS,
    private readonly max = MAX_POOLED,
  ) {}

  get size(): number {
    return this.count;
  }

  /** The oldest pair on address whose quarantine is over, out of the pool; undefined: bind a new one. */
  take(address: string): SocketPair | undefined {
    const q = this.byAddress.get(address);
    const pair = q?.head;
    if (!pair || this.now() - pair.releasedAt < this.quarantineMs) return undefined;
    this.remove(pair);
    return pair;
  }

  /** Keeps an ended call's pair (false: the pool is full, the caller closes it). */
  put(pair: SocketPair): boolean {
    if (this.count >= this.max) return false;
    let q = this.byAddress.get(pair.address);
    if (!q) {
      q = { head: undefined, tail: undefined };
      this.byAddress.set(pair.address, q);
    }
    pair.releasedAt = this.now();
    pair.pooledIn = this;
    pair.prev = q.tail;
    pair.next = undefined;
    if (q.tail) q.tail.next = pair;
    else q.head = pair;
    q.tail = pair;
    this.count++;
    return true;
  }

  /** Takes a pair out (reused, or tainted by a datagram in quarantine). */
  remove(pair: SocketPair): void {
    if (pair.pooledIn !== this) return;
    const q = this.byAddress.get(pair.address)!;
    if (pair.prev) pair.prev.next = pair.next;
    else q.head = pair.next;
    if (pair.next) pair.next.prev = pair.prev;
    else q.tail = pair.prev;
    pair.prev = undefined;
    pair.next = undefined;
    pair.pooledIn = undefined;
    this.count--;
  }

  /**
   * The pairs pooled IDLE_MS or longer ago, out of the pool (to be closed).
   * Each address's queue is oldest first, so only its head end is looked at.
   */
  idle(idleMs = IDLE_MS): SocketPair[] {
    const out: SocketPair[] = [];
    const now = this.now();
    for (const q of this.byAddress.values()) {
      for (let p = q.head; p && now - p.releasedAt >= idleMs; p = q.head) {
        this.remove(p);
        out.push(p);
      }
    }
    return out;
  }

  /** When the oldest pooled pair was released (allocator clock); undefined when the pool is empty. */
  oldest(): number | undefined {
    let at: number | undefined;
    for (const q of this.byAddress.values()) {
      if (q.head && (at === undefined || q.head.releasedAt < at)) at = q.head.releasedAt;
    }
    return at;
  }

  /** Every pooled pair, out of the pool (to be closed). */
  drain(): SocketPair[] {
    const out: SocketPair[] = [];
    for (const q of this.byAddress.values()) {
      for (let p = q.head; p; p = q.head) {
        this.remove(p);
        out.push(p);
      }
    }
    return out;
  }
}
