/**
 * An in-memory wire: listeners that open no socket (startSipMock's
 * `seams.openListener`). Every datagram or stream segment the mock sends is
 * recorded with its flow and the clock's time; `inject` hands the mock bytes
 * as if a peer had sent them, parsed and Via-annotated exactly like the real
 * UDP, TCP and WebSocket listeners do (src/transport/udp.ts, tcp.ts, ws.ts).
 */
import type { ParsedMessage } from "../../src/sip/message.js";
import { parseDatagram } from "../../src/sip/parser.js";
import { StreamFramer } from "../../src/sip/stream-framer.js";
import type { ListenSpec } from "../../src/transport/listen-spec.js";
import { annotateTopVia } from "../../src/transport/received.js";
import {
  type Endpoint,
  type Flow,
  FlowFailedError,
  type InboundHandler,
  type InboundMessage,
  type Listener,
  type ListenerInfo,
  type TransportName,
} from "../../src/transport/types.js";
import { maxDatagram, UdpTooLargeError } from "../../src/transport/udp.js";

/** One datagram or segment the mock put on the wire. */
export interface Sent {
  /** Order of sending (0, 1, ...). */
  readonly seq: number;
  /** The clock's monotonic ms when it was sent. */
  readonly at: number;
  /** The flow the bytes took (a connection the mock opened has its own `localSocket`). */
  readonly flow: Flow;
  /** Where it went: `replyTo` for UDP when set (18.2.2), else the remote end. */
  readonly to: Endpoint;
  readonly bytes: Buffer;
  readonly text: string;
  /** Parsed with the stack's own parser; undefined for a keep-alive or an unparsable fault. */
  readonly message?: ParsedMessage;
  /** "other-port": sent from a fresh socket (the sendFromOtherPort fault). */
  readonly via: "listener" | "other-port";
}

export interface ConnectionEvent {
  readonly at: number;
  readonly kind: "open" | "close" | "reset";
  readonly connectionId: number;
  readonly flow: Flow;
}

export interface InjectOptions {
  /** Default udp. */
  readonly transport?: TransportName;
  /** The peer's address; default 192.0.2.10:5062 (TEST-NET-1). */
  readonly from?: Endpoint;
  /** Stream transports: the connection to use (default: the peer's open one, else a new one). */
  readonly connectionId?: number;
  /** The listener's local address when several listen; default the first of the transport. */
  readonly to?: Endpoint;
}

export const DEFAULT_PEER: Endpoint = { address: "192.0.2.10", port: 5062 };

interface Connection {
  readonly id: number;
  readonly flow: Flow;
  readonly framer?: StreamFramer;
  open: boolean;
}

const STREAM: ReadonlySet<TransportName> = new Set(["tcp", "tls"]);

export class MemoryWire {
  readonly sent: Sent[] = [];
  readonly connections: ConnectionEvent[] = [];
  /** Listeners opened by the mock, in order. */
  readonly listeners: Array<{ info: ListenerInfo; onInbound: InboundHandler; closed: boolean }> = [];
  /** Set by the harness: the mock's largest message (stream framing, 513). */
  maxMessageSize = 65535;
  private nextPort = 5060;
  private nextConnection = 1;
  private nextEphemeral = 40000;
  private readonly conns = new Map<number, Connection>();
  private readonly subscribers = new Set<(s: Sent) => void>();

  constructor(
    /** Monotonic ms: when a message was sent (Sent.at) or a connection event happened. */
    private readonly now: () => number,
    /** Wall time in ms: a received message's receivedAt, as the real listeners give (Date.now()). */
    private readonly wall: () => number = now,
  ) {}

  /** For `startSipMock({ seams: { openListener } })`. */
  readonly openListener = async (spec: ListenSpec, onInbound: InboundHandler): Promise<Listener> => {
    const port = spec.port === 0 ? this.nextPort++ : spec.port;
    const info: ListenerInfo = { transport: spec.transport, address: spec.host, port };
    const entry = { info, onInbound, closed: false };
    this.listeners.push(entry);
    const wire = this;
    return {
      info,
      async send(flow, bytes, onWire) {
        if (entry.closed) return;
        const used = wire.flowForSend(flow, info, bytes.length);
        onWire?.(used);
        wire.record(used, bytes, "listener");
      },
      ...(STREAM.has(spec.transport)
        ? {
            closeConnection(flow: Flow, mode: "close" | "reset") {
              const c = flow.connectionId !== undefined ? wire.conns.get(flow.connectionId) : undefined;
              if (!c?.open) return;
              c.open = false;
              wire.connections.push({ at: wire.now(), kind: mode, connectionId: c.id, flow: c.flow });
            },
          }
        : {}),
      ...(spec.transport === "udp"
        ? {
            async sendFromOtherPort(flow: Flow, bytes: Buffer, onWire?: (used: Flow) => void) {
              if (entry.closed) return;
              const used = { ...flow, localSocket: { address: info.address, port: wire.nextEphemeral++ } };
              onWire?.(used);
              wire.record(used, bytes, "other-port");
            },
          }
        : {}),
      async close() {
        entry.closed = true;
      },
    };
  };

  /** Hears every message the mock sends from now on; returns the unsubscribe function. */
  onSent(fn: (s: Sent) => void): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  /**
   * A peer sends `data` to the mock: LF line ends in text become CRLF. Stream
   * transports frame it like a real connection (several messages, a partial
   * one, a 513); the mock's handler runs synchronously.
   */
  inject(data: string | Buffer, options: InjectOptions = {}): Flow {
    const transport = options.transport ?? "udp";
    const bytes = typeof data === "string" ? Buffer.from(crlf(data), "latin1") : data;
    const listener = this.listenerFor(transport, options.to);
    const from = options.from ?? DEFAULT_PEER;
    if (transport === "udp" || transport === "ws" || transport === "wss") {
      const flow: Flow =
        transport === "udp"
          ? { transport, local: localOf(listener.info), remote: from }
          : this.connection(listener.info, from, options.connectionId).flow;
      this.deliver(listener.onInbound, flow, bytes, parseDatagram(bytes, this.maxMessageSize));
      return flow;
    }
    const conn = this.connection(listener.info, from, options.connectionId);
    for (const frame of conn.framer!.push(bytes)) {
      if (frame.type === "message") this.deliver(listener.onInbound, conn.flow, frame.bytes, frame.result);
      else if (frame.type === "fatal") {
        const result = frame.result ?? {
          ok: false as const,
          error: { status: frame.status, detail: frame.detail },
        };
        this.deliver(listener.onInbound, conn.flow, bytes, result);
        conn.open = false;
        this.connections.push({ at: this.now(), kind: "close", connectionId: conn.id, flow: conn.flow });
      }
    }
    return conn.flow;
  }

  /** The peer closes a connection (the mock's next send on it opens a new one, 18.2.2). */
  peerCloses(connectionId: number): void {
    const c = this.conns.get(connectionId);
    if (!c?.open) return;
    c.open = false;
    this.connections.push({ at: this.now(), kind: "close", connectionId, flow: c.flow });
  }

  /** The open connection from a peer to a listener of this transport, if any. */
  connectionOf(transport: TransportName, from: Endpoint = DEFAULT_PEER): Flow | undefined {
    for (const c of this.conns.values())
      if (c.open && c.flow.transport === transport && sameEndpoint(c.flow.remote, from)) return c.flow;
    return undefined;
  }

  private deliver(
    onInbound: InboundHandler,
    flow: Flow,
    bytes: Buffer,
    result: InboundMessage["result"],
  ): void {
    if (result.ok && result.message.kind === "request") annotateTopVia(result.message.headers, flow.remote);
    onInbound({ flow, bytes, result, receivedAt: this.wall() });
  }

  private listenerFor(transport: TransportName, to?: Endpoint) {
    const l = this.listeners.find(
      (x) =>
        !x.closed &&
        x.info.transport === transport &&
        (!to || (x.info.address === to.address && x.info.port === to.port)),
    );
    if (!l)
      throw new Error(
        `the mock has no open ${transport} listener${to ? ` on ${to.address}:${to.port}` : ""}`,
      );
    return l;
  }

  private connection(info: ListenerInfo, from: Endpoint, id?: number): Connection {
    if (id !== undefined) {
      const c = this.conns.get(id);
      if (!c?.open) throw new Error(`connection ${id} is not open`);
      return c;
    }
    for (const c of this.conns.values())
      if (
        c.open &&
        c.flow.transport === info.transport &&
        c.flow.local.port === info.port &&
        sameEndpoint(c.flow.remote, from)
      )
        return c;
    return this.openConnection({ transport: info.transport, local: localOf(info), remote: from });
  }

  private openConnection(base: Flow): Connection {
    const id = this.nextConnection++;
    const flow: Flow = { ...base, connectionId: id };
    const c: Connection = {
      id,
      flow,
      open: true,
      ...(STREAM.has(base.transport)
        ? { framer: new StreamFramer({ maxMessageSize: this.maxMessageSize }) }
        : {}),
    };
    this.conns.set(id, c);
    this.connections.push({ at: this.now(), kind: "open", connectionId: id, flow });
    return c;
  }

  /** The flow a send really takes: over UDP the given one; on a stream its connection, or a new one (18.2.2). */
  private flowForSend(flow: Flow, info: ListenerInfo, size: number): Flow {
    const to = flow.replyTo ?? flow.remote;
    if (flow.transport === "udp") {
      const max = maxDatagram(to.address);
      if (size > max) throw new UdpTooLargeError(size, max);
      return flow;
    }
    const c = flow.connectionId !== undefined ? this.conns.get(flow.connectionId) : undefined;
    if (c?.open) return flow;
    if (flow.flowOnly) throw new FlowFailedError();
    const existing = this.connectionOf(flow.transport, to);
    if (existing) return existing;
    const opened = this.openConnection({
      transport: flow.transport,
      local: localOf(info),
      remote: to,
      localSocket: { address: info.address, port: this.nextEphemeral++ },
    });
    return opened.flow;
  }

  private record(flow: Flow, bytes: Buffer, via: Sent["via"]): void {
    const text = bytes.toString("latin1");
    const parsed = bytes.length > 4 ? parseDatagram(bytes) : undefined;
    const s: Sent = {
      seq: this.sent.length,
      at: this.now(),
      flow,
      to: flow.transport === "udp" ? (flow.replyTo ?? flow.remote) : flow.remote,
      bytes,
      text,
      ...(parsed?.ok ? { message: parsed.message } : {}),
      via,
    };
    this.sent.push(s);
    for (const fn of this.subscribers) fn(s);
  }
}

function localOf(info: ListenerInfo): Endpoint {
  return { address: info.address, port: info.port };
}

function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  return a.address === b.address && a.port === b.port;
}

/** LF to CRLF outside the body's own CRLFs: a bare LF becomes CRLF, CRLF stays. */
export function crlf(text: string): string {
  return text.replace(/\r?\n/g, "\r\n");
}
