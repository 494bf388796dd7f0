/**
 * Connection caps and timeouts for the stream transports (issue 10 item 5):
 * a total and a per-source-address cap shared by every TCP, TLS, WS and WSS
 * listener, and how long a connection may stay idle, take to complete a
 * message head, a TLS handshake or a WebSocket upgrade.
 */
import type { Socket } from "node:net";

export interface ConnectionLimits {
  /** Connections open at once, all stream listeners together. */
  readonly maxConnections: number;
  /** Connections open at once from one source address. */
  readonly maxPerSource: number;
  /** A TCP/TLS connection with no traffic in either direction this long is closed (CRLF keep-alives count). */
  readonly idleTimeoutMs: number;
  /** A message head started on TCP/TLS must be complete (CRLF CRLF) within this. */
  readonly headerTimeoutMs: number;
  /** A TLS (or WSS) connection must finish its handshake within this. */
  readonly tlsHandshakeTimeoutMs: number;
  /** A WS/WSS connection must complete its HTTP upgrade within this. */
  readonly wsUpgradeTimeoutMs: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  maxConnections: 10_000,
  maxPerSource: 256,
  // Softphones send RFC 5626 CRLF keep-alives or re-REGISTER well within this.
  idleTimeoutMs: 300_000,
  headerTimeoutMs: 32_000,
  tlsHandshakeTimeoutMs: 10_000,
  wsUpgradeTimeoutMs: 10_000,
};

export type ConnectionCloseReason =
  | "idle"
  | "header-timeout"
  | "tls-handshake-timeout"
  | "ws-upgrade-timeout";

/** Admission of new connections and the counters /metrics shows. */
export class ConnectionGate {
  readonly limits: ConnectionLimits;
  private total = 0;
  private readonly perSource = new Map<string, number>();
  /** Connections refused at accept, by cap ("total" or "per-source"). */
  readonly refused = new Map<"total" | "per-source", number>();
  /** Connections closed by a timeout, by reason. */
  readonly closed = new Map<ConnectionCloseReason, number>();
  /** Told once per refused or timed-out connection class per second (the log). */
  report?: (message: string) => void;
  private lastReport = Number.NEGATIVE_INFINITY;

  constructor(limits: Partial<ConnectionLimits> = {}) {
    this.limits = { ...DEFAULT_CONNECTION_LIMITS, ...limits };
  }

  get open(): number {
    return this.total;
  }

  /**
   * Takes a new connection from `address` if the caps allow; the caller
   * then calls the returned release exactly once when it closes.
   */
  admit(address: string): (() => void) | undefined {
    const n = this.perSource.get(address) ?? 0;
    const cap =
      this.total >= this.limits.maxConnections
        ? "total"
        : n >= this.limits.maxPerSource
          ? "per-source"
          : undefined;
    if (cap) {
      this.refused.set(cap, (this.refused.get(cap) ?? 0) + 1);
      this.note(
        `connection from ${address} refused: ${cap === "total" ? `${this.limits.maxConnections} connections open` : `${this.limits.maxPerSource} connections open from this address`}`,
      );
      return undefined;
    }
    this.total++;
    this.perSource.set(address, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.perSource.get(address) ?? 1) - 1;
      if (left <= 0) this.perSource.delete(address);
      else this.perSource.set(address, left);
    };
  }

  /** A connection closed by a timeout. */
  timedOut(reason: ConnectionCloseReason, peer: string): void {
    this.closed.set(reason, (this.closed.get(reason) ?? 0) + 1);
    this.note(`connection from ${peer} closed: ${reason.replace(/-/g, " ")}`);
  }

  private note(message: string): void {
    const now = Date.now();
    if (now - this.lastReport < 1000) return;
    this.lastReport = now;
    this.report?.(message);
  }
}

/** A deadline a new connection must meet (its TLS handshake, its WebSocket upgrade). */
export interface ConnectionDeadline {
  readonly reason: ConnectionCloseReason;
  readonly ms: number;
}

/** A socket's peer, as the accept and the deadline know it. */
interface Peer {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
}

/**
 * Applies the gate to every raw connection `server` accepts, before any byte
 * is read: a refused one is destroyed; an admitted one stays in `sockets`
 * until it closes (so shutdown can end it) and, given a deadline (ms > 0), is
 * closed unless the returned `met` is called for it in time.
 */
export function admitConnections(
  server: { on(event: "connection", listener: (s: Socket) => void): unknown },
  gate: ConnectionGate,
  sockets: { add(s: Socket): void; delete(s: Socket): void },
  deadline?: ConnectionDeadline,
): (s: Peer) => void {
  /** Deadlines running, by the peer's address and port. */
  const pending = new Map<string, NodeJS.Timeout>();
  const keyOf = (s: Peer) => `${s.remoteAddress}|${s.remotePort}`;
  const clear = (key: string) => {
    clearTimeout(pending.get(key));
    pending.delete(key);
  };
  server.on("connection", (s: Socket) => {
    const release = gate.admit(s.remoteAddress ?? "");
    if (!release) {
      s.destroy();
      return;
    }
    sockets.add(s);
    const key = keyOf(s);
    if (deadline && deadline.ms > 0) {
      const t = setTimeout(() => {
        gate.timedOut(deadline.reason, `${s.remoteAddress}:${s.remotePort}`);
        s.destroy();
      }, deadline.ms);
      t.unref();
      pending.set(key, t);
    }
    s.on("close", () => {
      release();
      clear(key);
      sockets.delete(s);
    });
  });
  return (s) => clear(keyOf(s));
}
