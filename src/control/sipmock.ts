/**
 * The embedding API: start a mock, learn where it listens, close it.
 * Data flows one way: transport -> parser -> transaction -> scenario ->
 * response builder -> transaction -> transport.
 */
import { randomBytes } from "node:crypto";
import { createMediaEngine, type DtmfDigit, type MediaStats } from "../media/index.js";
import type { ScenarioLimits } from "../scenario/bounds.js";
import {
  builtinUasSource,
  defaultScenarioSource,
  type RespondOptions,
  respondScenarioSource,
} from "../scenario/builtin.js";
import { DEFAULT_RING_TIMEOUT_MS } from "../scenario/dial-a-code.js";
import { toMs } from "../scenario/duration.js";
import { ScenarioEngine } from "../scenario/engine.js";
import { FollowUpExecutor } from "../scenario/follow-ups.js";
import { loadScenarioFiles, parseScenario, ScenarioLoadError } from "../scenario/load.js";
import { compileMatch } from "../scenario/matcher.js";
import type { Scenario } from "../scenario/types.js";
import type { ParsedRequest, ParsedResponse } from "../sip/message.js";
import { type Budgets, createBudgets, type StoreName } from "../transaction/budget.js";
import { eventLoopLag, OverloadDetector } from "../transaction/overload.js";
import { Scheduler } from "../transaction/scheduler.js";
import { resolveTimers, type TimerConfig } from "../transaction/timers.js";
import { TransactionLayer } from "../transaction/transaction-layer.js";
import { type TlsOptions, tlsMaterial } from "../transport/certs.js";
import { ConnectionGate, type ConnectionLimits } from "../transport/connection-limits.js";
import { KnownPeers } from "../transport/known-peers.js";
import {
  EMBEDDED_LISTEN,
  type ListenSpec,
  parseListenSpec,
  sharedPortPair,
} from "../transport/listen-spec.js";
import { ListenerTable } from "../transport/listener-table.js";
import { responseFlow } from "../transport/response-route.js";
import { listenTcp } from "../transport/tcp.js";
import type {
  Flow,
  InboundHandler,
  InboundMessage,
  Listener,
  ListenerInfo,
  TransportName,
} from "../transport/types.js";
import { destinationOf, formatHost, hostPort, isSecure } from "../transport/types.js";
import { listenUdp } from "../transport/udp.js";
import { listenWs } from "../transport/ws.js";
import { type AuthConfig, Authenticator } from "../ua/auth/authenticator.js";
import { FailedLoginLog } from "../ua/auth/failed-logins.js";
import type { DialogInfo } from "../ua/dialogs.js";
import { type Capabilities, DEFAULT_CAPABILITIES, localIdentity, localUri } from "../ua/local-context.js";
import type {
  CallOptions,
  CallResult,
  ContactOutcome,
  MediaDirection,
  MessageWaiting,
  ReinviteOptions,
} from "../ua/mock-requests.js";
import type { RegistrarOptions } from "../ua/registrar.js";
import { buildResponse } from "../ua/response-builder.js";
import type { ClientOutcome } from "../ua/uac.js";
import { type FaultWire, UserAgentServer } from "../ua/uas.js";
import { VERSION } from "../version.js";
import { JsonlSink } from "./capture/jsonl.js";
import { PcapWriter } from "./capture/pcap.js";
import { checkExpectations, type ExpectationResult } from "./expectations.js";
import {
  type Call,
  describeMessage,
  isMessage,
  Journal,
  type JournalEntry,
  type JournalFilter,
  type JournalRecord,
} from "./journal.js";
import { type Logger, printable, silentLogger } from "./logger.js";
import { faultLabels, type MessageSummary, summarizeOutgoing, summarizeParse } from "./message-summary.js";
import { Metrics } from "./metrics.js";
import { type OverrideInfo, Overrides } from "./overrides.js";
import {
  type CountExpectation,
  checkPattern,
  factsOf,
  findRequests,
  nearMisses,
  type RequestPattern,
  VerificationError,
  verify,
} from "./verify.js";

export { VERSION } from "../version.js";

export interface SipMockOptions {
  /**
   * TRANSPORT:HOST:PORT values (udp, tcp, tls, ws, wss); port 0 picks a free port. Default: UDP and
   * TCP on 127.0.0.1, on one free port both share (`mock.address()` tells which). The CLI's default
   * is 0.0.0.0:5060.
   */
  readonly listen?: readonly string[];
  /**
   * `sipmock respond`: one rule in front of the scenario files, or, without
   * them, in front of the built-in UAS alone (no dial-a-code).
   */
  readonly respond?: RespondOptions;
  /**
   * Scenario file path(s) or bundled scenario names ("busy": see
   * bundledScenarios()), merged in order, or a Scenario object.
   * Default: the bundled "default" (dial-a-code).
   */
  readonly scenario?: string | readonly string[] | Scenario;
  /** T1/T2/T4 in milliseconds (RFC 3261 17.1.1.1); shorten them in tests. */
  readonly timers?: Partial<TimerConfig>;
  /** Server header; false for none. */
  readonly serverHeader?: string | false;
  /** Answer UDP requests at their source port even without rport (default: RFC 3261 18.2.2, the sent-by port). */
  readonly forceRport?: boolean;
  /** Address written in Contact when listening on a wildcard address. */
  readonly advertise?: string;
  /** Largest accepted message in octets; larger ones get 513. Default 65535. */
  readonly maxMessageSize?: number;
  /**
   * The RTP port the mock's SDP names (overrides the scenario's `mediaPort:`;
   * default 40000). Nothing listens there: no RTP is sent or received yet.
   */
  readonly mediaPort?: number;
  /**
   * RTP/RTCP ports of the calls' media, inclusive (`--rtp-ports 20000-20999`);
   * default: ephemeral ports. Ignored with mediaPort (signalling only).
   */
  readonly rtpPorts?: readonly [number, number];
  /** Symmetric RTP: send to where the peer's RTP comes from (behind NAT). */
  readonly symmetricRtp?: boolean;
  /**
   * An answered call that receives no RTP or RTCP for this long is hung up
   * (media closed, BYE with a Reason); default 60 s; 0: never.
   */
  readonly rtpInactivityTimeoutMs?: number;
  /** With pcapFile: the RTP and RTCP of every call go into the capture too. */
  readonly pcapRtp?: boolean;
  /** Bounds on scenario files and YAML (size in octets, rule count); defaults 4 MiB and 10,000 rules. */
  readonly scenarioLimits?: ScenarioLimits;
  /** How long sip:18x@ rings before 480; default 180 s. */
  readonly ringTimeoutMs?: number;
  /** OPTIONS keep-alive to every registered contact at this interval (off by default). */
  readonly pingIntervalMs?: number;
  /** Digest realm of the built-in challenges (default "sipmock"). */
  readonly realm?: string;
  /** Where log lines go; default silent. `createLogger("info")` prints one line per message to stderr. */
  readonly logger?: Logger;
  /** RFC 4028 Min-SE in seconds (default 90; lower it only to test session timers quickly). */
  readonly minSE?: number;
  /** Registrar limits: minExpires (423 below it), maxExpires, defaultExpires, maxBindingsPerAor. */
  readonly registrar?: Partial<RegistrarOptions>;
  /** Digest authentication (overrides a scenario's `auth:`): realm, users, algorithms... */
  readonly auth?: AuthConfig;
  /** TLS/WSS certificate: PEM files, or hosts for the self-signed one made at start. */
  readonly tls?: TlsOptions;
  /** How many journal entries are kept in memory (oldest dropped first). Default 10000. */
  readonly journalSize?: number;
  /** Append every message to this JSONL file. */
  readonly journalFile?: string;
  /** Write every message to this pcap file (LINKTYPE_RAW, synthesised IP/UDP/TCP). */
  readonly pcapFile?: string;
  /** On close, how long in-flight transactions may take to finish (ms). Default 0: stop at once. */
  readonly drainMs?: number;
  /** Memory budgets, overload control, connection caps and timeouts (README "Limits and hardening"). */
  readonly limits?: LimitOptions;
  /** Deterministic tests (test/harness): a manual scheduler and clock, in-memory listeners instead of sockets. */
  readonly seams?: TestSeams;
}

/**
 * What a deterministic test replaces: every SIP timer runs on `scheduler`
 * (built with a manual clock, `new Scheduler(clock, onError, true)`), wall
 * time is `now`, and `openListener` opens a listener without a socket.
 */
export interface TestSeams {
  readonly scheduler?: Scheduler;
  readonly now?: () => number;
  readonly openListener?: (spec: ListenSpec, onInbound: InboundHandler) => Promise<Listener>;
}

export interface LimitOptions {
  /** Byte budget per store; defaults in DEFAULT_BUDGETS (registrar 64 MiB, transactions 128 MiB...). */
  readonly budgets?: Partial<Record<StoreName, number>>;
  /** Mean event-loop delay (ms) over a second above which new requests get 503. Default 1000; 0: off. */
  readonly maxEventLoopLagMs?: number;
  /** The event-loop delay source (tests inject one); default: how late a 100 ms timer fires, averaged over a second (overload.ts eventLoopLag). */
  readonly eventLoopLag?: () => number;
  /** Retry-After (seconds) of the 503s sent under overload. Default 5. */
  readonly retryAfterS?: number;
  /** Connection caps and timeouts of the TCP, TLS, WS and WSS listeners. */
  readonly connections?: Partial<ConnectionLimits>;
  /**
   * Retransmit the mock's own UDP requests (Timer A/E) to destinations that
   * never sent it a packet. Default false: those are sent once and logged.
   */
  readonly retransmitToUnknown?: boolean;
}

export type Direction = "in" | "out";

export interface MessageEvent {
  readonly direction: Direction;
  readonly flow: Flow;
  readonly bytes: Buffer;
  readonly summary: MessageSummary;
  readonly retransmission: boolean;
  readonly time: number;
  /** The journal entry of this message. */
  readonly entry: JournalEntry;
}

export interface SipMock {
  readonly listeners: readonly ListenerInfo[];
  /** SHA-256 fingerprint of the TLS/WSS certificate, when there is a secure listener. */
  readonly tlsFingerprint?: string;
  /** The TLS/WSS certificate (PEM), e.g. for a test client to trust. */
  readonly tlsCertificate?: string;
  /** host:port of the first listener of a transport. */
  address(transport?: TransportName): { host: string; port: number };
  /** sip:[user@]host:port;transport=x for the first listener of a transport. */
  uri(transport?: TransportName, user?: string): string;
  /** Subscribes to every message in and out; returns the unsubscribe function. */
  onMessage(listener: (event: MessageEvent) => void): () => void;
  /** The scenario answering now. */
  readonly scenario: Scenario;
  /**
   * Swaps the scenario atomically: file path(s) or bundled names, YAML text
   * (containing a newline) or a Scenario object. An invalid one throws ScenarioLoadError
   * and the current scenario stays.
   */
  setScenario(next: string | readonly string[] | Scenario): void;
  /** Scenario state, rule counters and sequences back to their start. */
  resetScenario(): void;
  /** Every message in and out (bounded by journalSize). */
  readonly journal: Journal;
  /** Inbound requests matching a pattern (retransmissions excluded). */
  requests(pattern?: RequestPattern): JournalEntry[];
  /** Calls grouped by Call-ID. */
  calls(filter?: JournalFilter): Call[];
  /**
   * Throws a VerificationError listing the closest requests unless the count
   * holds (default: at least one).
   */
  verify(pattern: RequestPattern, count?: CountExpectation): JournalEntry[];
  /** Resolves with the first request matching the pattern (already received or arriving within the timeout). */
  waitFor(pattern: RequestPattern, options?: { timeout?: number }): Promise<JournalEntry>;
  /**
   * Puts a rule in front of the scenario: `action` holds rule keys (respond,
   * headers, steps, fault...). Returns its id. Invalid ones throw OverrideError.
   */
  override(
    pattern: RequestPattern | undefined,
    action: Record<string, unknown>,
    options?: { times?: number },
  ): OverrideInfo;
  readonly overrides: Overrides;
  /** The scenario's expectations checked against the journal. */
  checkExpectations(): ExpectationResult[];
  /** Sends BYE in every dialog of this call (RFC 3261 15.1.1); returns how many. */
  bye(callId: string): number;
  /**
   * A re-INVITE with a new SDP offer in every dialog of the call: "sendonly"
   * or "inactive" puts the peer on hold, "sendrecv" resumes. Resolves with
   * the final answers (408 when none came); throws MockRequestError when
   * there is no dialog or an INVITE is already in progress (RFC 3261 14.1).
   */
  reinvite(callId: string, offer?: ReinviteOptions | MediaDirection): Promise<ClientOutcome[]>;
  /** An UPDATE without a body (RFC 3311) in every dialog of the call. */
  update(callId: string): Promise<ClientOutcome[]>;
  /**
   * INVITE to a registered client (its most recent binding), to its
   * Contact (or along its Path, RFC 3327). Resolves with the final answer.
   */
  call(aorOrUser: string, options?: CallOptions): Promise<CallResult>;
  /** NOTIFY message-summary (RFC 3842): in its subscriptions, or unsolicited to its contacts. */
  notifyMessageWaiting(aorOrUser: string, mwi: MessageWaiting): Promise<ContactOutcome[]>;
  /** OPTIONS to every registered contact of the AOR. */
  ping(aorOrUser: string): Promise<ContactOutcome[]>;
  /** RFC 4733 DTMF in the call's RTP ("123#"); rejects when the call has no media or no telephone-event. */
  sendDtmf(callId: string, digits: string): Promise<void>;
  /** The DTMF digits received in a call (RFC 4733 and SIP INFO), as a string. */
  dtmf(callId: string): string;
  /** Per call: digits received and RTP statistics each way (live, or the last of an ended call). */
  media(callId?: string): CallMedia[];
  /** Throws a VerificationError unless the call (or, without callId, some call) received exactly these digits. */
  verifyDtmf(digits: string, options?: { callId?: string }): CallMedia;
  /** Dialogs alive (established by a 2xx to INVITE): Call-ID, tags, ACK received, the peer's last SDP. */
  dialogs(): DialogInfo[];
  /** Registrar bindings per address-of-record. */
  registrations(): Array<{ aor: string; contacts: Array<{ uri: string; expires: number }> }>;
  readonly metrics: Metrics;
  /** Journal cleared, overrides removed, scenario state reset. */
  reset(): void;
  /** Server transactions alive now (terminated ones are freed). */
  readonly activeTransactions: number;
  readonly activeDialogs: number;
  /** Calls the UA keeps state for (the initial INVITE of calls with media on); 0 once every call ended. */
  readonly trackedCalls: number;
  /** Stops: no new requests, in-flight transactions get `drainMs` to finish, captures flushed. */
  close(drainMs?: number): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A call's media as the journal and the admin API show it. */
export interface CallMedia {
  readonly callId: string;
  readonly dtmf: string;
  readonly digits: ReadonlyArray<{
    digit: string;
    durationMs: number;
    volume: number;
    via: "rfc4733" | "info";
    at: string;
  }>;
  readonly stats?: MediaStats;
}

export async function startSipMock(options: SipMockOptions = {}): Promise<SipMock> {
  const logger = options.logger ?? silentLogger;
  const wallNow = options.seams?.now ?? Date.now;
  const timers = resolveTimers(options.timers);
  const maxMessageSize = options.maxMessageSize ?? 65535;
  if (
    options.mediaPort !== undefined &&
    !(Number.isInteger(options.mediaPort) && options.mediaPort >= 1 && options.mediaPort <= 65535)
  ) {
    throw new RangeError(`mediaPort must be a port from 1 to 65535, not ${options.mediaPort}`);
  }
  const sharedPort = !options.listen || options.listen.length === 0;
  const specs: ListenSpec[] = (sharedPort ? EMBEDDED_LISTEN : options.listen!).map(parseListenSpec);
  const scenarioBounds = options.scenarioLimits ?? {};
  let scenario: Scenario = buildScenario(options.scenario, options.respond, scenarioBounds);
  /** From the options, else from the scenario; rebuilt when the scenario changes. */
  const authFor = (s: Scenario): Authenticator | undefined => {
    if (options.auth) return new Authenticator(options.auth, wallNow);
    const a = s instanceof ScenarioEngine ? s.auth : undefined;
    if (!a) return undefined;
    return new Authenticator(
      {
        realm: a.realm ?? options.realm ?? "sipmock",
        users: a.users,
        ...(a.algorithms ? { algorithms: a.algorithms } : {}),
        ...(a.qop ? { qop: a.qop } : {}),
        ...(a.methods ? { methods: a.methods } : {}),
        ...(a.proxy !== undefined ? { proxy: a.proxy } : {}),
        ...(a.nonceTtl !== undefined ? { nonceTtlMs: toMs(a.nonceTtl) } : {}),
        ...(a.wrongPassword ? { wrongPassword: a.wrongPassword } : {}),
      },
      wallNow,
    );
  };
  let authenticator = authFor(scenario);
  const withOverrides: Scenario = {
    get name() {
      return scenario.name;
    },
    decide: (facts) => overrides.decide(facts, scenario),
    describe: () => scenario.describe(),
    get messageSummary() {
      return scenario.messageSummary;
    },
    get reliableProvisionals() {
      return scenario.reliableProvisionals;
    },
    get eventPackages() {
      return scenario.eventPackages;
    },
    get mediaPort() {
      return scenario.mediaPort;
    },
  };
  const scheduler =
    options.seams?.scheduler ??
    new Scheduler(undefined, (err) =>
      logger.error(`internal error in a timer: ${(err as Error).stack ?? err}`),
    );
  const monotonic = options.seams?.scheduler ? () => scheduler.now() : () => performance.now();
  // Warnings, at most one line a second: a guessing client cannot flood the log.
  const failedLogins = new FailedLoginLog({
    warn: (line) => logger.warn(`${stamp()} ${line}`),
    now: monotonic,
    schedule: (ms, fn) => scheduler.schedule(ms, fn),
  });
  const capabilities: Capabilities = DEFAULT_CAPABILITIES;
  const server = options.serverHeader === false ? undefined : (options.serverHeader ?? `sipmock/${VERSION}`);
  const realm = options.realm ?? "sipmock";
  const subscribers = new Set<(event: MessageEvent) => void>();
  const limits = options.limits ?? {};
  const budgets: Budgets = createBudgets(limits.budgets);
  const journal = new Journal(options.journalSize ?? 10_000, budgets.journal.limit);
  const metrics = new Metrics();
  const lagMonitor = limits.eventLoopLag ? undefined : eventLoopLag();
  const overload = new OverloadDetector({
    budgets,
    maxLagMs: limits.maxEventLoopLagMs ?? 1000,
    lag: limits.eventLoopLag ?? lagMonitor!.lag,
    retryAfterS: limits.retryAfterS ?? 5,
    clock: { now: monotonic },
    report: (message) => logger.warn(`${stamp()} ${message}`),
  });
  const gate = new ConnectionGate(limits.connections);
  gate.report = (message) => logger.warn(`${stamp()} ${message}`);
  const knownPeers = new KnownPeers();
  let lastSentOnce = Number.NEGATIVE_INFINITY;
  metrics.limits = () => ({
    stores: Object.values(budgets).map((b) =>
      b.name === "journal"
        ? { name: b.name, used: journal.octets, limit: b.limit, items: journal.size }
        : { name: b.name, used: b.used, limit: b.limit, items: b.items },
    ),
    rejections: overload.rejections,
    lagMs: overload.lagMs,
    connectionsOpen: gate.open,
    connectionsRefused: gate.refused,
    connectionsClosed: gate.closed,
  });
  const overrides = new Overrides();
  const sinks: Array<{ write(e: JournalRecord): void; close(): void }> = [];
  if (options.journalFile) sinks.push(new JsonlSink(options.journalFile));
  const pcap = options.pcapFile ? new PcapWriter(options.pcapFile) : undefined;
  if (pcap) sinks.push(pcap);
  const rtpPorts = options.rtpPorts;
  if (
    rtpPorts &&
    !(
      rtpPorts[0] >= 1024 &&
      rtpPorts[1] <= 65535 &&
      rtpPorts[1] - rtpPorts[0] >= 1 &&
      Number.isInteger(rtpPorts[0])
    )
  ) {
    throw new RangeError(
      `rtpPorts must be a range of at least 2 ports within 1024-65535, not ${rtpPorts.join("-")}`,
    );
  }
  // Media off with a signalling-only port (--media-port): the SDP names it, no socket opens.
  const mediaEngine =
    options.mediaPort === undefined
      ? mediaEngineOrNone(
          {
            ...(rtpPorts ? { portRange: [rtpPorts[0], rtpPorts[1]] as const } : {}),
            ...(pcap && options.pcapRtp
              ? { capture: (packet, from, to) => pcap.writeUdp(packet, from, to) }
              : {}),
            onError: (err) => logger.warn(`${stamp()} media: ${err.message}`),
          },
          logger,
        )
      : undefined;
  // Metrics and captures see an entry after its turn of the event loop, when
  // it is complete (the rule that answered, whether it was a retransmission).
  let pending: JournalRecord[] = [];
  const drainPending = () => {
    const batch = pending;
    pending = [];
    for (const e of batch) {
      if (isMessage(e)) metrics.observe(e);
      for (const sink of sinks) {
        try {
          sink.write(e);
        } catch (err) {
          // A full disk or an odd message must not take the server down.
          logger.error(`capture write failed: ${(err as Error).message}`);
        }
      }
    }
  };
  journal.subscribe((e) => {
    if (pending.push(e) === 1) setImmediate(drainPending);
  });
  /**
   * Journals a message and tells the subscribers. The message is turned into
   * text and described once; an outgoing one's summary comes from that.
   */
  const emit = (
    event: Omit<MessageEvent, "entry" | "summary"> & { summary?: MessageSummary },
  ): MessageEvent => {
    const raw = event.bytes.toString("latin1");
    const described = describeMessage(raw);
    const entry = journal.add({
      time: new Date(event.time).toISOString(),
      direction: event.direction,
      transport: event.flow.transport,
      // The addresses the message really used: a connection the mock opened
      // has its own port, a datagram goes where 18.2.2 says (replyTo).
      local: event.flow.localSocket ?? event.flow.local,
      remote: event.direction === "out" ? destinationOf(event.flow) : event.flow.remote,
      raw,
      ...described,
      retransmission: event.retransmission,
    });
    const full: MessageEvent = {
      ...event,
      summary: event.summary ?? summarizeOutgoing(raw, described.callId),
      entry,
    };
    for (const s of subscribers) {
      try {
        s(full);
      } catch (err) {
        // A subscriber's bug (a test's callback) must not break the server.
        logger.error(`onMessage subscriber threw: ${(err as Error).stack ?? err}`);
      }
    }
    return full;
  };
  /** The inbound request being handled now, so the decision can name its rule in the journal. */
  let current: JournalEntry | undefined;
  /**
   * A digit in the journal: an RFC 4733 one with the RTP socket and the
   * packets' source, a SIP INFO one with the INFO's transport and addresses.
   */
  const journalDigit = (callId: string, d: DtmfDigit) => {
    const info = d.via === "info" && current?.callId === callId ? current : undefined;
    const where = info
      ? { transport: info.transport, local: info.local, remote: info.remote }
      : {
          transport: "udp" as const,
          ...(d.local ? { local: d.local } : {}),
          ...(d.source ? { remote: d.source } : {}),
        };
    journal.addMedia({
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
  };
  let draining = false;

  const listeners: Listener[] = [];
  // Keyed by the real local address: 127.0.0.1:P and [::1]:P are two listeners.
  const table = new ListenerTable();
  const listenerOf = (flow: Flow) => table.find(flow);
  const listenerFor = (flow: Flow) => listenerOf(flow)?.info;

  /**
   * Sends not completed yet, so shutdown lets them finish before closing the
   * sockets: a counter, and a waiter that exists only while closing.
   */
  let sending = 0;
  let allSent: (() => void) | undefined;
  const sendDone = () => {
    if (--sending === 0) allSent?.();
  };
  const sendRaw = (flow: Flow, bytes: Buffer, retransmission: boolean, failed?: (err: Error) => void) => {
    const listener = listenerOf(flow);
    if (!listener) {
      logger.warn(`no listener for ${flow.transport} ${hostPort(flow.local.address, flow.local.port)}`);
      return;
    }
    // Journaled and logged with the flow the bytes really take (a new
    // connection's, once the old one closed), right before they leave.
    sending++;
    listener
      .send(flow, bytes, (used) => sent(used, bytes, retransmission))
      .then(sendDone, (err: Error) => {
        sendDone();
        logger.warn(`send to ${peer(flow, "out")} failed: ${err.message}`);
        failed?.(err);
      });
  };
  const sent = (flow: Flow, bytes: Buffer, retransmission: boolean) => {
    const { summary } = emit({ direction: "out", flow, bytes, retransmission, time: wallNow() });
    logLine(logger, "out", flow, summary, bytes, retransmission);
  };

  const wire: FaultWire = {
    send: (flow, bytes) => sendRaw(flow, bytes, false),
    sendFromOtherPort: (flow, bytes) => {
      const listener = listenerOf(flow);
      if (!listener?.sendFromOtherPort) return;
      listener
        .sendFromOtherPort(flow, bytes, (used) => sent(used, bytes, false))
        .catch((err: Error) => logger.warn(`send to ${peer(flow, "out")} failed: ${err.message}`));
    },
    closeConnection: (flow, mode) => {
      logger.info(`${stamp()} fault: ${mode} the connection to ${peer(flow)}`);
      listenerOf(flow)?.closeConnection?.(flow, mode);
    },
  };

  const uas = new UserAgentServer(
    {
      scenario: () => withOverrides,
      wire,
      followUps: new FollowUpExecutor(),
      auth: () => authenticator,
      ...(options.registrar ? { registrar: options.registrar } : {}),
      ...(options.minSE !== undefined ? { minSE: options.minSE } : {}),
      ...(options.forceRport ? { forceRport: true } : {}),
      capabilities,
      ...(server ? { server } : {}),
      ...(options.advertise ? { advertise: options.advertise } : {}),
      realm,
      ringTimeoutMs: options.ringTimeoutMs ?? DEFAULT_RING_TIMEOUT_MS,
      ...(options.mediaPort !== undefined ? { mediaPort: options.mediaPort } : {}),
      ...(mediaEngine ? { mediaEngine } : {}),
      ...(options.symmetricRtp ? { symmetricRtp: true } : {}),
      rtpInactivityMs: options.rtpInactivityTimeoutMs ?? DEFAULT_RTP_INACTIVITY_MS,
      now: wallNow,
      timers,
      scheduler,
      listenerFor,
      listenerOn: (transport, ipv6) => {
        const of = listeners.filter((l) => l.info.transport === transport);
        // Same family, else a dual-stack wildcard.
        return (
          of.find((l) => l.info.address.includes(":") === ipv6) ?? of.find((l) => l.info.address === "::")
        )?.info;
      },
      budgets,
      overload,
      // RFC 3261 18.1.1: a TCP listener of the same address family carries
      // the mock's UDP requests that are too big for UDP.
      reliableFlow: (flow: Flow) => {
        const to = flow.replyTo ?? flow.remote;
        const tcp = listeners.find(
          (l) => l.info.transport === "tcp" && l.info.address.includes(":") === to.address.includes(":"),
        );
        if (!tcp) return undefined;
        return { transport: "tcp", local: { address: flow.local.address, port: tcp.info.port }, remote: to };
      },
      ...(limits.retransmitToUnknown
        ? {}
        : {
            mayRetransmit: (flow: Flow) => {
              return knownPeers.has((flow.replyTo ?? flow.remote).address);
            },
            sentOnce: (flow: Flow, method: string) => {
              metrics.sentOnce++;
              const now = Date.now();
              if (now - lastSentOnce < 1000) return;
              lastSentOnce = now;
              const to = flow.replyTo ?? flow.remote;
              logger.warn(
                `${stamp()} ${method} to udp:${hostPort(to.address, to.port)} sent once, not retransmitted: that address never sent the mock a datagram (--retransmit-to-unknown allows it)`,
              );
            },
          }),
    },
    {
      decided: (tx, decision) => {
        const callId = tx.request.core.callId;
        if (current) journal.ruleFor(current, decision.rule);
        else logger.info(`${stamp()} ${callId}: a DTMF digit re-decided the call: ${decision.rule}`);
        if (decision.kind === "drop") metrics.fault("drop");
        if (decision.kind === "drop" && current) journal.markFault(current, "drop (not answered)");
        if (decision.kind === "respond" && decision.fault) {
          for (const k of Object.keys(decision.fault)) metrics.fault(k);
        }
        if (decision.kind === "drop")
          logger.info(`${stamp()} ${callId}: dropped by ${decision.rule} (fault)`);
        else logger.debug(`${stamp()} ${callId}: ${tx.request.method} answered by ${decision.rule}`);
      },
      responded: (tx, built, fault) => {
        const labels = fault ? faultLabels(fault, built.status) : [];
        const omitted =
          built.omittedRequired.length > 0
            ? [`omitHeaders (the ${built.status} without ${built.omittedRequired.join(", ")})`]
            : [];
        const branch = tx.request.core.via[0]?.branch;
        if (branch) journal.faultFor(`${branch}/${tx.request.method}`, built.status, [...labels, ...omitted]);
        if (labels.length > 0)
          logger.info(`${stamp()} ${tx.request.core.callId}: fault: ${labels.join(", ")}`);
        if (built.omittedRequired.length > 0) {
          metrics.fault("omitHeaders");
          logger.info(
            `${stamp()} ${tx.request.core.callId}: fault: ${built.status} sent without required ${built.omittedRequired.join(", ")}`,
          );
        }
      },
      authFailed: (tx, username, reason) =>
        failedLogins.record({ username, reason, method: tx.request.method, peer: peer(tx.flow) }),
      note: (message) => logger.warn(`${stamp()} ${message}`),
      followUp: (f, outcome) => logger.info(`${stamp()} then: ${f.send}: ${outcome}`),
      dtmf: (callId, d) => {
        metrics.dtmf(d.via);
        journalDigit(callId, d);
        logger.info(
          `${stamp()} ${callId}: DTMF ${d.digit} (${d.via === "info" ? "SIP INFO" : "RFC 4733"}, ${d.durationMs} ms)`,
        );
      },
      mediaClosed: (callId, st, info) => {
        metrics.mediaClosed(st);
        // Only a call whose media was negotiated had media to report.
        if (info.codec)
          journal.addMedia({
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
        logger.info(
          `${stamp()} ${callId}: media: sent ${st.sent.packets} packets, received ${st.received.packets} (lost ${st.received.lost}, jitter ${st.received.jitterMs.toFixed(1)} ms)`,
        );
      },
      terminated: (tx, reason) => {
        if (reason === "timer-h") {
          logger.info(
            `${stamp()} ${tx.request.core.callId}: final response to INVITE never acknowledged (Timer H)`,
          );
        }
      },
    },
  );
  journal.digitsOf = (callId) => uas.media.digits(callId);
  const layer = new TransactionLayer(sendRaw, uas, scheduler, timers, budgets);
  uas.layer = layer;
  const stopKeepAlive = options.pingIntervalMs
    ? uas.requests.keepAlive(options.pingIntervalMs, (aor, o) =>
        logger.warn(`${stamp()} keep-alive OPTIONS to ${o.contact} (${aor}): ${o.status} ${o.reason}`),
      )
    : undefined;

  const onInbound = (msg: InboundMessage) => {
    // Every transport: the host of a phone (or proxy) that reached the mock over TCP is known too.
    knownPeers.add(msg.flow.remote.address);
    const summary = summarizeParse(msg.result);
    const request =
      msg.result.ok && msg.result.message.kind === "request"
        ? (msg.result.message as ParsedRequest)
        : undefined;
    // Known before anyone is told, so onMessage and waitFor see the truth.
    const retransmission = request !== undefined && layer.isRetransmission(request);
    logLine(logger, "in", msg.flow, summary, msg.bytes, retransmission);
    current = emit({
      direction: "in",
      flow: msg.flow,
      bytes: msg.bytes,
      summary,
      retransmission,
      time: msg.receivedAt,
    }).entry;
    try {
      handleInbound(msg);
    } catch (err) {
      // Nothing a peer sends may crash the server.
      logger.error(
        `internal error handling a message from ${peer(msg.flow)}: ${(err as Error).stack ?? err}`,
      );
    } finally {
      current = undefined;
    }
  };

  const handleInbound = (msg: InboundMessage) => {
    const { result, flow } = msg;
    if (result.ok) {
      if (result.message.kind === "response") {
        // Responses to the requests the mock sent (NOTIFY) go to their client
        // transaction (17.1.3); any other is dropped.
        if (!layer.receiveResponse(result.message as ParsedResponse)) {
          logger.debug(`dropping a response that matches no request we sent, from ${peer(flow)}`);
        }
        return;
      }
      const request = result.message as ParsedRequest;
      const replyFlow = responseFlow(flow, request.core.via[0], options.forceRport);
      // Shutting down: requests of transactions in flight (retransmissions,
      // ACK, CANCEL) are still handled; a new one gets the overload
      // refusals' stateless 503 + Retry-After (an ACK, nothing).
      if (draining && !layer.knows(request)) {
        logger.debug(`${stamp()} shutting down: refusing ${request.method} from ${peer(flow)}`);
        uas.refuseWhileDraining(request, replyFlow);
        return;
      }
      layer.receive(request, replyFlow, msg.bytes.length);
      return;
    }
    // 400/505/513 for requests we can answer: RFC 4475 3.1.2 and 21.4.1 ("The
    // reason phrase SHOULD identify the syntax problem in more detail").
    // Invalid responses and requests without a Via are dropped: nothing could
    // match an answer to them. ACK is never answered (17.1.1.3).
    const partial = result.error.partial;
    if (partial?.kind !== "request" || partial.method === "ACK" || !partial.headers.has("Via")) {
      logger.info(
        `${stamp()} dropped unanswerable message from ${peer(flow)}: ${printable(result.error.detail)}`,
      );
      return;
    }
    const { status, detail } = result.error;
    const local = localIdentity(flow, listenerFor(flow), undefined, options.advertise);
    const built = buildResponse(
      { ...(partial.method ? { method: partial.method } : {}), headers: partial.headers },
      { status, reason: status === 400 ? `Bad Request: ${detail}` : undefined, warning: detail },
      {
        local,
        capabilities,
        ...(server ? { server } : {}),
        toTag: randomBytes(6).toString("hex"),
        realm,
        nonce: () => randomBytes(16).toString("hex"),
        opaque: "",
      },
    );
    sendRaw(flow, built.bytes, false);
  };

  // TLS and WSS share one certificate: the user's, or a self-signed one for the listening hosts.
  let tls: Awaited<ReturnType<typeof tlsMaterial>> | undefined;
  try {
    tls = specs.some((s) => isSecure(s.transport))
      ? await tlsMaterial({
          ...options.tls,
          hosts: [
            ...(options.tls?.hosts ?? []),
            ...specs.map((s) => s.host),
            ...(options.advertise ? [options.advertise] : []),
          ],
        })
      : undefined;
  } catch (err) {
    for (const sink of sinks) sink.close();
    scheduler.stop();
    lagMonitor?.stop();
    throw err;
  }
  const pem = tls
    ? {
        key: tls.key,
        cert: tls.cert,
        ...(options.tls?.maxVersion ? { maxVersion: options.tls.maxVersion } : {}),
      }
    : undefined;
  const openListener = options.seams?.openListener;
  const open = (spec: ListenSpec): Promise<Listener> =>
    openListener
      ? openListener(spec, onInbound)
      : spec.transport === "udp"
        ? listenUdp(spec.host, spec.port, onInbound, { maxMessageSize })
        : spec.transport === "tcp"
          ? listenTcp(spec.host, spec.port, onInbound, { maxMessageSize, gate })
          : spec.transport === "tls"
            ? listenTcp(spec.host, spec.port, onInbound, {
                maxMessageSize,
                gate,
                ...(pem ? { tls: pem } : {}),
              })
            : listenWs(spec.host, spec.port, onInbound, {
                maxMessageSize,
                gate,
                ...(spec.transport === "wss" && pem ? { tls: pem } : {}),
              });
  try {
    if (sharedPort) {
      for (const listener of await sharedPortPair(specs[0]!.host, open)) {
        listeners.push(listener);
        table.add(listener);
      }
    }
    for (const spec of sharedPort ? [] : specs) {
      const listener = await open(spec);
      listeners.push(listener);
      table.add(listener);
    }
  } catch (err) {
    await Promise.all(listeners.map((l) => l.close()));
    scheduler.stop();
    lagMonitor?.stop();
    for (const sink of sinks) sink.close();
    const e = err as NodeJS.ErrnoException;
    if (e.code === "EADDRINUSE" || e.code === "EACCES" || e.code === "EADDRNOTAVAIL") {
      const spec = specs[listeners.length]!;
      throw new ListenError(
        `cannot listen on ${spec.transport}:${hostPort(spec.host, spec.port)}: ${e.code === "EADDRINUSE" ? "address already in use" : e.code === "EACCES" ? "permission denied" : "address not available"}`,
      );
    }
    throw err;
  }

  let closing: Promise<void> | undefined;
  /** Pending waitFor calls, rejected when the mock closes (their timers would keep the process alive). */
  const waiting = new Set<(e: Error) => void>();
  const close = (drainMs = options.drainMs ?? 0): Promise<void> => {
    closing ??= shutdown(drainMs);
    return closing;
  };
  const shutdown = async (drainMs: number) => {
    for (const reject of [...waiting]) reject(new Error("the mock was closed"));
    // Graceful: stop taking new requests, let transactions in flight finish
    // within the bound, then stop timers, flush captures, close sockets.
    draining = true;
    stopKeepAlive?.();
    const until = Date.now() + drainMs;
    // An INVITE that only rings would hold the drain to its end and then be
    // cut off unanswered: it gets its final answer (503) now. Those whose
    // answer is planned get the drain to send it.
    uas.answerOnShutdown(false);
    const settled = () => layer.unanswered === 0 && uas.unacknowledgedShutdownAnswers === 0;
    while (!settled() && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    // The drain is over: every INVITE still unanswered gets its 503 too.
    uas.answerOnShutdown(true);
    uas.close();
    await uas.media.closeAll();
    await mediaEngine?.close();
    layer.terminateAll();
    failedLogins.flush();
    scheduler.stop();
    // Answers just handed to the sockets go out before the sockets close (bounded).
    let flushTimer: NodeJS.Timeout | undefined;
    if (sending > 0) {
      await Promise.race([
        new Promise<void>((r) => {
          allSent = r;
        }),
        new Promise((r) => {
          flushTimer = setTimeout(r, SEND_FLUSH_MS);
        }),
      ]);
    }
    clearTimeout(flushTimer);
    lagMonitor?.stop();
    await Promise.all(listeners.map((l) => l.close()));
    drainPending();
    for (const sink of sinks) sink.close();
  };
  const mediaOf = (callId: string): CallMedia => {
    const stats = uas.media.stats(callId);
    return {
      callId,
      dtmf: uas.media.digits(callId),
      digits: uas.media.digitList(callId).map((d) => ({
        digit: d.digit,
        durationMs: d.durationMs,
        volume: d.volume,
        via: d.via,
        at: new Date(d.at).toISOString(),
      })),
      ...(stats ? { stats } : {}),
    };
  };
  const first = (transport?: TransportName) => {
    const l = transport ? listeners.find((x) => x.info.transport === transport) : listeners[0];
    if (!l) throw new Error(`no ${transport ?? ""} listener`);
    return l.info;
  };
  return {
    listeners: listeners.map((l) => l.info),
    ...(tls ? { tlsFingerprint: tls.fingerprint, tlsCertificate: tls.cert } : {}),
    address(transport) {
      const info = first(transport);
      return { host: info.address, port: info.port };
    },
    uri(transport, user) {
      const info = first(transport);
      const host = info.address === "0.0.0.0" ? "127.0.0.1" : info.address === "::" ? "::1" : info.address;
      return localUri({ host: formatHost(host), port: info.port, transport: info.transport }, user);
    },
    onMessage(listener) {
      subscribers.add(listener);
      return () => subscribers.delete(listener);
    },
    journal,
    metrics,
    overrides,
    requests(pattern = {}) {
      return findRequests(journal, checkPattern(pattern));
    },
    calls(filter) {
      // Each call with its digits and RTP statistics (journal entries are SIP messages only).
      return journal.calls(filter).map((c) => {
        const dtmf = uas.media.digits(c.callId);
        const stats = uas.media.stats(c.callId);
        return {
          ...c,
          ...(dtmf !== "" ? { dtmf } : {}),
          ...(stats ? { media: { sent: stats.sent, received: stats.received } } : {}),
        };
      });
    },
    verify(pattern, count = {}) {
      return verify(journal, checkPattern(pattern), count);
    },
    waitFor(pattern, { timeout = 5000 } = {}) {
      const p = checkPattern(pattern);
      const found = findRequests(journal, p)[0];
      if (found) return Promise.resolve(found);
      return new Promise<JournalEntry>((resolve, reject) => {
        const test = compileMatch(p);
        const cancel = (e: Error) => {
          clearTimeout(timer);
          stop();
          waiting.delete(cancel);
          reject(e);
        };
        waiting.add(cancel);
        const timer = setTimeout(() => {
          waiting.delete(cancel);
          stop();
          const lines = nearMisses(journal, p)
            .slice(0, 3)
            .map(
              (m) =>
                `  #${m.entry.id} ${m.entry.method} (Call-ID ${m.entry.callId}): ${m.differences.join("; ")}`,
            );
          reject(
            new VerificationError(
              `no request matching ${JSON.stringify(p)} within ${timeout} ms${lines.length ? `; closest:\n${lines.join("\n")}` : ""}`,
            ),
          );
        }, timeout);
        const stop = journal.subscribe((e) => {
          if (!isMessage(e) || e.retransmission) return;
          const f = factsOf(e, journal.digitsOf);
          if (f && test(f)) {
            clearTimeout(timer);
            stop();
            waiting.delete(cancel);
            resolve(e);
          }
        });
      });
    },
    override(pattern, action, opts = {}) {
      const info = overrides.add(pattern, action, opts);
      logger.info(`${stamp()} override ${info.id}: ${JSON.stringify(info.rule)}`);
      return info;
    },
    checkExpectations() {
      return checkExpectations(journal, scenario instanceof ScenarioEngine ? scenario.expectations : []);
    },
    registrations() {
      return uas.registrar.snapshot();
    },
    dialogs() {
      return uas.dialogs.list();
    },
    sendDtmf(callId, digits) {
      if (!/^[0-9*#A-Da-d]+$/.test(digits))
        return Promise.reject(
          new RangeError(`DTMF digits are 0-9, *, #, A-D, not ${JSON.stringify(digits)}`),
        );
      return uas.sendDtmf(callId, digits.toUpperCase());
    },
    dtmf(callId) {
      return uas.media.digits(callId);
    },
    media(callId) {
      return (callId === undefined ? uas.media.callIds() : [callId]).map(mediaOf);
    },
    verifyDtmf(digits, opts = {}) {
      const all = (opts.callId === undefined ? uas.media.callIds() : [opts.callId]).map(mediaOf);
      const hit = all.find((c) => c.dtmf === digits);
      if (hit) return hit;
      const seen = all.filter((c) => c.dtmf !== "").map((c) => `  ${c.callId}: "${c.dtmf}"`);
      throw new VerificationError(
        `expected DTMF "${digits}"${opts.callId ? ` in call ${opts.callId}` : " in some call"}; ${seen.length ? `received:\n${seen.join("\n")}` : "no digits received"}`,
      );
    },
    bye(callId) {
      return uas.hangUp(callId);
    },
    reinvite(callId, offer) {
      return uas.requests.reinvite(callId, offer);
    },
    update(callId) {
      return uas.requests.update(callId);
    },
    call(aorOrUser, callOptions) {
      return uas.requests.call(aorOrUser, callOptions);
    },
    notifyMessageWaiting(aorOrUser, mwi) {
      return uas.requests.notifyMessageWaiting(aorOrUser, mwi);
    },
    ping(aorOrUser) {
      return uas.requests.ping(aorOrUser);
    },
    reset() {
      journal.clear();
      uas.media.clear();
      overrides.clear();
      uas.cancelFollowUps();
      if (scenario instanceof ScenarioEngine) scenario.reset();
    },
    get scenario() {
      return scenario;
    },
    setScenario(next) {
      scenario =
        typeof next === "string" && next.includes("\n")
          ? scenarioFromYaml(next, "inline", {}, scenarioBounds)
          : buildScenario(next, options.respond, scenarioBounds);
      uas.cancelFollowUps();
      authenticator = authFor(scenario);
      logger.info(`${stamp()} scenario: ${scenario.name}`);
    },
    resetScenario() {
      if (scenario instanceof ScenarioEngine) scenario.reset();
    },
    get activeTransactions() {
      return layer.size;
    },
    get activeDialogs() {
      return uas.dialogs.size;
    },
    get trackedCalls() {
      return uas.trackedCalls;
    },
    close,
    [Symbol.asyncDispose]: () => close(),
  };
}

export class ListenError extends Error {}

/** An answered call with no RTP/RTCP for this long is hung up (--rtp-inactivity-timeout). */
const DEFAULT_RTP_INACTIVITY_MS = 60_000;

/** How long shutdown waits for sends in progress before closing the sockets. */
const SEND_FLUSH_MS = 1000;

/**
 * Files (validated, merged in order), a Scenario object, or the embedded
 * default; `respond` goes first, and without files it stands in front of
 * the built-in UAS alone: dial-a-code is not part of `respond`.
 */
function buildScenario(
  spec: SipMockOptions["scenario"],
  respond?: RespondOptions,
  limits: ScenarioLimits = {},
): Scenario {
  if (spec !== undefined && typeof spec !== "string" && !Array.isArray(spec)) {
    if (respond) throw new Error("respond and a Scenario object cannot be combined");
    return spec as Scenario;
  }
  const files = spec === undefined ? [] : typeof spec === "string" ? [spec] : (spec as readonly string[]);
  const sources =
    files.length > 0
      ? loadScenarioFiles(files, process.env, limits)
      : respond
        ? [builtinUasSource()]
        : [defaultScenarioSource()];
  return new ScenarioEngine(respond ? [respondScenarioSource(respond), ...sources] : sources);
}

/**
 * A scenario from YAML text (an admin call, a test): validated like a file
 * named "inline", but without the process environment (unless given) and
 * without body files, so a remote caller learns nothing of the host.
 */
export function scenarioFromYaml(
  text: string,
  name = "inline",
  env: NodeJS.ProcessEnv = {},
  limits: ScenarioLimits = {},
): ScenarioEngine {
  const r = parseScenario(text, name, env, { ...limits, allowFiles: false });
  if (!r.ok) throw new ScenarioLoadError(r.problems);
  return new ScenarioEngine([r.source]);
}

/** The media engine; when it cannot start, the mock runs signalling only and says so. */
function mediaEngineOrNone(o: Parameters<typeof createMediaEngine>[0], logger: Logger) {
  try {
    return createMediaEngine(o);
  } catch (e) {
    logger.warn(`${stamp()} media off (signalling only): ${(e as Error).message}`);
    return undefined;
  }
}

function stamp(): string {
  return new Date().toISOString();
}

/** The other end of a message: for one sent, where it went (replyTo over UDP, 18.2.2). */
function peer(flow: Flow, dir: Direction = "in"): string {
  const to = dir === "out" ? destinationOf(flow) : flow.remote;
  return `${flow.transport}:${hostPort(to.address, to.port)}`;
}

function logLine(
  logger: Logger,
  dir: Direction,
  flow: Flow,
  s: MessageSummary,
  bytes: Buffer,
  retrans: boolean,
): void {
  if (logger.level === "error" || logger.level === "warn") return;
  const arrow = dir === "in" ? "<-" : "->";
  const extra = retrans ? " (retransmission)" : "";
  const what = `${s.what}${s.callId ? ` ${s.callId}` : ""}`;
  logger.info(`${stamp()} ${arrow} ${peer(flow, dir)} ${printable(what)}${extra}`);
  if (logger.verbose) logger.info(printable(bytes.toString("latin1").replace(/\r\n$/, ""), true));
}
