/** Prometheus metrics (text exposition format 0.0.4), counted from the journal and the UAS. */
import type { JournalEntry } from "./journal.js";

export interface Gauges {
  readonly transactions: number;
  readonly dialogs: number;
  readonly journalEntries: number;
  readonly overrides: number;
}

export class Metrics {
  private readonly requests = new Map<string, number>();
  private readonly responses = new Map<string, number>();
  private readonly retransmissions = new Map<string, number>();
  private readonly faults = new Map<string, number>();
  private unparsable = 0;
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
    gauge("sipmock_transactions_active", "Server transactions alive.", g.transactions);
    gauge("sipmock_dialogs_active", "Dialogs alive.", g.dialogs);
    gauge("sipmock_journal_entries", "Entries held in the in-memory journal.", g.journalEntries);
    gauge("sipmock_overrides_active", "Overrides in front of the scenario.", g.overrides);
    gauge("sipmock_uptime_seconds", "Seconds since start.", Math.round((Date.now() - this.started) / 1000));
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
