/**
 * The mock's listeners as one wire: the listener table (a flow's listener
 * by its real local address), sending with the journal and log lines of
 * what really left, the sends still in flight (shutdown lets them finish),
 * and the transport side of a scenario's faults.
 */
import { ListenerTable } from "../../transport/listener-table.js";
import {
  type Flow,
  hostPort,
  type Listener,
  type ListenerInfo,
  NOT_SENT,
  type TransportName,
} from "../../transport/types.js";
import type { FaultWire } from "../../ua/uas.js";
import type { Logger } from "../logger.js";
import { logLine, peer, stamp } from "./log.js";
import type { Recorder } from "./recorder.js";

export class Wire {
  readonly listeners: Listener[] = [];
  // Keyed by the real local address: 127.0.0.1:P and [::1]:P are two listeners.
  private readonly table = new ListenerTable();
  /** Sends not completed yet, and a waiter that exists only while closing. */
  private sending = 0;
  private allSent: (() => void) | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly recorder: Recorder,
  ) {}

  add(listener: Listener): void {
    this.listeners.push(listener);
    this.table.add(listener);
  }

  /** The longest a datagram read now has waited in a UDP listener's receive queue (ms). */
  queueDelayMs(): number {
    let max = 0;
    for (const l of this.listeners) {
      const d = l.queueDelayMs?.() ?? 0;
      if (d > max) max = d;
    }
    return max;
  }

  listenerFor(flow: Flow): ListenerInfo | undefined {
    return this.table.find(flow)?.info;
  }

  /** The first listener of a transport: same family, else a dual-stack wildcard. */
  listenerOn(transport: TransportName, ipv6: boolean): ListenerInfo | undefined {
    const of = this.listeners.filter((l) => l.info.transport === transport);
    return (of.find((l) => l.info.address.includes(":") === ipv6) ?? of.find((l) => l.info.address === "::"))
      ?.info;
  }

  /**
   * RFC 3261 18.1.1: a TCP listener of the same address family carries the
   * mock's UDP requests that are too big for UDP.
   */
  reliableFlow(flow: Flow): Flow | undefined {
    const to = flow.replyTo ?? flow.remote;
    const tcp = this.listeners.find(
      (l) => l.info.transport === "tcp" && l.info.address.includes(":") === to.address.includes(":"),
    );
    if (!tcp) return undefined;
    return { transport: "tcp", local: { address: flow.local.address, port: tcp.info.port }, remote: to };
  }

  /** The first listener (of a transport); throws when there is none. */
  first(transport?: TransportName): ListenerInfo {
    const l = transport ? this.listeners.find((x) => x.info.transport === transport) : this.listeners[0];
    if (!l) throw new Error(`no ${transport ?? ""} listener`);
    return l.info;
  }

  /** Sends on the flow's listener; journaled and logged with the flow the bytes really take, right before they leave. */
  send(flow: Flow, bytes: Buffer, retransmission: boolean, failed?: (err: Error) => void): void {
    const listener = this.table.find(flow);
    if (!listener) {
      this.logger.warn(`no listener for ${flow.transport} ${hostPort(flow.local.address, flow.local.port)}`);
      return;
    }
    if (failed === undefined && listener.sendDatagram !== undefined && listener.checkDatagram !== undefined) {
      this.sendDatagram(listener, flow, bytes, retransmission);
      return;
    }
    this.sending++;
    listener
      .send(flow, bytes, (used) => this.sent(used, bytes, retransmission))
      .then(this.sendDone, (err: Error) => {
        this.sendDone();
        this.logger.warn(`send to ${peer(flow, "out")} failed: ${err.message}`);
        failed?.(err);
      });
  }

  /**
   * A datagram with no Promise and no closure of its own (the hot path's
   * answers over UDP), journaled and logged right before it leaves, as
   * send() does.
   */
  private sendDatagram(listener: Listener, flow: Flow, bytes: Buffer, retransmission: boolean): void {
    const refused = listener.checkDatagram!(flow, bytes);
    if (refused !== undefined) {
      if (refused !== NOT_SENT) this.logger.warn(`send to ${peer(flow, "out")} failed: ${refused.message}`);
      return;
    }
    this.sent(flow, bytes, retransmission);
    const failed = listener.sendDatagram!(flow, bytes, this.datagramDone);
    if (failed === undefined) this.sending++;
    else this.logger.warn(`send to ${peer(flow, "out")} failed: ${failed.message}`);
  }

  /** What the UA's faults do to the transport: extra copies, another source port, a closed connection. */
  faultWire(): FaultWire {
    return {
      send: (flow, bytes, retransmission = false) => this.send(flow, bytes, retransmission),
      sendFromOtherPort: (flow, bytes) => {
        const listener = this.table.find(flow);
        if (!listener?.sendFromOtherPort) return;
        listener
          .sendFromOtherPort(flow, bytes, (used) => this.sent(used, bytes, false))
          .catch((err: Error) => this.logger.warn(`send to ${peer(flow, "out")} failed: ${err.message}`));
      },
      closeConnection: (flow, mode) => {
        this.logger.info(`${stamp()} fault: ${mode} the connection to ${peer(flow)}`);
        this.table.find(flow)?.closeConnection?.(flow, mode);
      },
    };
  }

  /** Waits (at most `ms`) for the sends handed to the sockets to complete. */
  async flush(ms: number): Promise<void> {
    if (this.sending === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((r) => {
        this.allSent = r;
      }),
      new Promise((r) => {
        timer = setTimeout(r, ms);
      }),
    ]);
    clearTimeout(timer);
  }

  async close(): Promise<void> {
    await Promise.all(this.listeners.map((l) => l.close()));
  }

  private sent(flow: Flow, bytes: Buffer, retransmission: boolean): void {
    const summary = this.recorder.sent(flow, bytes, retransmission);
    if (summary !== undefined) logLine(this.logger, "out", flow, summary, bytes, retransmission);
  }

  /** sendDatagram()'s end: one function for every datagram (Node's message names the destination). */
  private readonly datagramDone = (err: Error | null): void => {
    this.sendDone();
    if (err) this.logger.warn(`send failed: ${err.message}`);
  };

  /** One function for every send (not a closure per message). */
  private readonly sendDone = (): void => {
    if (--this.sending === 0) this.allSent?.();
  };
}
