/**
 * TCP and TLS listeners: Content-Length framing (RFC 3261 18.3), responses on
 * the connection the request came on, or a new connection to the source
 * address and the sent-by port when it has closed (18.2.2). TLS (RFC 3261
 * 26.2) is the same stream with a TLS server socket.
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer, connect as tlsConnect } from "node:tls";
import { StreamFramer } from "../sip/stream-framer.js";
import { ConnectionGate } from "./connection-limits.js";
import { localAddressOf } from "./listener-table.js";
import { annotateTopVia } from "./received.js";
import {
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

export async function listenTcp(
  host: string,
  port: number,
  onMessage: InboundHandler,
  options: TcpOptions,
): Promise<Listener> {
  const connections = new Map<number, Socket>();
  /** Connections this listener opened (18.2.2), by destination. */
  const outbound = new Map<string, Promise<{ socket: Socket; flow: Flow }>>();
  let nextId = 1;
  const secure = options.tls !== undefined;
  const gate = options.gate ?? new ConnectionGate();
  const limits = gate.limits;
  const server: Server = options.tls
    ? createTlsServer({
        key: options.tls.key,
        cert: options.tls.cert,
        noDelay: true,
        ...(options.tls.maxVersion ? { maxVersion: options.tls.maxVersion } : {}),
      })
    : createServer({ noDelay: true });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address();
  if (addr === null || typeof addr === "string") throw new Error("TCP listener has no address");
  const info: ListenerInfo = { transport: secure ? "tls" : "tcp", address: addr.address, port: addr.port };

  /** A connection's flow; `opened`: the mock opened it, from an ephemeral port of its own. */
  const adopt = (socket: Socket, opened = false): Flow => {
    const id = nextId++;
    connections.set(id, socket);
    socket.setNoDelay(true);
    const peerName = `${socket.remoteAddress}:${socket.remotePort}`;
    // A connection with no traffic for this long (a forgotten client) is
    // closed; CRLF keep-alives (RFC 5626 3.5.1) and their pongs are traffic.
    socket.setTimeout(limits.idleTimeoutMs, () => {
      gate.timedOut("idle", peerName);
      socket.destroy();
    });
    const framer = new StreamFramer({ maxMessageSize: options.maxMessageSize });
    // A message started must be complete in time: a slow-loris sender that
    // trickles a head byte by byte cannot hold the connection for ever.
    let started: NodeJS.Timeout | undefined;
    const watchPartial = () => {
      if (framer.buffered === 0) {
        if (started) clearTimeout(started);
        started = undefined;
      } else if (!started && !socket.destroyed && limits.headerTimeoutMs > 0) {
        started = setTimeout(() => {
          gate.timedOut("header-timeout", peerName);
          socket.destroy();
        }, limits.headerTimeoutMs);
        started.unref();
      }
    };
    const flow: Flow = {
      transport: info.transport,
      // The address the peer reached (not the wildcard the listener bound).
      local: { address: localAddressOf(socket, info.address), port: info.port },
      remote: { address: socket.remoteAddress ?? "", port: socket.remotePort ?? 0 },
      connectionId: id,
      ...(opened ? { localSocket: { address: socket.localAddress ?? "", port: socket.localPort ?? 0 } } : {}),
    };
    socket.on("data", (chunk) => {
      let frames: ReturnType<StreamFramer["push"]>;
      try {
        frames = framer.push(chunk);
      } catch {
        // A framer bug must not take the listener down: drop this connection only.
        socket.destroy();
        return;
      }
      for (const frame of frames) {
        if (frame.type === "ping") {
          // RFC 5626 3.5.1: a CRLF CRLF ping is answered with a CRLF pong.
          if (!socket.destroyed) socket.write("\r\n");
        } else if (frame.type === "message") {
          const { result } = frame;
          if (result.ok && result.message.kind === "request")
            annotateTopVia(result.message.headers, flow.remote);
          onMessage({ flow, bytes: frame.bytes, result, receivedAt: Date.now() });
        } else {
          // The stream cannot be resynchronised: answer what can be answered, then close.
          const result = frame.result ?? {
            ok: false as const,
            error: { status: frame.status, detail: frame.detail },
          };
          onMessage({ flow, bytes: chunk, result, receivedAt: Date.now() });
          // Let a response written in the same tick go out before closing.
          setImmediate(() => socket.end());
        }
      }
      watchPartial();
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      if (started) clearTimeout(started);
      connections.delete(id);
    });
    return flow;
  };
  // A TLS server hands over the socket once the handshake is done.
  server.on(secure ? "secureConnection" : "connection", (socket: Socket) => adopt(socket));

  const sockets = new Set<Socket>();
  /** TLS handshakes in progress: their deadline, by the peer's address and port. */
  const handshakes = new Map<string, NodeJS.Timeout>();
  // Every raw connection, so shutdown can close those still in the TLS
  // handshake; the caps are applied here, before any byte is read.
  server.on("connection", (s: Socket) => {
    const release = gate.admit(s.remoteAddress ?? "");
    if (!release) {
      s.destroy();
      return;
    }
    sockets.add(s);
    const key = `${s.remoteAddress}|${s.remotePort}`;
    if (secure && limits.tlsHandshakeTimeoutMs > 0) {
      // A TLS connection that never completes its handshake is closed.
      const t = setTimeout(() => {
        gate.timedOut("tls-handshake-timeout", `${s.remoteAddress}:${s.remotePort}`);
        s.destroy();
      }, limits.tlsHandshakeTimeoutMs);
      t.unref();
      handshakes.set(key, t);
    }
    s.on("close", () => {
      release();
      clearTimeout(handshakes.get(key));
      handshakes.delete(key);
      sockets.delete(s);
    });
  });
  if (secure)
    server.on("secureConnection", (s: Socket) => {
      const key = `${s.remoteAddress}|${s.remotePort}`;
      clearTimeout(handshakes.get(key));
      handshakes.delete(key);
    });
  // A failed handshake is the peer's problem, not the listener's.
  server.on("tlsClientError", () => {});

  return {
    info,
    async send(flow, bytes, onWire) {
      let socket = flow.connectionId !== undefined ? connections.get(flow.connectionId) : undefined;
      // RFC 5626 5.3: an outbound flow that has failed is not replaced by a new connection.
      if (flow.flowOnly && (!socket || socket.destroyed)) throw new FlowFailedError();
      /** The flow the bytes take: the given one while its connection lives. */
      let used = flow;
      const to = flow.replyTo ?? flow.remote;
      const key = `${to.address}|${to.port}`;
      if (!socket || socket.destroyed) {
        // One connection per destination, shared by every later message to it.
        const open = outbound.get(key);
        if (open) ({ socket, flow: used } = await open);
      }
      if (!socket || socket.destroyed) {
        const connecting = new Promise<{ socket: Socket; flow: Flow }>((resolve, reject) => {
          // 18.2.2: the connection is gone, so open one to the source address
          // and sent-by port (a client's certificate is not checked: a mock).
          const s: Socket = secure
            ? tlsConnect({ host: to.address, port: to.port, rejectUnauthorized: false }, () =>
                resolve({ socket: s, flow: adopt(s, true) }),
              )
            : createConnection({ host: to.address, port: to.port }, () =>
                resolve({ socket: s, flow: adopt(s, true) }),
              );
          s.once("error", reject);
        });
        outbound.set(key, connecting);
        try {
          ({ socket, flow: used } = await connecting);
        } catch (e) {
          outbound.delete(key);
          throw e;
        }
        const opened = socket;
        opened.once("close", () => {
          if (outbound.get(key) === connecting) outbound.delete(key);
        });
        sockets.add(opened);
      }
      const target = socket;
      // A peer that sends but never reads must not make us buffer without bound.
      if (target.writableLength > MAX_UNSENT) {
        target.destroy();
        throw new Error(`peer is not reading (${target.writableLength} octets unsent); connection closed`);
      }
      onWire?.(used);
      await new Promise<void>((resolve, reject) =>
        target.write(bytes, (err) => (err ? reject(err) : resolve())),
      );
    },
    closeConnection(flow, mode) {
      const socket = flow.connectionId !== undefined ? connections.get(flow.connectionId) : undefined;
      if (!socket) return;
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
