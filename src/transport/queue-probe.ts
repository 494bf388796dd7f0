/**
 * How long datagrams wait in a UDP socket's receive queue before the mock
 * reads them. A saturated event loop still runs its timers nearly on time
 * (libuv reads a few dozen datagrams a turn, then services the timers), so
 * the event-loop lag stays low while the kernel's queue (4 MiB by default)
 * holds seconds of requests; their clients meanwhile retransmit each one
 * every T1, 2*T1... (RFC 3261 17.1.1.2 Timer A, 17.1.2.2 Timer E), which
 * adds load to a mock that is already behind until hardly a call completes
 * (measured: the answered call with RTP at 2,500 calls/s, a full queue for
 * 24 s, a lag of 10-330 ms, no 503).
 *
 * The socket times a datagram of its own through its queue: it sends itself
 * a probe and measures when it reads it. The queue is FIFO, so the probe
 * waits as long as a request that arrived at the same instant, and while it
 * is still in the queue, the requests read now arrived before it and have
 * waited at least its age.
 *
 * A probe is sent only when the loop was saturated over the last interval.
 * When the loop was idle at any time in it, it was waiting for datagrams,
 * so the queue was empty then and the delay is taken as 0: a mock that is
 * not saturated sends nothing but the one probe at start that checks that
 * probes come back. When they do not (a firewall on loopback), or are lost
 * while the loop idles three times in a row, the measure stays 0 (until one
 * comes back) and only the event-loop lag guards; the log says so once.
 */

/** How often the loop's load is read and, when saturated, a probe sent. */
export const PROBE_INTERVAL_MS = 100;
/** A probe not back after this was dropped (a full queue drops datagrams): its age is the delay, and the next one goes. */
export const PROBE_LOST_MS = 2000;
/** The share of the last interval the loop must have been busy for the queue to be measured. */
export const SATURATED = 0.9;

/** A NUL first octet: no SIP message, CRLF keep-alive or STUN message (RFC 5389 6: 0b00 then a type) reads as this magic. */
const MAGIC = Buffer.from("\0sipmock receive-queue probe\0", "latin1");
const NONCE_SIZE = 8;
const SEQ_AT = MAGIC.length + NONCE_SIZE;
export const PROBE_SIZE = SEQ_AT + 4;

export interface QueueProbeEnv {
  /** Monotonic milliseconds. */
  now(): number;
  /** Puts the probe on the wire, to the socket's own address; `done` hears how the send ended. */
  send(probe: Buffer, done: (err: Error | null) => void): void;
  /** The share (0..1) of the time since the last call that the event loop was busy. */
  utilization(): number;
  /** Random octets, so that no one else's datagram passes for a probe (at least NONCE_SIZE). */
  readonly nonce: Buffer;
  /** Told once when probes do not come back (the measure is then off). */
  readonly report?: (message: string) => void;
}

/** Probes lost while the loop idled, in a row, after which the path is taken as broken. */
const IDLE_LOSSES_BROKEN = 3;

export class QueueProbe {
  /** Magic and nonce: what a probe of this socket starts with. */
  private readonly head = Buffer.alloc(SEQ_AT);
  private seq = 0;
  /** When the probe in the queue was sent; undefined: none is. */
  private sentAt: number | undefined;
  /** The last probe's time through the queue (or a lost one's age). */
  private sample = 0;
  /** A probe came back, and none was lost while the loop idled since: an age means something. */
  private works = false;
  private idleLosses = 0;
  private lastTickAt: number;
  private reported = false;

  constructor(private readonly env: QueueProbeEnv) {
    MAGIC.copy(this.head, 0);
    env.nonce.copy(this.head, MAGIC.length, 0, NONCE_SIZE);
    this.lastTickAt = env.now();
  }

  /** Sends the probe that checks probes come back (at listen). */
  start(): void {
    this.send(this.env.now());
  }

  /**
   * Every PROBE_INTERVAL_MS: measure again while the loop is saturated;
   * forget the delay when it was not. A probe still out after the loop
   * idled was dropped: had it been in the queue, the idle loop would have
   * read it (the queue was empty then).
   */
  tick(): void {
    const now = this.env.now();
    const saturated = this.env.utilization() >= SATURATED;
    const windowStart = this.lastTickAt;
    this.lastTickAt = now;
    if (this.sentAt !== undefined) {
      if (!saturated && this.sentAt <= windowStart) {
        this.lostWhileIdle();
        return;
      }
      if (now - this.sentAt < PROBE_LOST_MS) return;
      // Dropped by a full queue: it waited at least this long.
      this.sample = now - this.sentAt;
      this.sentAt = undefined;
    } else if (!saturated) {
      this.sample = 0;
      return;
    }
    this.send(now);
  }

  /** How long a datagram read now has waited in the queue, at least (ms). */
  delayMs(): number {
    if (!this.works) return 0;
    const at = this.sentAt;
    if (at === undefined) return this.sample;
    return Math.max(this.env.now() - at, this.sample);
  }

  /**
   * Whether a datagram is one of this socket's probes (`fromPort`: its
   * source port, which is the socket's own for a probe); the one awaited
   * gives the delay, and any shows the path works. A probe is never handed
   * to SIP.
   */
  take(data: Buffer, fromPort: number, ownPort: number): boolean {
    if (data.length !== PROBE_SIZE || data[0] !== 0 || fromPort !== ownPort) return false;
    if (data.compare(this.head, 0, SEQ_AT, 0, SEQ_AT) !== 0) return false;
    this.works = true;
    this.idleLosses = 0;
    if (this.sentAt !== undefined && data.readUInt32BE(SEQ_AT) === this.seq) {
      this.sample = this.env.now() - this.sentAt;
      this.sentAt = undefined;
    }
    return true;
  }

  /** The socket closes: nothing is out any more, and nothing is measured. */
  reset(): void {
    this.sentAt = undefined;
    this.sample = 0;
    this.works = false;
  }

  private lostWhileIdle(): void {
    this.sentAt = undefined;
    this.sample = 0;
    if (++this.idleLosses < IDLE_LOSSES_BROKEN && this.works) return;
    this.works = false;
    if (this.reported) return;
    this.reported = true;
    this.env.report?.(
      "the probe this UDP socket sent itself did not come back; overload by receive-queue delay is not measured on it (a firewall on loopback?)",
    );
  }

  private send(now: number): void {
    this.seq = (this.seq + 1) >>> 0;
    const seq = this.seq;
    // A buffer per probe (at most 10 a second): the send may still hold the last one.
    const packet = Buffer.allocUnsafe(PROBE_SIZE);
    this.head.copy(packet, 0);
    packet.writeUInt32BE(seq, SEQ_AT);
    this.sentAt = now;
    this.env.send(packet, (err) => {
      if (err && this.seq === seq) this.sentAt = undefined;
    });
  }
}
