/**
 * The Prometheus text /metrics serves (exposition format 0.0.4), to the byte:
 * every family's HELP and TYPE, label escaping, series sorted by label, the
 * limit families only when the mock gives its limits.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import type { JournalEntry } from "../../src/control/journal.js";
import { Metrics } from "../../src/control/metrics.js";

const START = 1_700_000_000_000;

/** A Metrics that has seen requests, responses, retransmissions, faults, digits and one call's media. */
function observed(): Metrics {
  const m = new Metrics();
  const e = (x: Partial<JournalEntry>) =>
    m.observe({ direction: "in", kind: "request", retransmission: false, ...x } as JournalEntry);
  e({ method: "INVITE" });
  e({ method: "FOO" });
  e({ method: "BYE" });
  e({ retransmission: true });
  e({ direction: "out", retransmission: true });
  e({ kind: "unparsable" });
  e({ direction: "out", kind: "response", status: 200 });
  e({ direction: "out", kind: "response", status: 486 });
  m.dtmf("rfc4733");
  m.dtmf("info");
  m.fault('dro"p\\\n');
  m.fault("duplicate");
  m.mediaClosed({
    sent: { packets: 5 },
    received: { packets: 4, lost: -1 },
    dropped: { malformed: 1, unknownPayloadType: 2, oversized: 3 },
  });
  m.sentOnce = 3;
  return m;
}

const GAUGES = { transactions: 1, dialogs: 2, journalEntries: 3, overrides: 4 };

const EXPECTED = [
  "# HELP sipmock_requests_received_total SIP requests received (retransmissions excluded).",
  "# TYPE sipmock_requests_received_total counter",
  'sipmock_requests_received_total{method="BYE"} 1',
  'sipmock_requests_received_total{method="INVITE"} 1',
  'sipmock_requests_received_total{method="other"} 1',
  "# HELP sipmock_responses_sent_total SIP responses sent (retransmissions excluded).",
  "# TYPE sipmock_responses_sent_total counter",
  'sipmock_responses_sent_total{code="200"} 1',
  'sipmock_responses_sent_total{code="486"} 1',
  "# HELP sipmock_retransmissions_total Retransmissions received and sent.",
  "# TYPE sipmock_retransmissions_total counter",
  'sipmock_retransmissions_total{direction="received"} 1',
  'sipmock_retransmissions_total{direction="sent"} 1',
  "# HELP sipmock_faults_injected_total Faults injected by scenario rules.",
  "# TYPE sipmock_faults_injected_total counter",
  'sipmock_faults_injected_total{fault="dro\\"p\\\\\\n"} 1',
  'sipmock_faults_injected_total{fault="duplicate"} 1',
  "# HELP sipmock_unparsable_messages_total Messages that could not be parsed.",
  "# TYPE sipmock_unparsable_messages_total counter",
  "sipmock_unparsable_messages_total 1",
  "# HELP sipmock_dtmf_digits_received_total DTMF digits received, by RFC 4733 or SIP INFO.",
  "# TYPE sipmock_dtmf_digits_received_total counter",
  'sipmock_dtmf_digits_received_total{via="info"} 1',
  'sipmock_dtmf_digits_received_total{via="rfc4733"} 1',
  "# HELP sipmock_media_calls_total Calls whose media (RTP session) ended.",
  "# TYPE sipmock_media_calls_total counter",
  "sipmock_media_calls_total 1",
  "# HELP sipmock_rtp_packets_sent_total RTP packets sent in ended calls.",
  "# TYPE sipmock_rtp_packets_sent_total counter",
  "sipmock_rtp_packets_sent_total 5",
  "# HELP sipmock_rtp_packets_received_total RTP packets received in ended calls.",
  "# TYPE sipmock_rtp_packets_received_total counter",
  "sipmock_rtp_packets_received_total 4",
  "# HELP sipmock_rtp_packets_lost_total RTP packets lost on the way in (RFC 3550 A.3), ended calls.",
  "# TYPE sipmock_rtp_packets_lost_total counter",
  "sipmock_rtp_packets_lost_total 0",
  "# HELP sipmock_rtp_packets_dropped_total Malformed, oversized or unknown-payload-type packets dropped, ended calls.",
  "# TYPE sipmock_rtp_packets_dropped_total counter",
  "sipmock_rtp_packets_dropped_total 6",
  "# HELP sipmock_transactions_active Server transactions alive.",
  "# TYPE sipmock_transactions_active gauge",
  "sipmock_transactions_active 1",
  "# HELP sipmock_dialogs_active Dialogs alive.",
  "# TYPE sipmock_dialogs_active gauge",
  "sipmock_dialogs_active 2",
  "# HELP sipmock_journal_entries Entries held in the in-memory journal.",
  "# TYPE sipmock_journal_entries gauge",
  "sipmock_journal_entries 3",
  "# HELP sipmock_overrides_active Overrides in front of the scenario.",
  "# TYPE sipmock_overrides_active gauge",
  "sipmock_overrides_active 4",
  "# HELP sipmock_uptime_seconds Seconds since start.",
  "# TYPE sipmock_uptime_seconds gauge",
  "sipmock_uptime_seconds 61",
  "# HELP sipmock_store_bytes Octets a store is estimated to hold.",
  "# TYPE sipmock_store_bytes gauge",
  'sipmock_store_bytes{store="journal"} 10',
  'sipmock_store_bytes{store="dialogs"} 1',
  "# HELP sipmock_store_budget_bytes The byte budget of a store.",
  "# TYPE sipmock_store_budget_bytes gauge",
  'sipmock_store_budget_bytes{store="journal"} 100',
  'sipmock_store_budget_bytes{store="dialogs"} 5',
  "# HELP sipmock_store_items Items a store holds.",
  "# TYPE sipmock_store_items gauge",
  'sipmock_store_items{store="journal"} 2',
  'sipmock_store_items{store="dialogs"} 1',
  "# HELP sipmock_overload_rejections_total New requests answered 503 with Retry-After because the mock was overloaded.",
  "# TYPE sipmock_overload_rejections_total counter",
  'sipmock_overload_rejections_total{reason="lag"} 2',
  "# HELP sipmock_event_loop_lag_seconds Mean event-loop delay over the last second.",
  "# TYPE sipmock_event_loop_lag_seconds gauge",
  "sipmock_event_loop_lag_seconds 0.0125",
  "# HELP sipmock_udp_receive_queue_delay_seconds How long a UDP datagram read now waited in its receive queue, at least (measured while the event loop is saturated).",
  "# TYPE sipmock_udp_receive_queue_delay_seconds gauge",
  "sipmock_udp_receive_queue_delay_seconds 0.75",
  "# HELP sipmock_connections_open Stream connections open (TCP, TLS, WS, WSS).",
  "# TYPE sipmock_connections_open gauge",
  "sipmock_connections_open 4",
  "# HELP sipmock_connections_refused_total Connections refused at accept by a cap.",
  "# TYPE sipmock_connections_refused_total counter",
  'sipmock_connections_refused_total{cap="per-source"} 3',
  'sipmock_connections_refused_total{cap="total"} 1',
  "# HELP sipmock_connections_timed_out_total Connections closed by a timeout.",
  "# TYPE sipmock_connections_timed_out_total counter",
  'sipmock_connections_timed_out_total{reason="idle"} 1',
  "# HELP sipmock_requests_sent_once_total The mock's own UDP requests not retransmitted: the destination never sent a packet.",
  "# TYPE sipmock_requests_sent_once_total counter",
  "sipmock_requests_sent_once_total 3",
];

/** Where the limit families start (after the uptime gauge). */
const LIMITS_AT = EXPECTED.indexOf("# HELP sipmock_store_bytes Octets a store is estimated to hold.");

describe("Metrics.render", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("with the mock's limits: every family, to the byte", () => {
    vi.spyOn(Date, "now").mockReturnValue(START);
    const m = observed();
    m.limits = () => ({
      stores: [
        { name: "journal", used: 10, limit: 100, items: 2 },
        { name: "dialogs", used: 1, limit: 5, items: 1 },
      ],
      rejections: new Map([["lag", 2]]),
      lagMs: 12.5,
      queueDelayMs: 750,
      connectionsOpen: 4,
      connectionsRefused: new Map([
        ["total", 1],
        ["per-source", 3],
      ]),
      connectionsClosed: new Map([["idle", 1]]),
    });
    vi.spyOn(Date, "now").mockReturnValue(START + 61_400);
    expect(m.render(GAUGES)).toBe(`${EXPECTED.join("\n")}\n`);
  });

  it("without them: the same text up to the uptime gauge, no limit family", () => {
    vi.spyOn(Date, "now").mockReturnValue(START);
    const m = observed();
    vi.spyOn(Date, "now").mockReturnValue(START + 61_400);
    expect(LIMITS_AT).toBeGreaterThan(0);
    expect(m.render(GAUGES)).toBe(`${EXPECTED.slice(0, LIMITS_AT).join("\n")}\n`);
  });

  it("with the process's memory: its three gauges after the uptime gauge, under Prometheus' Node client names", () => {
    vi.spyOn(Date, "now").mockReturnValue(START);
    const m = observed();
    vi.spyOn(Date, "now").mockReturnValue(START + 61_400);
    const memory = { rss: 150_000_000, heapUsed: 40_000_000, external: 7_000_000 };
    expect(m.render({ ...GAUGES, memory })).toBe(
      `${[
        ...EXPECTED.slice(0, LIMITS_AT),
        "# HELP process_resident_memory_bytes Resident memory size in bytes.",
        "# TYPE process_resident_memory_bytes gauge",
        "process_resident_memory_bytes 150000000",
        "# HELP nodejs_heap_size_used_bytes V8 heap in use, in bytes.",
        "# TYPE nodejs_heap_size_used_bytes gauge",
        "nodejs_heap_size_used_bytes 40000000",
        "# HELP nodejs_external_memory_bytes Memory outside the V8 heap held by its objects (Buffers: journal, stored responses), in bytes.",
        "# TYPE nodejs_external_memory_bytes gauge",
        "nodejs_external_memory_bytes 7000000",
      ].join("\n")}\n`,
    );
  });
});
