/** Prometheus metrics (text exposition format 0.0.4), counted from the journal and the UAS. */

import { isRegisteredMethod } from "../sip/methods.js";
import type { JournalEntry } from "./journal.js";

export interface Gauges {
  readonly transactions: number;
  readonly dialogs: number;
  readonly journalEntries: number;
  readonly overrides: number;
  /** The process's memory (process.memoryUsage()), when the caller reads it: a load lab watches the mock's own. */
  readonly memory?: { readonly rss: number; readonly heapUsed: number; readonly external: number };
}

/** Budgets, overload and connection figures (issue 10 items 3-5, 9). */
export interface LimitGauges {
  readonly stores: ReadonlyArray<{ name: string; used: number; limit: number; items: number }>;
  readonly rejections: ReadonlyMap<string, number>;
  readonly lagMs: number;
  readonly queueDelayMs: number;
  readonly connectionsOpen: number;
  readonly connectionsRefused: ReadonlyMap<string, number>;
  readonly connectionsClosed: ReadonlyMap<string, number>;
}

export class Metrics {
  /** Where the budget and connection figures come from (set by the mock). */
  limits?: () => LimitGauges;
  /** The mock's own UDP requests sent once, unretransmitted, to a destination that never sent it a packet. */
  sentOnce = 0;
  private readonly requests = new Map<string, number>();
  /** By status code (numbers: no text made per response). */
  private readonly responses = new Map<number | undefined, number>();
  private retransmissionsReceived = 0;
  private retransmissionsSent = 0;
  private readonly faults = new Map<string, number>();
  private unparsable = 0;
  private readonly dtmfDigits = new Map<string, number>();
  private readonly rtp = { calls: 0, sent: 0, received: 0, lost: 0, dropped: 0 };
  private readonly started = Date.now();

  observe(e: JournalEntry): void {
    this.count(e.direction, e.retransmission, e.kind, e.method, e.status);
  }

  /** A message in or out, by what it is (counted as it is journaled: no entry object needed). */
  count(
    direction: "in" | "out",
    retransmission: boolean,
    kind: JournalEntry["kind"],
    method: string | undefined,
    status: number | undefined,
  ): void {
    if (retransmission) {
      if (direction === "in") this.retransmissionsReceived++;
      else this.retransmissionsSent++;
      return;
    }
    if (kind === "unparsable") this.unparsable++;
    // Methods are tokens any peer chooses: only registered ones get their own series.
    else if (direction === "in" && kind === "request")
      inc(this.requests, isRegisteredMethod(method ?? "") ? method! : "other");
    else if (direction === "out" && kind === "response") {
      this.responses.set(status, (this.responses.get(status) ?? 0) + 1);
    }
  }

  /** A DTMF digit received (via rfc4733 or info). */
  dtmf(via: string): void {
    inc(this.dtmfDigits, via);
  }

  /** A call's media ended: its RTP counts join the totals. */
  mediaClosed(st: {
    sent: { packets: number };
    received: { packets: number; lost: number };
    dropped: { malformed: number; unknownPayloadType: number; oversized: number };
  }): void {
    this.rtp.calls++;
    this.rtp.sent += st.sent.packets;
    this.rtp.received += st.received.packets;
    this.rtp.lost += Math.max(0, st.received.lost);
    this.rtp.dropped += st.dropped.malformed + st.dropped.unknownPayloadType + st.dropped.oversized;
  }

  fault(kind: string): void {
    inc(this.faults, kind);
  }

  render(g: Gauges): string {
    const out = new Exposition();
    this.sipSeries(out);
    this.mediaSeries(out);
    out.gauge("sipmock_transactions_active", "Server transactions alive.", g.transactions);
    out.gauge("sipmock_dialogs_active", "Dialogs alive.", g.dialogs);
    out.gauge("sipmock_journal_entries", "Entries held in the in-memory journal.", g.journalEntries);
    out.gauge("sipmock_overrides_active", "Overrides in front of the scenario.", g.overrides);
    out.gauge(
      "sipmock_uptime_seconds",
      "Seconds since start.",
      Math.round((Date.now() - this.started) / 1000),
    );
    if (g.memory) memorySeries(out, g.memory);
    const l = this.limits?.();
    if (l) this.limitSeries(out, l);
    return out.text();
  }

  /** SIP messages, retransmissions, faults, unparsable messages and DTMF digits. */
  private sipSeries(out: Exposition): void {
    out.counter(
      "sipmock_requests_received_total",
      "SIP requests received (retransmissions excluded).",
      "method",
      this.requests,
    );
    out.counter(
      "sipmock_responses_sent_total",
      "SIP responses sent (retransmissions excluded).",
      "code",
      new Map([...this.responses].map(([code, n]) => [String(code), n])),
    );
    out.counter(
      "sipmock_retransmissions_total",
      "Retransmissions received and sent.",
      "direction",
      nonZero({ received: this.retransmissionsReceived, sent: this.retransmissionsSent }),
    );
    out.counter("sipmock_faults_injected_total", "Faults injected by scenario rules.", "fault", this.faults);
    out.total("sipmock_unparsable_messages_total", "Messages that could not be parsed.", this.unparsable);
    out.counter(
      "sipmock_dtmf_digits_received_total",
      "DTMF digits received, by RFC 4733 or SIP INFO.",
      "via",
      this.dtmfDigits,
    );
  }

  /** The RTP totals of ended calls. */
  private mediaSeries(out: Exposition): void {
    out.total("sipmock_media_calls_total", "Calls whose media (RTP session) ended.", this.rtp.calls);
    out.total("sipmock_rtp_packets_sent_total", "RTP packets sent in ended calls.", this.rtp.sent);
    out.total(
      "sipmock_rtp_packets_received_total",
      "RTP packets received in ended calls.",
      this.rtp.received,
    );
    out.total(
      "sipmock_rtp_packets_lost_total",
      "RTP packets lost on the way in (RFC 3550 A.3), ended calls.",
      this.rtp.lost,
    );
    out.total(
      "sipmock_rtp_packets_dropped_total",
      "Malformed, oversized or unknown-payload-type packets dropped, ended calls.",
      this.rtp.dropped,
    );
  }

  /** Budgets, overload, event-loop lag, connections and requests sent once. */
  private limitSeries(out: Exposition, l: LimitGauges): void {
    out.perStore(l.stores, "sipmock_store_bytes", "Octets a store is estimated to hold.", (s) => s.used);
    out.perStore(l.stores, "sipmock_store_budget_bytes", "The byte budget of a store.", (s) => s.limit);
    out.perStore(l.stores, "sipmock_store_items", "Items a store holds.", (s) => s.items);
    out.counter(
      "sipmock_overload_rejections_total",
      "New requests answered 503 with Retry-After because the mock was overloaded.",
      "reason",
      new Map(l.rejections),
    );
    out.gauge(
      "sipmock_event_loop_lag_seconds",
      "Mean event-loop delay over the last second.",
      l.lagMs / 1000,
    );
    out.gauge(
      "sipmock_udp_receive_queue_delay_seconds",
      "How long a UDP datagram read now waited in its receive queue, at least (measured while the event loop is saturated).",
      l.queueDelayMs / 1000,
    );
    out.gauge("sipmock_connections_open", "Stream connections open (TCP, TLS, WS, WSS).", l.connectionsOpen);
    out.counter(
      "sipmock_connections_refused_total",
      "Connections refused at accept by a cap.",
      "cap",
      new Map(l.connectionsRefused),
    );
    out.counter(
      "sipmock_connections_timed_out_total",
      "Connections closed by a timeout.",
      "reason",
      new Map(l.connectionsClosed),
    );
    out.total(
      "sipmock_requests_sent_once_total",
      "The mock's own UDP requests not retransmitted: the destination never sent a packet.",
      this.sentOnce,
    );
  }
}

/** The process's memory, under the names Prometheus' own Node client gives it (dashboards know them). */
function memorySeries(out: Exposition, m: NonNullable<Gauges["memory"]>): void {
  out.gauge("process_resident_memory_bytes", "Resident memory size in bytes.", m.rss);
  out.gauge("nodejs_heap_size_used_bytes", "V8 heap in use, in bytes.", m.heapUsed);
  out.gauge(
    "nodejs_external_memory_bytes",
    "Memory outside the V8 heap held by its objects (Buffers: journal, stored responses), in bytes.",
    m.external,
  );
}

/** The text exposition format 0.0.4, one metric family at a time. */
class Exposition {
  private readonly lines: string[] = [];

  /** A counter with one label, its series sorted by label value. */
  counter(name: string, help: string, label: string, m: Map<string, number>): void {
    this.family(name, help, "counter");
    for (const [k, v] of [...m].sort()) this.lines.push(`${name}{${label}="${escapeLabel(k)}"} ${v}`);
  }

  /** A counter without labels. */
  total(name: string, help: string, v: number): void {
    this.family(name, help, "counter");
    this.lines.push(`${name} ${v}`);
  }

  gauge(name: string, help: string, v: number): void {
    this.family(name, help, "gauge");
    this.lines.push(`${name} ${v}`);
  }

  /** A gauge per store, labelled with its name. */
  perStore(
    stores: LimitGauges["stores"],
    name: string,
    help: string,
    pick: (s: LimitGauges["stores"][0]) => number,
  ): void {
    this.family(name, help, "gauge");
    for (const s of stores) this.lines.push(`${name}{store="${s.name}"} ${pick(s)}`);
  }

  text(): string {
    return `${this.lines.join("\n")}\n`;
  }

  private family(name: string, help: string, type: string): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  }
}

/** The counts above zero, as a counter's series. */
function nonZero(counts: Record<string, number>): Map<string, number> {
  return new Map(Object.entries(counts).filter(([, n]) => n > 0));
}

function inc(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}
