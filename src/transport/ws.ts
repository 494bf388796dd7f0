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
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import { parseDatagram } from "../sip/parser.js";
import { ConnectionGate } from "./connection-limits.js";
import { localAddressOf } from "./listener-table.js";
import { annotateTopVia } from "./received.js";
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
  http.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
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
  });
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(port, host, () => {
      http.off("error", reject);
      resolve();
    });
  });
  const addr = http.address();
  if (addr === null || typeof addr === "string") throw new Error("WebSocket listener has no address");
  const info: ListenerInfo = { transport: secure ? "wss" : "ws", address: addr.address, port: addr.port };

  const connections = new Map<number, WebSocket>();
  /** Raw sockets, so shutdown also ends those still in the TLS handshake or the HTTP upgrade. */
  const raw = new Set<Duplex>();
  const gate = options.gate ?? new ConnectionGate();
  /** Connections not upgraded yet: their deadline, by the peer's address and port. */
  const upgrading = new Map<string, NodeJS.Timeout>();
  http.on("connection", (s: Socket) => {
    // The caps apply before any byte is read.
    const release = gate.admit(s.remoteAddress ?? "");
    if (!release) {
      s.destroy();
      return;
    }
    raw.add(s);
    const key = `${s.remoteAddress}|${s.remotePort}`;
    // The TLS handshake (wss) and the HTTP upgrade must be done in time.
    if (gate.limits.wsUpgradeTimeoutMs > 0) {
      const t = setTimeout(() => {
        gate.timedOut("ws-upgrade-timeout", `${s.remoteAddress}:${s.remotePort}`);
        s.destroy();
      }, gate.limits.wsUpgradeTimeoutMs);
      t.unref();
      upgrading.set(key, t);
    }
    s.on("close", () => {
      release();
      clearTimeout(upgrading.get(key));
      upgrading.delete(key);
      raw.delete(s);
    });
  });
  http.on("tlsClientError", () => {});
  const alive = new WeakMap<WebSocket, boolean>();
  let nextId = 1;
  wss.on("connection", (ws: WebSocket, req: IncomingMessage) => {
    const upgraded = `${req.socket.remoteAddress}|${req.socket.remotePort}`;
    clearTimeout(upgrading.get(upgraded));
    upgrading.delete(upgraded);
    const id = nextId++;
    connections.set(id, ws);
    alive.set(ws, true);
    const flow: Flow = {
      transport: info.transport,
      local: { address: localAddressOf(req.socket, info.address), port: info.port },
      remote: { address: req.socket.remoteAddress ?? "", port: req.socket.remotePort ?? 0 },
      connectionId: id,
    };
    ws.on("pong", () => alive.set(ws, true));
    ws.on("message", (data: Buffer | ArrayBuffer | Buffer[]) => {
      const bytes = Buffer.isBuffer(data)
        ? data
        : Array.isArray(data)
          ? Buffer.concat(data)
          : Buffer.from(data);
      let result: ReturnType<typeof parseDatagram>;
      try {
        result = parseDatagram(bytes, options.maxMessageSize);
        if (result.ok && result.message.kind === "request")
          annotateTopVia(result.message.headers, flow.remote);
      } catch (err) {
        result = {
          ok: false,
          error: { status: 400, detail: `internal parser error: ${(err as Error).message}` },
        };
      }
      onMessage({ flow, bytes, result, receivedAt: Date.now() });
    });
    ws.on("error", () => {});
    ws.on("close", () => connections.delete(id));
  });

  // Keep-alive (RFC 7118 relies on WebSocket ping/pong): a peer that stops
  // answering pings is dropped. The ws library answers the peer's pings.
  const heartbeat = setInterval(() => {
    for (const ws of connections.values()) {
      if (alive.get(ws) === false) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, options.pingIntervalMs ?? 30_000);
  heartbeat.unref();

  return {
    info,
    send(flow, bytes, onWire) {
      const ws = flow.connectionId !== undefined ? connections.get(flow.connectionId) : undefined;
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
    },
    closeConnection(flow, mode) {
      const ws = flow.connectionId !== undefined ? connections.get(flow.connectionId) : undefined;
      if (!ws) return;
      if (mode === "close") ws.close(1000, "sipmock fault: close");
      else ws.terminate();
    },
    close() {
      clearInterval(heartbeat);
      return new Promise((resolve) => {
        for (const ws of connections.values()) ws.close(1001, "sipmock shutting down");
        wss.close();
        http.close(() => resolve());
        http.closeAllConnections();
        setTimeout(() => {
          for (const ws of connections.values()) ws.terminate();
          for (const s of raw) s.destroy();
        }, 200).unref();
      });
    },
  };
}
