/**
 * The mock's protection against overload and abuse (README "Limits and
 * hardening"): byte budgets per store, the overload detector (503 with
 * Retry-After), the connection gate, and the peers the mock may retransmit
 * its own UDP requests to; and how they show in the metrics.
 */
import { type Budgets, createBudgets } from "../../transaction/budget.js";
import { eventLoopLag, OverloadDetector } from "../../transaction/overload.js";
import { ConnectionGate } from "../../transport/connection-limits.js";
import { KnownPeers } from "../../transport/known-peers.js";
import { type Flow, hostPort } from "../../transport/types.js";
import type { Journal } from "../journal.js";
import type { Logger } from "../logger.js";
import type { Metrics } from "../metrics.js";
import { stamp } from "./log.js";
import { type LimitOptions, maxQueueDelayOf } from "./options.js";

export class Guards {
  readonly budgets: Budgets;
  readonly overload: OverloadDetector;
  readonly gate: ConnectionGate;
  /** Every address that sent the mock a message (any transport). */
  readonly knownPeers = new KnownPeers();
  /** The default event-loop delay source, when the limits inject none (stopped on close). */
  private readonly lagMonitor: ReturnType<typeof eventLoopLag> | undefined;
  /** When the last "sent once" warning was logged (at most one a second). */
  private lastSentOnce = Number.NEGATIVE_INFINITY;
  /** How long UDP datagrams wait to be read (the wire's, once it exists). */
  private queueDelay: () => number = () => 0;

  constructor(
    private readonly limits: LimitOptions,
    private readonly logger: Logger,
    monotonic: () => number,
  ) {
    this.budgets = createBudgets(limits.budgets);
    this.lagMonitor = limits.eventLoopLag ? undefined : eventLoopLag();
    this.overload = new OverloadDetector({
      budgets: this.budgets,
      maxLagMs: limits.maxEventLoopLagMs ?? 1000,
      lag: limits.eventLoopLag ?? this.lagMonitor!.lag,
      maxQueueDelayMs: maxQueueDelayOf(limits),
      queueDelay: () => this.queueDelay(),
      retryAfterS: limits.retryAfterS ?? 5,
      clock: { now: monotonic },
      report: (message) => logger.warn(`${stamp()} ${message}`),
    });
    this.gate = new ConnectionGate(limits.connections);
    this.gate.report = (message) => logger.warn(`${stamp()} ${message}`);
  }

  /** Where the receive-queue delay comes from: the wire's UDP listeners. */
  watchQueues(delay: () => number): void {
    this.queueDelay = delay;
  }

  /** The stores (the journal's own count for it), rejections, lag and connections, for /metrics. */
  report(metrics: Metrics, journal: Journal): void {
    const { budgets, overload, gate } = this;
    metrics.limits = () => ({
      stores: Object.values(budgets).map((b) =>
        b.name === "journal"
          ? { name: b.name, used: journal.octets, limit: b.limit, items: journal.size }
          : { name: b.name, used: b.used, limit: b.limit, items: b.items },
      ),
      rejections: overload.rejections,
      lagMs: overload.lagMs,
      queueDelayMs: overload.queueDelayMs,
      connectionsOpen: gate.open,
      connectionsRefused: gate.refused,
      connectionsClosed: gate.closed,
    });
  }

  /**
   * The UA options that keep the mock's UDP requests from being retransmitted
   * to addresses that never sent it a datagram (unless allowed), and count
   * and log (at most once a second) those sent once.
   */
  retransmitPolicy(
    metrics: Metrics,
  ): { mayRetransmit(flow: Flow): boolean; sentOnce(flow: Flow, method: string): void } | undefined {
    if (this.limits.retransmitToUnknown) return undefined;
    return {
      mayRetransmit: (flow) => this.knownPeers.has((flow.replyTo ?? flow.remote).address),
      sentOnce: (flow, method) => {
        metrics.sentOnce++;
        const now = Date.now();
        if (now - this.lastSentOnce < 1000) return;
        this.lastSentOnce = now;
        const to = flow.replyTo ?? flow.remote;
        this.logger.warn(
          `${stamp()} ${method} to udp:${hostPort(to.address, to.port)} sent once, not retransmitted: that address never sent the mock a datagram (--retransmit-to-unknown allows it)`,
        );
      },
    };
  }

  stop(): void {
    this.lagMonitor?.stop();
  }
}
