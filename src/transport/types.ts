/**
 * What the transport layer hands up and takes down. It frames and parses
 * bytes, annotates the top Via (RFC 3261 18.2.1, RFC 3581) and routes
 * responses (18.2.2); it knows nothing about transactions or scenarios.
 */
import type { ParseResult } from "../sip/parser.js";

export type TransportName = "udp" | "tcp" | "tls" | "ws" | "wss";

export const TRANSPORT_NAMES: readonly TransportName[] = ["udp", "tcp", "tls", "ws", "wss"];

/** TLS and secure WebSocket: the transports a sips URI may use (RFC 3261 26.2, RFC 5630, RFC 7118). */
export function isSecure(t: TransportName): boolean {
  return t === "tls" || t === "wss";
}

export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

export interface Flow {
  readonly transport: TransportName;
  readonly local: Endpoint;
  readonly remote: Endpoint;
  /** For stream transports: the connection the message came on. */
  readonly connectionId?: number;
  /** Where responses go when it is not `remote` (RFC 3261 18.2.2 without rport). */
  readonly replyTo?: Endpoint;
  /**
   * A connection the mock opened (18.2.2, or for a request of its own): its
   * own end, an ephemeral port. `local` stays the listener the connection
   * belongs to (what Via and Contact name); captures record this one.
   */
  readonly localSocket?: Endpoint;
  /**
   * RFC 5626 5.3 (an outbound `;ob` contact): the request must take this
   * flow's connection; once it has closed the send fails with
   * FlowFailedError (430 Flow Failed), no new connection is opened.
   */
  readonly flowOnly?: boolean;
}

/** A flowOnly send whose connection has closed (RFC 5626 5.3: "430 (Flow Failed)"). */
export class FlowFailedError extends Error {
  constructor(message = "the outbound flow has closed (RFC 5626 5.3)") {
    super(message);
    this.name = "FlowFailedError";
  }
}

export interface InboundMessage {
  readonly flow: Flow;
  readonly bytes: Buffer;
  readonly result: ParseResult;
  readonly receivedAt: number;
}

export interface ListenerInfo {
  readonly transport: TransportName;
  readonly address: string;
  readonly port: number;
}

/** checkDatagram(): the listener is closed, nothing is sent (and no error is due). */
export const NOT_SENT = Symbol("not sent");

export interface Listener {
  readonly info: ListenerInfo;
  /**
   * Sends bytes on a flow: UDP to its remote, a stream on its connection (or
   * a new one, 18.2.2). `onWire` hears, right before the bytes are written,
   * the flow they really take (a new connection's addresses, not the closed
   * one's); it is not called when nothing could be sent.
   */
  send(flow: Flow, bytes: Buffer, onWire?: (used: Flow) => void): Promise<void>;
  /**
   * Datagram transports, with sendDatagram(): what would keep bytes from
   * being sent on `flow` (NOT_SENT: the listener is closed; an Error: too
   * large), or undefined when they can go.
   */
  checkDatagram?(flow: Flow, bytes: Buffer): Error | typeof NOT_SENT | undefined;
  /**
   * Datagram transports: send() without a Promise or a closure per message
   * (the hot path's answers), for bytes checkDatagram() let through; they
   * take `flow` itself. Returns undefined when they were handed to the
   * socket (`done` then hears how the send ended), or the error Node raised
   * at once (a port it refuses).
   */
  sendDatagram?(flow: Flow, bytes: Buffer, done: (err: Error | null) => void): Error | undefined;
  /** Fault: sends from a fresh socket, so the peer sees another source port (datagram transports). */
  sendFromOtherPort?(flow: Flow, bytes: Buffer, onWire?: (used: Flow) => void): Promise<void>;
  /** UDP: how long a datagram read now has waited in the socket's receive queue, at least (ms; queue-probe.ts). */
  queueDelayMs?: (() => number) | undefined;
  /** Fault: closes (FIN) or resets (RST) the connection of a flow (stream transports). */
  closeConnection?(flow: Flow, mode: "close" | "reset"): void;
  close(): Promise<void>;
}

export type InboundHandler = (message: InboundMessage) => void;

/** Where a message sent on a flow goes: a datagram to `replyTo` when set (18.2.2), else the remote end. */
export function destinationOf(flow: Flow): Endpoint {
  return flow.transport === "udp" ? (flow.replyTo ?? flow.remote) : flow.remote;
}

/** Formats host:port with brackets for IPv6 (RFC 3261 19.1.1, RFC 5118). */
export function hostPort(address: string, port: number): string {
  return `${formatHost(address)}:${port}`;
}

export function formatHost(address: string): string {
  return address.includes(":") && !address.startsWith("[") ? `[${address}]` : address;
}
