/** UDP listener: one message per datagram (RFC 3261 18.3), responses to the source or rport (18.2.2, RFC 3581). */
import { randomBytes } from "node:crypto";
import { createSocket, type Socket } from "node:dgram";
import { performance } from "node:perf_hooks";
import { parseDatagram } from "../sip/parser.js";
import { literalLookup } from "./address.js";
import { PROBE_INTERVAL_MS, QueueProbe } from "./queue-probe.js";
import { annotateTopVia } from "./received.js";
import {
  type Flow,
  hostPort,
  type InboundHandler,
  type Listener,
  type ListenerInfo,
  NOT_SENT,
} from "./types.js";

export interface UdpOptions {
  /** Datagrams above this get 513 Message Too Large (RFC 3261 21.5.6). */
  readonly maxMessageSize: number;
  /** SO_RCVBUF in octets: a burst the event loop has not read yet waits here, not dropped (default DEFAULT_UDP_BUFFERS). */
  readonly recvBufferSize?: number;
  /** SO_SNDBUF in octets. */
  readonly sendBufferSize?: number;
  /** Told once when the kernel gave a buffer smaller than asked (Linux: net.core.rmem_max / wmem_max). */
  readonly report?: (message: string) => void;
  /** Time the receive queue with probe datagrams (queue-probe.ts); default false. */
  readonly queueProbe?: boolean;
}

/**
 * The kernel's default receive buffer (212,992 octets on Linux) drops
 * datagrams in bursts long before the CPU is busy; 4 MiB holds a second of
 * about 8,000 INVITEs. Linux grants at most net.core.rmem_max (wmem_max).
 */
export const DEFAULT_UDP_BUFFERS = { receive: 4 * 1024 * 1024, send: 1024 * 1024 } as const;

/**
 * Sets a socket buffer and reads back what the kernel granted. Linux doubles
 * the value asked (bookkeeping overhead) after capping it at the sysctl, so
 * it reports 2 x min(asked, max): less than 2 x asked means capped.
 */
function sizeBuffer(
  socket: Socket,
  which: "receive" | "send",
  asked: number,
  report?: (m: string) => void,
): void {
  try {
    if (which === "receive") socket.setRecvBufferSize(asked);
    else socket.setSendBufferSize(asked);
    const got = which === "receive" ? socket.getRecvBufferSize() : socket.getSendBufferSize();
    const granted = process.platform === "linux" ? got / 2 : got;
    if (granted < asked) {
      const sysctl = which === "receive" ? "net.core.rmem_max" : "net.core.wmem_max";
      report?.(
        `UDP ${which} buffer: asked ${asked} octets, the kernel granted ${granted} (capped by ${sysctl}; raise it with sysctl -w ${sysctl}=${asked})`,
      );
    }
  } catch (err) {
    report?.(`UDP ${which} buffer: could not set ${asked} octets: ${(err as Error).message}`);
  }
}

export async function listenUdp(
  host: string,
  port: number,
  onMessage: InboundHandler,
  options: UdpOptions,
): Promise<Listener> {
  const socket: Socket = createSocket({
    type: host.includes(":") ? "udp6" : "udp4",
    reuseAddr: false,
    lookup: literalLookup,
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(port, host, () => {
      socket.off("error", reject);
      resolve();
    });
  });
  sizeBuffer(socket, "receive", options.recvBufferSize ?? DEFAULT_UDP_BUFFERS.receive, options.report);
  sizeBuffer(socket, "send", options.sendBufferSize ?? DEFAULT_UDP_BUFFERS.send, options.report);
  const addr = socket.address();
  const info: ListenerInfo = { transport: "udp", address: addr.address, port: addr.port };
  // A socket error (ICMP port unreachable on some platforms) must not crash the server.
  socket.on("error", () => {});
  // Every datagram's flow names the same local endpoint: one object, never changed.
  const local = Object.freeze({ address: info.address, port: info.port });
  const probing = options.queueProbe ? startProbe(socket, info, options.report) : undefined;
  const probe = probing?.probe;
  socket.on("message", (data, rinfo) => {
    if (probe && data[0] === 0 && probe.take(data, rinfo.port, info.port)) return;
    const flow: Flow = { transport: "udp", local, remote: { address: rinfo.address, port: rinfo.port } };
    let result: ReturnType<typeof parseDatagram>;
    try {
      result = parseDatagram(data, options.maxMessageSize);
      if (result.ok && result.message.kind === "request")
        annotateTopVia(result.message.headers, flow.remote, result.message.core.via[0]);
    } catch (err) {
      // A parser bug must not take the listener down: the datagram is reported as unparsable.
      result = {
        ok: false,
        error: { status: 400, detail: `internal parser error: ${(err as Error).message}` },
      };
    }
    onMessage({ flow, bytes: data, result, receivedAt: Date.now() });
  });
  let closed = false;
  return {
    info,
    send(flow, bytes, onWire) {
      if (closed) return Promise.resolve();
      const to = flow.replyTo ?? flow.remote;
      const tooLarge = tooLargeFor(to.address, bytes);
      // Node would fail with EMSGSIZE: say why, so the log names it.
      if (tooLarge) return Promise.reject(tooLarge);
      onWire?.(flow);
      return new Promise((resolve, reject) => {
        socket.send(bytes, to.port, to.address, (err) => (err ? reject(err) : resolve()));
      });
    },
    checkDatagram(flow, bytes) {
      if (closed) return NOT_SENT;
      return tooLargeFor((flow.replyTo ?? flow.remote).address, bytes);
    },
    sendDatagram(flow, bytes, done) {
      const to = flow.replyTo ?? flow.remote;
      try {
        socket.send(bytes, to.port, to.address, done);
      } catch (err) {
        // (Node throws at once for a port it refuses, 0 say, that a Via named.)
        return err as Error;
      }
      return undefined;
    },
    async sendFromOtherPort(flow, bytes, onWire) {
      if (closed) return;
      const to = flow.replyTo ?? flow.remote;
      const other = createSocket(to.address.includes(":") ? "udp6" : "udp4");
      try {
        // Bound first, so the capture can name the port the datagram leaves from.
        await new Promise<void>((resolve) => other.bind(0, () => resolve()));
        onWire?.({ ...flow, localSocket: { address: info.address, port: other.address().port } });
        await new Promise<void>((resolve, reject) =>
          other.send(bytes, to.port, to.address, (err) => (err ? reject(err) : resolve())),
        );
      } finally {
        other.close();
      }
    },
    queueDelayMs: probe ? () => probe.delayMs() : undefined,
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      probing?.stop();
      return new Promise((resolve) => socket.close(() => resolve()));
    },
  };
}

/**
 * The socket's queue probe, sent to its own address, ticking until stop().
 * A wildcard socket sends it over loopback: 127.0.0.1, or for a dual-stack
 * `::` its IPv4-mapped form, which works where IPv6 is off on loopback.
 */
function startProbe(
  socket: Socket,
  info: ListenerInfo,
  report: ((message: string) => void) | undefined,
): { probe: QueueProbe; stop(): void } {
  const to =
    info.address === "0.0.0.0" ? "127.0.0.1" : info.address === "::" ? "::ffff:127.0.0.1" : info.address;
  let last = performance.eventLoopUtilization();
  const probe = new QueueProbe({
    now: () => performance.now(),
    send: (bytes, done) => {
      try {
        socket.send(bytes, info.port, to, done);
      } catch (err) {
        done(err as Error);
      }
    },
    utilization: () => {
      const now = performance.eventLoopUtilization();
      const u = performance.eventLoopUtilization(now, last).utilization;
      last = now;
      return u;
    },
    nonce: randomBytes(8),
    report: (message) => report?.(`udp:${hostPort(info.address, info.port)}: ${message}`),
  });
  const timer = setInterval(() => probe.tick(), PROBE_INTERVAL_MS);
  timer.unref();
  probe.start();
  return {
    probe,
    stop: () => {
      clearInterval(timer);
      probe.reset();
    },
  };
}

/** The largest UDP payload: 65,535 minus the IP (20, or 0 for IPv6 where the header is not counted) and UDP (8) headers. */
export function maxDatagram(address: string): number {
  return address.includes(":") ? 65_527 : 65_507;
}

/** Why `bytes` cannot go to `address` in one datagram, or undefined when they can. */
function tooLargeFor(address: string, bytes: Buffer): UdpTooLargeError | undefined {
  const max = maxDatagram(address);
  return bytes.length > max ? new UdpTooLargeError(bytes.length, max) : undefined;
}

/** A message larger than one UDP datagram can carry (issue 10 item 10); it is not sent. */
export class UdpTooLargeError extends Error {
  constructor(
    readonly octets: number,
    readonly max: number,
  ) {
    super(
      `${octets} octets do not fit in a UDP datagram (at most ${max}); not sent (RFC 3261 18.1.1: such messages need TCP)`,
    );
  }
}
