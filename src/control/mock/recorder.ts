/**
 * Journal wiring: every message in and out becomes a journal entry, and a
 * MessageEvent when there are onMessage subscribers; DTMF digits and a call's RTP
 * statistics become media entries; metrics count each message as it is
 * journaled, and the capture sinks (JSONL, pcap) see each entry once it is
 * complete (after its turn of the event loop).
 *
 * A message's fields come from the SIP parser: an inbound one from the
 * parse the transport already did, an outbound one from what the
 * serializer wrote (no parse; only bytes a fault made are parsed). They are
 * read into one scratch object that the journal entry copies at once.
 */
import type { DtmfDigit } from "../../media/index.js";
import type { ParseResult } from "../../sip/parser.js";
import { takeWrittenHead } from "../../sip/serializer.js";
import { destinationOf, type Endpoint, type Flow } from "../../transport/types.js";
import type { UasEvents } from "../../ua/uas.js";
import { JsonlSink } from "../capture/jsonl.js";
import { PcapWriter } from "../capture/pcap.js";
import type { Journal, JournalEntry, JournalRecord } from "../journal.js";
import type { Logger } from "../logger.js";
import {
  blankFields,
  describeMessage,
  describeParsed,
  describeWritten,
  type MessageSummary,
  summarizeOutgoing,
  summarizeParse,
} from "../message-summary.js";
import type { Metrics } from "../metrics.js";
import { logsMessages } from "./log.js";
import type { MessageEvent, SipMockOptions } from "./options.js";

/** Where entries are written besides the journal. */
export interface Sink {
  write(e: JournalRecord): void;
  close(): void | Promise<void>;
}

/** The capture files the options ask for; `pcap` also takes the calls' RTP (pcapRtp). */
export function openCaptures(
  options: Pick<SipMockOptions, "journalFile" | "pcapFile">,
  logger?: Logger,
): {
  sinks: Sink[];
  pcap?: PcapWriter;
} {
  const sinks: Sink[] = [];
  if (options.journalFile)
    sinks.push(new JsonlSink(options.journalFile, failedWrites(options.journalFile, logger)));
  const pcap = options.pcapFile
    ? new PcapWriter(options.pcapFile, failedWrites(options.pcapFile, logger))
    : undefined;
  if (pcap) sinks.push(pcap);
  return pcap ? { sinks, pcap } : { sinks };
}

/** A capture's failure, in the log (the writer says it once: the capture stops; and when the file could not be cut back). */
function failedWrites(path: string, logger: Logger | undefined): ((err: Error) => void) | undefined {
  if (!logger) return undefined;
  return (err) => logger.error(`capture ${path}: write failed: ${err.message}`);
}

type MediaInfo = Parameters<NonNullable<UasEvents["mediaClosed"]>>[2];
type MediaStatsOf = Parameters<NonNullable<UasEvents["mediaClosed"]>>[1];

export class Recorder {
  private readonly subscribers = new Set<(event: MessageEvent) => void>();
  /** Entries journaled but not yet seen by the captures (this turn of the event loop). */
  private pending: (JournalRecord | undefined)[] = [];
  /** How many of `pending` there are; the array is reused, not made again each turn. */
  private queued = 0;
  /** The other array, while not being flushed. */
  private spare: (JournalRecord | undefined)[] | undefined = [];
  private readonly flushSoon = (): void => this.flush();
  /** A message's fields, filled and copied into its journal entry at once. */
  private readonly scratch = blankFields();
  /** The journal id of the inbound message being handled now (0: none), so the decision can name its rule. */
  currentId = 0;
  /** The last local and remote endpoints journaled (see `same`). */
  private lastLocal: Endpoint | undefined;
  private lastRemote: Endpoint | undefined;

  constructor(
    readonly journal: Journal,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly sinks: readonly Sink[],
    /** Wall time of the messages sent (the test seams' clock, else Date.now). */
    private readonly now: () => number = Date.now,
  ) {
    // Captures see an entry after its turn of the event loop, when it is
    // complete (the rule that answered, its faults), and read every field.
    // Without them no entry object is made for a message nobody reads.
    if (sinks.length > 0) {
      journal.subscribe((e) => {
        this.pending[this.queued++] = e;
        if (this.queued === 1) setImmediate(this.flushSoon);
      }, true);
    }
  }

  /** Subscribes to every message in and out; returns the unsubscribe function. */
  onMessage(listener: (event: MessageEvent) => void): () => void {
    this.subscribers.add(listener);
    const stopReading = this.journal.readsFields();
    return () => {
      if (this.subscribers.delete(listener)) stopReading();
    };
  }

  /** Whether anyone listens to onMessage (else no MessageEvent is made). */
  get telling(): boolean {
    return this.subscribers.size > 0;
  }

  /**
   * Journals a message received, with the parse the transport already made
   * of it, and tells the subscribers (its summary is made here when the
   * caller had no use for one).
   */
  received(
    m: { flow: Flow; bytes: Buffer; result: ParseResult; receivedAt: number },
    summary: MessageSummary | undefined,
    retransmission: boolean,
  ): number {
    const flow = m.flow;
    const fields = describeParsed(m.result, m.bytes, this.scratch);
    this.metrics.count("in", retransmission, fields.kind, fields.method, fields.status);
    const telling = this.subscribers.size > 0;
    if (telling) this.journal.makeNext();
    const id = this.journal.receive(
      m.receivedAt,
      flow.transport,
      this.sameLocal(flow.localSocket ?? flow.local),
      this.sameRemote(flow.remote),
      retransmission,
      m.bytes,
      fields,
      m.result.ok,
    );
    if (telling) {
      const entry = this.journal.takeMade();
      this.journal.settle();
      this.tell({
        direction: "in",
        flow,
        bytes: m.bytes,
        summary: summary ?? summarizeParse(m.result),
        retransmission,
        time: m.receivedAt,
        entry,
      });
    }
    return id;
  }

  /**
   * Journals a message the mock sent, on the flow it really took, and tells
   * the subscribers; returns its summary when the log has a line for it.
   */
  sent(flow: Flow, bytes: Buffer, retransmission: boolean): MessageSummary | undefined {
    const time = this.now();
    // What the serializer wrote is described from its pieces, once (the Buffer
    // then lets them go); its retransmissions and bytes a fault made are parsed.
    const head = takeWrittenHead(bytes);
    const fields = head ? describeWritten(head, this.scratch) : describeMessage(bytes);
    const summary =
      this.subscribers.size > 0 || logsMessages(this.logger) ? summarizeOutgoing(fields, bytes) : undefined;
    this.metrics.count("out", retransmission, fields.kind, fields.method, fields.status);
    const telling = summary !== undefined && this.subscribers.size > 0;
    if (telling) this.journal.makeNext();
    // The addresses the message really used: a connection the mock opened
    // has its own port, a datagram goes where 18.2.2 says (replyTo).
    this.journal.store(
      time,
      "out",
      flow.transport,
      this.sameLocal(flow.localSocket ?? flow.local),
      this.sameRemote(destinationOf(flow)),
      retransmission,
      bytes,
      fields,
    );
    if (telling) {
      const entry = this.journal.takeMade();
      this.tell({ direction: "out", flow, bytes, summary, retransmission, time, entry });
    }
    return summary;
  }

  /**
   * The endpoint journaled last when this one names the same address and
   * port: the entries of one peer share one object (a transport makes one
   * per datagram, which each entry would otherwise keep).
   */
  private sameLocal(e: Endpoint): Endpoint {
    const last = this.lastLocal;
    if (last !== undefined && sameEndpoint(last, e)) return last;
    this.lastLocal = e;
    return e;
  }

  private sameRemote(e: Endpoint): Endpoint {
    const last = this.lastRemote;
    if (last !== undefined && sameEndpoint(last, e)) return last;
    this.lastRemote = e;
    return e;
  }

  private tell(event: MessageEvent): void {
    this.journal.lend(event.entry);
    for (const s of this.subscribers) {
      try {
        s(event);
      } catch (err) {
        // A subscriber's bug (a test's callback) must not break the server.
        this.logger.error(`onMessage subscriber threw: ${(err as Error).stack ?? err}`);
      }
    }
  }

  /**
   * A digit in the journal: an RFC 4733 one with the RTP socket and the
   * packets' source, a SIP INFO one with the INFO's transport and addresses.
   */
  digit(callId: string, d: DtmfDigit): void {
    const current =
      d.via === "info" && this.currentId !== 0
        ? (this.journal.entryOf(this.currentId, false) as JournalEntry | undefined)
        : undefined;
    const info = current?.callId === callId ? current : undefined;
    const where = info
      ? { transport: info.transport, local: info.local, remote: info.remote }
      : {
          transport: "udp" as const,
          ...(d.local ? { local: d.local } : {}),
          ...(d.source ? { remote: d.source } : {}),
        };
    this.journal.addMedia({
      time: new Date().toISOString(),
      kind: "dtmf",
      direction: "in",
      callId,
      digit: d.digit,
      durationMs: d.durationMs,
      volume: d.volume,
      via: d.via,
      ...where,
    });
  }

  /** A call's RTP statistics when its media ended; only a call whose media was negotiated had media to report. */
  mediaClosed(callId: string, st: MediaStatsOf, info: MediaInfo): void {
    if (!info.codec) return;
    this.journal.addMedia({
      time: new Date().toISOString(),
      kind: "media",
      callId,
      transport: "udp",
      local: info.local,
      ...(info.remote ? { remote: info.remote } : {}),
      codec: info.codec,
      ...(info.payloadType !== undefined ? { payloadType: info.payloadType } : {}),
      sent: st.sent,
      received: st.received,
      dropped: st.dropped,
      rtcp: st.rtcp,
    });
  }

  /** Hands the entries journaled so far to the capture sinks. */
  flush(): void {
    const batch = this.pending;
    const n = this.queued;
    this.pending = this.spare ?? [];
    this.spare = undefined;
    this.queued = 0;
    for (let i = 0; i < n; i++) {
      const e = batch[i]!;
      batch[i] = undefined; // not kept alive past the journal
      for (const sink of this.sinks) {
        try {
          sink.write(e);
        } catch (err) {
          // A full disk or an odd message must not take the server down.
          this.logger.error(`capture write failed: ${(err as Error).message}`);
        }
      }
    }
    this.spare = batch;
  }

  /** Closes the captures once their queued writes are on disk. */
  async closeSinks(): Promise<void> {
    await Promise.all(this.sinks.map((sink) => sink.close()));
  }
}

function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  return a === b || (a.port === b.port && a.address === b.address);
}
