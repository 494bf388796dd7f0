/**
 * SIP over WebSocket (RFC 7118), plain (ws) and secure (wss), with the `ws`
 * library. The handshake must offer the "sip" subprotocol (RFC 7118 4); each
 * WebSocket message carries exactly one SIP message (5.1), so framing is the
 * datagram parser's; responses go back on the same connection (5.3), which
 * is the only way to reach a browser.
 */
import { isUtf8 } from "node:buffer";
import { createServer as createHttpServer, type IncomingMessage, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import { ownBuffer } from "../sip/own-buffer.js";
import { parseDatagram } from "../sip/parser.js";
import { admitConnections, ConnectionGate } from "./connection-limits.js";
import { annotateTopVia } from "./received.js";
import { ConnectionTable, connectionFlow, listenOn } from "./stream-listen.js";
import type { Flow, InboundHandler, Listener, ListenerInfo } from "./types.js";

export interface WsOptions {
  readonly maxMessageSize: number;
  /** PEM key and certificate: wss instead of ws. */
  readonly tls?: { readonly key: string; readonly cert: string; readonly maxVersion?: "TLSv1.2" | "TLSv1.3" };
  /** Server pings this often; a connection that misses a pong is closed. */
  readonly pingIntervalMs?: number;
  /** Connection caps and timeouts, shared with the other stream listeners. */
  readonly gate?: ConnectionGate;
}

const SUBPROTOCOL = "sip";

export async function listenWs(
  host: string,
  port: number,
  onMessage: InboundHandler,
  options: WsOptions,
): Promise<Listener> {
  const secure = options.tls !== undefined;
  const http: Server = options.tls
    ? createHttpsServer({
        key: options.tls.key,
        cert: options.tls.cert,
        ...(options.tls.maxVersion ? { maxVersion: options.tls.maxVersion } : {}),
      })
    : createHttpServer();
  // Plain HTTP requests get a hint, not a hang.
  http.on("request", (_req, res) => {
    res.writeHead(426, { "content-type": "text/plain", upgrade: "websocket" });
    res.end(
      'sipmock: this is a SIP over WebSocket endpoint (RFC 7118); connect with the "sip" subprotocol\n',
    );
  });
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxMessageSize,
    handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
  });
  http.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => upgrade(wss, req, socket, head));
  const bound = await listenOn(http, host, port, "WebSocket");
  const info: ListenerInfo = { transport: secure ? "wss" : "ws", ...bound };
  /** Raw sockets, so shutdown also ends those still in the TLS handshake or the HTTP upgrade. */
  const raw = new Set<Duplex>();
  const gate = options.gate ?? new ConnectionGate();
  // The caps apply before any byte is read; the TLS handshake (wss) and the
  // HTTP upgrade must be done in time.
  const upgraded = admitConnections(http, gate, raw, {
    reason: "ws-upgrade-timeout",
    ms: gate.limits.wsUpgradeTimeoutMs,
  });
  http.on("tlsClientError", () => {});
  const connections = new WsConnections(info, options.maxMessageSize, onMessage);
  wss.on("connection", (ws: WebSocket, req: IncomingMessage) => {
    upgraded(req.socket);
    connections.adopt(ws, req);
  });
  const heartbeat = connections.heartbeat(options.pingIntervalMs ?? 30_000);
  return {
    info,
    send: (flow, bytes, onWire) => connections.send(flow, bytes, onWire),
    closeConnection(flow, mode) {
      const ws = connections.socketOf(flow);
      if (!ws) return;
      if (mode === "close") ws.close(1000, "sipmock fault: close");
      else ws.terminate();
    },
    close() {
      clearInterval(heartbeat);
      return new Promise((resolve) => {
        connections.closeAll();
        wss.close();
        http.close(() => resolve());
        http.closeAllConnections();
        setTimeout(() => {
          connections.terminateAll();
          for (const s of raw) s.destroy();
        }, 200).unref();
      });
    },
  };
}

/** An HTTP upgrade: to WebSocket when it offers the "sip" subprotocol, else a 400. */
function upgrade(wss: WebSocketServer, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  // Subprotocol names are compared exactly (RFC 6455 4.1), as handleProtocols does.
  const offered = String(req.headers["sec-websocket-protocol"] ?? "")
    .split(",")
    .map((p) => p.trim());
  if (!offered.includes(SUBPROTOCOL)) {
    // RFC 7118 4: the "sip" subprotocol is required.
    socket.end(
      'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nSec-WebSocket-Protocol must offer "sip" (RFC 7118 4)\n',
    );
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
}

/** The listener's WebSocket connections, by connection id, and their keep-alive. */
class WsConnections {
  private readonly table = new ConnectionTable<WebSocket>();
  private readonly alive = new WeakMap<WebSocket, boolean>();

  constructor(
    private readonly info: ListenerInfo,
    private readonly maxMessageSize: number,
    private readonly onMessage: InboundHandler,
  ) {}

  socketOf(flow: Flow): WebSocket | undefined {
    return this.table.of(flow);
  }

  adopt(ws: WebSocket, req: IncomingMessage): void {
    const id = this.table.add(ws);
    this.alive.set(ws, true);
    const flow = connectionFlow(this.info, req.socket, id);
    ws.on("pong", () => this.alive.set(ws, true));
    ws.on("message", (data: Buffer | ArrayBuffer | Buffer[]) => this.receive(flow, data));
    ws.on("error", () => {});
    ws.on("close", () => this.table.delete(id));
  }

  /** 5.1: one WebSocket message is one SIP message. */
  private receive(flow: Flow, data: Buffer | ArrayBuffer | Buffer[]): void {
    // Of its own size: the journal keeps it (a slice would keep its slab or read chunk).
    const bytes = ownBuffer(
      Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data),
    );
    let result: ReturnType<typeof parseDatagram>;
    try {
      result = parseDatagram(bytes, this.maxMessageSize);
      if (result.ok && result.message.kind === "request")
        annotateTopVia(result.message.headers, flow.remote, result.message.core.via[0]);
    } catch (err) {
      result = {
        ok: false,
        error: { status: 400, detail: `internal parser error: ${(err as Error).message}` },
      };
    }
    this.onMessage({ flow, bytes, result, receivedAt: Date.now() });
  }

  /**
   * Keep-alive (RFC 7118 relies on WebSocket ping/pong): a peer that stops
   * answering pings is dropped. The ws library answers the peer's pings.
   */
  heartbeat(intervalMs: number): NodeJS.Timeout {
    const timer = setInterval(() => {
      for (const ws of this.table.values()) {
        if (this.alive.get(ws) === false) {
          ws.terminate();
          continue;
        }
        this.alive.set(ws, false);
        ws.ping();
      }
    }, intervalMs);
    timer.unref();
    return timer;
  }

  send(flow: Flow, bytes: Buffer, onWire?: (used: Flow) => void): Promise<void> {
    const ws = this.socketOf(flow);
    // RFC 7118 5.3: responses can only go back on the connection; a browser
    // cannot be connected to.
    if (!ws || ws.readyState !== ws.OPEN) {
      return Promise.reject(new Error("the WebSocket connection is closed"));
    }
    if (ws.bufferedAmount > 1024 * 1024) {
      ws.terminate();
      return Promise.reject(new Error("peer is not reading; connection closed"));
    }
    onWire?.(flow);
    return new Promise((resolve, reject) =>
      // 5.1: a text frame for UTF-8 content, else binary.
      ws.send(bytes, { binary: !isUtf8(bytes) }, (err) => (err ? reject(err) : resolve())),
    );
  }

  closeAll(): void {
    for (const ws of this.table.values()) ws.close(1001, "sipmock shutting down");
  }

  terminateAll(): void {
    for (const ws of this.table.values()) ws.terminate();
  }
}
