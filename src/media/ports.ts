/**
 * RTP/RTCP socket pairs (RFC 3550 11: RTP on an even port, RTCP on the next
 * higher odd port) from a configured range, rotating through it, or from
 * ephemeral ports: bind 0; an even port p is kept for RTP when p + 1 is free
 * (RTCP), an odd port p is kept for RTCP when p - 1 is free (RTP). Ephemeral
 * pairs of ended calls are reused after a quarantine (pair-pool.ts), and
 * closed once nobody took them for IDLE_MS (one timer, while the pool holds
 * pairs).
 */
import { createSocket, type RemoteInfo, type Socket, type SocketOptions } from "node:dgram";
import { isIPv6 } from "node:net";
import { literalLookup } from "../transport/address.js";
import { IDLE_MS, PairPool } from "./pair-pool.js";
import type { MediaTimer } from "./types.js";

/** The call a pair serves: its sockets' datagrams and errors go to it. */
export interface PairOwner {
  onRtp(msg: Buffer, rinfo: RemoteInfo): void;
  onRtcp(msg: Buffer, rinfo: RemoteInfo): void;
  onSocketError(err: Error): void;
}

/**
 * Two bound sockets and the call they serve now. The listeners are the
 * pair's, set once: a datagram or error with no call (the pair is pooled)
 * goes to `stray`, which closes the pair.
 */
export class SocketPair {
  owner: PairOwner | undefined;
  /** When its call ended (allocator clock), while pooled; the pool's links. */
  releasedAt = 0;
  pooledIn: PairPool | undefined;
  prev: SocketPair | undefined;
  next: SocketPair | undefined;
  closed = false;

  constructor(
    readonly rtp: Socket,
    readonly rtcp: Socket,
    readonly port: number,
    /** The local address both are bound to. */
    readonly address: string,
    stray: (pair: SocketPair) => void = closePair,
  ) {
    rtp.on("message", (msg, rinfo) => (this.owner ? this.owner.onRtp(msg, rinfo) : stray(this)));
    rtcp.on("message", (msg, rinfo) => (this.owner ? this.owner.onRtcp(msg, rinfo) : stray(this)));
    const onError = (err: Error) => (this.owner ? this.owner.onSocketError(err) : stray(this));
    rtp.on("error", onError);
    rtcp.on("error", onError);
  }
}

/** Closes both sockets once; `done` when both are closed. */
export function closePair(pair: SocketPair, done?: () => void): void {
  if (pair.closed) {
    done?.();
    return;
  }
  pair.closed = true;
  pair.owner = undefined;
  let open = 2;
  const closedOne = () => {
    if (--open === 0) done?.();
  };
  closeSocket(pair.rtp, closedOne);
  closeSocket(pair.rtcp, closedOne);
}

function closeSocket(s: Socket, closed: () => void): void {
  try {
    s.close(closed);
  } catch {
    closed(); // already closed
  }
}

const EPHEMERAL_ATTEMPTS = 64;
/** The idle sweep runs at most this often: pairs are closed IDLE_MS to IDLE_MS + 1 s after their call. */
const SWEEP_MIN_MS = 1000;

// IP literals looked up without dns.lookup (bind, and every RTP/RTCP send).
const UDP4: SocketOptions = { type: "udp4", lookup: literalLookup };
const UDP6: SocketOptions = { type: "udp6", lookup: literalLookup };

/** Binds a UDP socket exclusively: `done` gets it, or the error (the socket closed). */
function bindSocket(address: string, port: number, done: (err: Error | undefined, s?: Socket) => void): void {
  const s = createSocket(isIPv6(address) ? UDP6 : UDP4);
  const onError = (err: Error) => {
    s.close();
    done(err);
  };
  s.once("error", onError);
  s.bind({ address, port, exclusive: true }, () => {
    s.off("error", onError);
    done(undefined, s);
  });
}

function bind(address: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) =>
    bindSocket(address, port, (err, s) => (s ? resolve(s) : reject(err))),
  );
}

export class PortAllocator {
  private cursor: number;
  private readonly inUse = new Set<number>();
  /** Ended calls' ephemeral pairs (a range rotates through its ports instead). */
  private readonly pool: PairPool | undefined;
  private closed = false;
  private sweep: MediaTimer | undefined;

  constructor(
    private readonly range?: readonly [number, number],
    /** Monotonic ms for the pool's quarantine; absent: no pool (every pair closes with its call). */
    private readonly now?: () => number,
    /** Arms the idle sweep; absent: pooled pairs stay until reused or close(). */
    private readonly setTimer?: (delayMs: number, fn: () => void) => MediaTimer,
    private readonly idleMs = IDLE_MS,
  ) {
    this.pool = range || !now ? undefined : new PairPool(now);
    if (range) {
      const [lo, hi] = range;
      if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 1 || hi > 65535 || hi - lo < 1)
        throw new Error(`RTP port range ${lo}-${hi}: need two ports or more within 1-65535`);
    }
    this.cursor = range ? range[0] + (range[0] & 1) : 0;
  }

  allocate(address: string): Promise<SocketPair> {
    const pooled = this.pool?.take(address);
    if (pooled) {
      this.inUse.add(pooled.port);
      return Promise.resolve(pooled);
    }
    const pair = this.range ? this.fromRange(address, this.range) : this.ephemeral(address);
    return pair.then(this.taken);
  }

  private readonly taken = (pair: SocketPair): SocketPair => {
    this.inUse.add(pair.port);
    return pair;
  };

  /** A datagram or error on a pooled pair: out of the pool, closed. */
  private readonly stray = (pair: SocketPair): void => {
    this.pool?.remove(pair);
    closePair(pair);
  };

  /** The call ended: its pair goes to the pool, or closes (`done` once closed; at once when pooled). */
  release(pair: SocketPair, done?: () => void): void {
    this.inUse.delete(pair.port);
    pair.owner = undefined;
    if (!pair.closed && !this.closed && this.pool?.put(pair)) {
      this.armSweep();
      done?.();
    } else closePair(pair, done);
  }

  /** One timer while the pool holds pairs, due when its oldest pair has been idle IDLE_MS. */
  private armSweep(): void {
    if (this.sweep || !this.setTimer || !this.pool || !this.now) return;
    const oldest = this.pool.oldest();
    if (oldest === undefined) return;
    this.sweep = this.setTimer(Math.max(oldest + this.idleMs - this.now(), SWEEP_MIN_MS), this.swept);
  }

  /** Closes the pairs nobody took for IDLE_MS; again later while pairs remain. */
  private readonly swept = (): void => {
    this.sweep = undefined;
    if (this.closed || !this.pool) return;
    for (const pair of this.pool.idle(this.idleMs)) closePair(pair);
    this.armSweep();
  };

  /** Closes the pooled pairs; pairs released from now on close (the engine closes). */
  close(): void {
    this.closed = true;
    this.sweep?.cancel();
    this.sweep = undefined;
    if (this.pool) for (const pair of this.pool.drain()) closePair(pair);
  }

  /** Closes every pooled pair when a bind failed for want of descriptors; false when that cannot help. */
  private freeDescriptors(err: unknown): boolean {
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    if ((code !== "EMFILE" && code !== "ENFILE") || !this.pool || this.pool.size === 0) return false;
    for (const pair of this.pool.drain()) closePair(pair);
    return true;
  }

  private async fromRange(address: string, [lo, hi]: readonly [number, number]): Promise<SocketPair> {
    const first = lo + (lo & 1);
    const count = Math.floor((hi - first + 1) / 2);
    let lastError: unknown;
    for (let i = 0; i < count; i++) {
      const port = this.cursor;
      this.cursor = port + 2 + 1 > hi ? first : port + 2;
      if (this.inUse.has(port)) continue;
      const pair = await this.tryPair(address, port).catch((err: unknown) => {
        lastError = err;
        return undefined;
      });
      if (pair) return pair;
    }
    const why = lastError instanceof Error ? ` (last: ${lastError.message})` : "";
    throw new Error(`no free RTP/RTCP port pair in ${lo}-${hi} on ${address}${why}`);
  }

  /** Callbacks, not awaits: one promise per pair, whatever the binds it takes. */
  private ephemeral(address: string): Promise<SocketPair> {
    return new Promise((resolve, reject) => {
      let attempts = 0;
      const attempt = (): void => {
        if (attempts++ >= EPHEMERAL_ATTEMPTS) {
          reject(new Error(`no even ephemeral RTP port with a free RTCP port on ${address}`));
          return;
        }
        bindSocket(address, 0, (err, first) => {
          // Out of file descriptors (EMFILE/ENFILE): the pooled pairs' go first, then one more try.
          if (!first) return this.freeDescriptors(err) ? attempt() : reject(err);
          const got = first.address().port;
          // Odd: the first socket is the RTCP one when the even port below is free for RTP.
          const port = got % 2 === 0 ? got : got - 1;
          if (port === 0 || this.inUse.has(port)) return retry(first);
          bindSocket(address, port === got ? got + 1 : port, (e, other) => {
            if (!other) {
              this.freeDescriptors(e);
              return retry(first);
            }
            const [rtp, rtcp] = port === got ? [first, other] : [other, first];
            resolve(new SocketPair(rtp, rtcp, port, address, this.stray));
          });
        });
      };
      const retry = (first: Socket): void => {
        first.close();
        attempt();
      };
      attempt();
    });
  }

  private async tryPair(address: string, port: number): Promise<SocketPair> {
    const rtp = await bind(address, port);
    try {
      const rtcp = await bind(address, port + 1);
      return new SocketPair(rtp, rtcp, port, address);
    } catch (err) {
      rtp.close();
      throw err;
    }
  }
}
