/**
 * TCP and TLS listeners: Content-Length framing (RFC 3261 18.3), responses on
 * the connection the request came on, or a new connection to the source
 * address and the sent-by port when it has closed (18.2.2). TLS (RFC 3261
 * 26.2) is the same stream with a TLS server socket.
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer, connect as tlsConnect } from "node:tls";
import { type Frame, StreamFramer } from "../sip/stream-framer.js";
import { admitConnections, ConnectionGate } from "./connection-limits.js";
import { annotateTopVia } from "./received.js";
import { ConnectionTable, connectionFlow, listenOn } from "./stream-listen.js";
import {
  type Endpoint,
  type Flow,
  FlowFailedError,
  type InboundHandler,
  type Listener,
  type ListenerInfo,
} from "./types.js";

export interface TcpOptions {
  readonly maxMessageSize: number;
  /** PEM key and certificate: listen with TLS instead of plain TCP. */
  readonly tls?: { readonly key: string; readonly cert: string; readonly maxVersion?: "TLSv1.2" | "TLSv1.3" };
  /** Connection caps and timeouts, shared with the other stream listeners. */
  readonly gate?: ConnectionGate;
}

/** How long a `tcp: reset` fault waits after the answer before the RST. */
export const RESET_AFTER_MS = 50;
/** Octets queued to a peer that does not read before its connection is closed. */
const MAX_UNSENT = 1024 * 1024;
/** Answers held back by a cork (one segment's) are handed to the kernel past this many octets. */
const CORKED_FLUSH = 64 * 1024;

export async function listenTcp(
  host: string,
  port: number,
  onMessage: InboundHandler,
  options: TcpOptions,
): Promise<Listener> {
  const secure = options.tls !== undefined;
  const gate = options.gate ?? new ConnectionGate();
  const server: Server = options.tls
    ? createTlsServer({
        key: options.tls.key,
        cert: options.tls.cert,
        noDelay: true,
        ...(options.tls.maxVersion ? { maxVersion: options.tls.maxVersion } : {}),
      })
    : createServer({ noDelay: true });
  const bound = await listenOn(server, host, port, "TCP");
  const info: ListenerInfo = { transport: secure ? "tls" : "tcp", ...bound };
  const connections = new TcpConnections(info, gate, options.maxMessageSize, onMessage);
  // A TLS server hands over the socket once the handshake is done.
  server.on(secure ? "secureConnection" : "connection", (socket: Socket) => connections.adopt(socket));
  /** Every raw connection, so shutdown can close those still in the TLS handshake. */
  const sockets = new Set<Socket>();
  // The caps are applied at accept, before any byte is read; a TLS
  // connection that never completes its handshake is closed.
  const handshakeDone = admitConnections(
    server,
    gate,
    sockets,
    secure ? { reason: "tls-handshake-timeout", ms: gate.limits.tlsHandshakeTimeoutMs } : undefined,
  );
  if (secure) server.on("secureConnection", (s: Socket) => handshakeDone(s));
  // A failed handshake is the peer's problem, not the listener's.
  server.on("tlsClientError", () => {});
  const outbound = new OutboundConnections(connections, secure, sockets);
  return {
    info,
    send: (flow, bytes, onWire) => sendOn(connections, outbound, flow, bytes, onWire),
    closeConnection(flow, mode) {
      const socket = connections.socketOf(flow);
      if (socket) closeSocket(socket, mode, secure);
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.end();
        setTimeout(() => {
          for (const s of sockets) s.destroy();
        }, 200).unref();
      });
    },
  };
}

/** The listener's connections, accepted or opened, by connection id. */
class TcpConnections {
  private readonly table = new ConnectionTable<Socket>();

  constructor(
    private readonly info: ListenerInfo,
    private readonly gate: ConnectionGate,
    private readonly maxMessageSize: number,
    private readonly onMessage: InboundHandler,
  ) {}

  socketOf(flow: Flow): Socket | undefined {
    return this.table.of(flow);
  }

  /** A connection's flow; `opened`: the mock opened it, from an ephemeral port of its own. */
  adopt(socket: Socket, opened = false): Flow {
    const id = this.table.add(socket);
    socket.setNoDelay(true);
    const peerName = `${socket.remoteAddress}:${socket.remotePort}`;
    // A connection with no traffic for this long (a forgotten client) is
    // closed; CRLF keep-alives (RFC 5626 3.5.1) and their pongs are traffic.
    socket.setTimeout(this.gate.limits.idleTimeoutMs, () => {
      this.gate.timedOut("idle", peerName);
      socket.destroy();
    });
    const framer = new StreamFramer({ maxMessageSize: this.maxMessageSize });
    const partial = new PartialMessageDeadline(socket, framer, this.gate, peerName);
    const flow = this.flowOf(socket, id, opened);
    socket.on("data", (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = framer.push(chunk);
      } catch {
        // A framer bug must not take the listener down: drop this connection only.
        socket.destroy();
        return;
      }
      // The answers to a chunk's messages leave in one write (writev), not a
      // system call each: SIPp and proxies send many messages per segment.
      const batch = frames.length > 1;
      if (batch) socket.cork();
      try {
        for (const frame of frames) this.deliver(socket, flow, frame, chunk);
      } finally {
        if (batch) socket.uncork();
      }
      partial.watch();
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      partial.clear();
      this.table.delete(id);
    });
    return flow;
  }

  private flowOf(socket: Socket, id: number, opened: boolean): Flow {
    return {
      ...connectionFlow(this.info, socket, id),
      ...(opened ? { localSocket: { address: socket.localAddress ?? "", port: socket.localPort ?? 0 } } : {}),
    };
  }

  /** One frame off the stream: a ping's pong, a message, or the error that ends the connection. */
  private deliver(socket: Socket, flow: Flow, frame: Frame, chunk: Buffer): void {
    if (frame.type === "ping") {
      // RFC 5626 3.5.1: a CRLF CRLF ping is answered with a CRLF pong.
      if (!socket.destroyed) socket.write("\r\n");
    } else if (frame.type === "message") {
      const { result } = frame;
      if (result.ok && result.message.kind === "request")
        annotateTopVia(result.message.headers, flow.remote, result.message.core.via[0]);
      this.onMessage({ flow, bytes: frame.bytes, result, receivedAt: Date.now() });
    } else {
      // The stream cannot be resynchronised: answer what can be answered, then close.
      const result = frame.result ?? {
        ok: false as const,
        error: { status: frame.status, detail: frame.detail },
      };
      this.onMessage({ flow, bytes: chunk, result, receivedAt: Date.now() });
      // Let a response written in the same tick go out before closing.
      setImmediate(() => socket.end());
    }
  }
}

/**
 * A message started must be complete in time: a slow-loris sender that
 * trickles a head byte by byte cannot hold the connection for ever.
 */
class PartialMessageDeadline {
  private started: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly framer: StreamFramer,
    private readonly gate: ConnectionGate,
    private readonly peerName: string,
  ) {}

  /** After each chunk: armed while part of a message is buffered, cleared when none is. */
  watch(): void {
    if (this.framer.buffered === 0) {
      this.clear();
    } else if (!this.started && !this.socket.destroyed && this.gate.limits.headerTimeoutMs > 0) {
      this.started = setTimeout(() => {
        this.gate.timedOut("header-timeout", this.peerName);
        this.socket.destroy();
      }, this.gate.limits.headerTimeoutMs);
      this.started.unref();
    }
  }

  clear(): void {
    if (this.started) clearTimeout(this.started);
    this.started = undefined;
  }
}

type Opened = { socket: Socket; flow: Flow };

/** Connections this listener opened (18.2.2), one per destination, shared by every later message to it. */
class OutboundConnections {
  private readonly byDestination = new Map<string, Promise<Opened>>();

  constructor(
    private readonly connections: TcpConnections,
    private readonly secure: boolean,
    /** Where an opened connection joins the accepted ones, for shutdown. */
    private readonly sockets: Set<Socket>,
  ) {}

  /** The open (or opening) connection to `to`, if any. */
  existing(to: Endpoint): Promise<Opened> | undefined {
    return this.byDestination.get(keyOf(to));
  }

  /**
   * Opens a connection to `to`. Every sender to `to` awaits the one promise
   * stored here (not a wrapper around it), so their writes go out in the
   * order they were asked for: an ACK before the BYE that follows it.
   */
  open(to: Endpoint): Promise<Opened> {
    const key = keyOf(to);
    const connecting: Promise<Opened> = new Promise<Opened>((resolve, reject) => {
      // 18.2.2: the connection is gone, so open one to the source address
      // and sent-by port (a client's certificate is not checked: a mock).
      const s: Socket = this.secure
        ? tlsConnect({ host: to.address, port: to.port, rejectUnauthorized: false }, () =>
            resolve({ socket: s, flow: this.connections.adopt(s, true) }),
          )
        : createConnection({ host: to.address, port: to.port }, () =>
            resolve({ socket: s, flow: this.connections.adopt(s, true) }),
          );
      s.once("error", reject);
    }).then(
      (opened) => {
        opened.socket.once("close", () => {
          if (this.byDestination.get(key) === connecting) this.byDestination.delete(key);
        });
        this.sockets.add(opened.socket);
        return opened;
      },
      (e: unknown) => {
        this.byDestination.delete(key);
        throw e;
      },
    );
    this.byDestination.set(key, connecting);
    return connecting;
  }
}

function keyOf(to: Endpoint): string {
  return `${to.address}|${to.port}`;
}

/** Sends on the flow's connection while it lives, else on one to the destination (opened if need be). */
async function sendOn(
  connections: TcpConnections,
  outbound: OutboundConnections,
  flow: Flow,
  bytes: Buffer,
  onWire?: (used: Flow) => void,
): Promise<void> {
  let socket = connections.socketOf(flow);
  // RFC 5626 5.3: an outbound flow that has failed is not replaced by a new connection.
  if (flow.flowOnly && (!socket || socket.destroyed)) throw new FlowFailedError();
  /** The flow the bytes take: the given one while its connection lives. */
  let used = flow;
  const to = flow.replyTo ?? flow.remote;
  if (!socket || socket.destroyed) {
    const open = outbound.existing(to);
    if (open) ({ socket, flow: used } = await open);
  }
  if (!socket || socket.destroyed) ({ socket, flow: used } = await outbound.open(to));
  const target = socket;
  // A peer that sends but never reads must not make us buffer without bound.
  // Corked (the answers to one segment, see adopt()): what waits is ours,
  // not yet handed to the kernel; hand it over before judging the peer.
  if (target.writableCorked === 1 && target.writableLength > CORKED_FLUSH) {
    target.uncork();
    target.cork();
  }
  if (target.writableLength > MAX_UNSENT) {
    target.destroy();
    throw new Error(`peer is not reading (${target.writableLength} octets unsent); connection closed`);
  }
  onWire?.(used);
  await new Promise<void>((resolve, reject) => target.write(bytes, (err) => (err ? reject(err) : resolve())));
}

/** The `tcp: close` and `tcp: reset` faults: FIN or RST once what was written has left. */
function closeSocket(socket: Socket, mode: "close" | "reset", secure: boolean): void {
  // After what was already written has left (an empty write completes in order).
  socket.write(Buffer.alloc(0), () => {
    if (mode === "close") socket.end();
    // Linux answers a zero-linger close with FIN instead of RST while the
    // data just written is unacknowledged (loopback delays ACKs up to
    // 40 ms): reset once it has surely been acknowledged.
    else
      setTimeout(() => {
        // A TLS socket has no TCP handle of its own to reset: destroy it.
        if (secure) socket.destroy();
        else socket.resetAndDestroy();
      }, RESET_AFTER_MS).unref();
  });
}
