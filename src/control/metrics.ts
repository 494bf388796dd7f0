/** Prometheus metrics (text exposition format 0.0.4), counted from the journal and the UAS. */
import type { JournalEntry } from "./journal.js";

export interface Gauges {
  readonly transactions: number;
  readonly dialogs: number;
  readonly journalEntries: number;
  readonly overrides: number;
}

/** Budgets, overload and connection figures (issue 10 items 3-5, 9). */
export interface LimitGauges {
  readonly stores: ReadonlyArray<{ name: string; used: number; limit: number; items: number }>;
  readonly rejections: ReadonlyMap<string, number>;
  readonly lagMs: number;
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
  private readonly responses = new Map<string, number>();
  private readonly retransmissions = new Map<string, number>();
  private readonly faults = new Map<string, number>();
  private unparsable = 0;
  private readonly dtmfDigits = new Map<string, number>();
  private readonly rtp = { calls: 0, sent: 0, received: 0, lost: 0, dropped: 0 };
  private readonly started = Date.now();

  observe(e: JournalEntry): void {
    if (e.retransmission) {
      inc(this.retransmissions, e.direction === "in" ? "received" : "sent");
      return;
    }
    if (e.kind === "unparsable") this.unparsable++;
    // Methods are tokens any peer chooses: only registered ones get their own series.
    else if (e.direction === "in" && e.kind === "request")
      inc(this.requests, KNOWN_METHODS.has(e.method ?? "") ? e.method! : "other");
    else if (e.direction === "out" && e.kind === "response") inc(this.responses, String(e.status));
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
    const out: string[] = [];
    const counter = (name: string, help: string, label: string, m: Map<string, number>) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      for (const [k, v] of [...m].sort()) out.push(`${name}{${label}="${escapeLabel(k)}"} ${v}`);
    };
    const gauge = (name: string, help: string, v: number) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${v}`);
    };
    counter(
      "sipmock_requests_received_total",
      "SIP requests received (retransmissions excluded).",
      "method",
      this.requests,
    );
    counter(
      "sipmock_responses_sent_total",
      "SIP responses sent (retransmissions excluded).",
      "code",
      this.responses,
    );
    counter(
      "sipmock_retransmissions_total",
      "Retransmissions received and sent.",
      "direction",
      this.retransmissions,
    );
    counter("sipmock_faults_injected_total", "Faults injected by scenario rules.", "fault", this.faults);
    out.push(
      "# HELP sipmock_unparsable_messages_total Messages that could not be parsed.",
      "# TYPE sipmock_unparsable_messages_total counter",
      `sipmock_unparsable_messages_total ${this.unparsable}`,
    );
    counter(
      "sipmock_dtmf_digits_received_total",
      "DTMF digits received, by RFC 4733 or SIP INFO.",
      "via",
      this.dtmfDigits,
    );
    const plain = (name: string, help: string, v: number) =>
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`, `${name} ${v}`);
    plain("sipmock_media_calls_total", "Calls whose media (RTP session) ended.", this.rtp.calls);
    plain("sipmock_rtp_packets_sent_total", "RTP packets sent in ended calls.", this.rtp.sent);
    plain("sipmock_rtp_packets_received_total", "RTP packets received in ended calls.", this.rtp.received);
    plain(
      "sipmock_rtp_packets_lost_total",
      "RTP packets lost on the way in (RFC 3550 A.3), ended calls.",
      this.rtp.lost,
    );
    plain(
      "sipmock_rtp_packets_dropped_total",
      "Malformed, oversized or unknown-payload-type packets dropped, ended calls.",
      this.rtp.dropped,
    );
    gauge("sipmock_transactions_active", "Server transactions alive.", g.transactions);
    gauge("sipmock_dialogs_active", "Dialogs alive.", g.dialogs);
    gauge("sipmock_journal_entries", "Entries held in the in-memory journal.", g.journalEntries);
    gauge("sipmock_overrides_active", "Overrides in front of the scenario.", g.overrides);
    gauge("sipmock_uptime_seconds", "Seconds since start.", Math.round((Date.now() - this.started) / 1000));
    const l = this.limits?.();
    if (l) {
      const perStore = (
        name: string,
        help: string,
        type: string,
        pick: (s: LimitGauges["stores"][0]) => number,
      ) => {
        out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
        for (const s of l.stores) out.push(`${name}{store="${s.name}"} ${pick(s)}`);
      };
      perStore("sipmock_store_bytes", "Octets a store is estimated to hold.", "gauge", (s) => s.used);
      perStore("sipmock_store_budget_bytes", "The byte budget of a store.", "gauge", (s) => s.limit);
      perStore("sipmock_store_items", "Items a store holds.", "gauge", (s) => s.items);
      counter(
        "sipmock_overload_rejections_total",
        "New requests answered 503 with Retry-After because the mock was overloaded.",
        "reason",
        new Map(l.rejections),
      );
      gauge("sipmock_event_loop_lag_seconds", "Mean event-loop delay over the last second.", l.lagMs / 1000);
      gauge("sipmock_connections_open", "Stream connections open (TCP, TLS, WS, WSS).", l.connectionsOpen);
      counter(
        "sipmock_connections_refused_total",
        "Connections refused at accept by a cap.",
        "cap",
        new Map(l.connectionsRefused),
      );
      counter(
        "sipmock_connections_timed_out_total",
        "Connections closed by a timeout.",
        "reason",
        new Map(l.connectionsClosed),
      );
      out.push(
        "# HELP sipmock_requests_sent_once_total The mock's own UDP requests not retransmitted: the destination never sent a packet.",
        "# TYPE sipmock_requests_sent_once_total counter",
        `sipmock_requests_sent_once_total ${this.sentOnce}`,
      );
    }
    return `${out.join("\n")}\n`;
  }
}

/** IANA "Methods" registry (RFC 3261 and extensions). */
const KNOWN_METHODS = new Set([
  "ACK",
  "BYE",
  "CANCEL",
  "INFO",
  "INVITE",
  "MESSAGE",
  "NOTIFY",
  "OPTIONS",
  "PRACK",
  "PUBLISH",
  "REFER",
  "REGISTER",
  "SUBSCRIBE",
  "UPDATE",
]);

function inc(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}
