/**
 * What an embedder passes to startSipMock() and gets back: the options, the
 * test seams, and the SipMock handle with the types its methods use.
 */
import type { MediaStats } from "../../media/index.js";
import type { ScenarioLimits } from "../../scenario/bounds.js";
import type { RespondOptions } from "../../scenario/builtin.js";
import type { Scenario } from "../../scenario/types.js";
import type { StoreName } from "../../transaction/budget.js";
import type { Scheduler } from "../../transaction/scheduler.js";
import type { TimerConfig } from "../../transaction/timers.js";
import type { TlsOptions } from "../../transport/certs.js";
import type { ConnectionLimits } from "../../transport/connection-limits.js";
import type { ListenSpec } from "../../transport/listen-spec.js";
import type { Flow, InboundHandler, Listener, ListenerInfo, TransportName } from "../../transport/types.js";
import type { AuthConfig } from "../../ua/auth/authenticator.js";
import type { DialogInfo } from "../../ua/dialogs.js";
import type {
  CallOptions,
  CallResult,
  ContactOutcome,
  MediaDirection,
  MessageWaiting,
  ReinviteOptions,
} from "../../ua/mock-requests.js";
import type { RegistrarOptions } from "../../ua/registrar.js";
import type { ClientOutcome } from "../../ua/uac.js";
import type { ExpectationResult } from "../expectations.js";
import type { Call, Journal, JournalEntry, JournalFilter } from "../journal.js";
import type { Logger } from "../logger.js";
import type { MessageSummary } from "../message-summary.js";
import type { Metrics } from "../metrics.js";
import type { OverrideInfo, Overrides } from "../overrides.js";
import type { CountExpectation, RequestPattern } from "../verify.js";

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

/** LimitOptions.maxQueueDelayMs with its embedded default (0: off, no probe sent). */
export function maxQueueDelayOf(limits: LimitOptions | undefined): number {
  return limits?.maxQueueDelayMs ?? 0;
}

export interface LimitOptions {
  /** UDP socket buffers in octets (SO_RCVBUF, SO_SNDBUF); default 4 MiB and 1 MiB, capped by the kernel (logged). */
  readonly udpBuffers?: { readonly receive?: number; readonly send?: number };
  /** Byte budget per store; defaults in DEFAULT_BUDGETS (registrar 64 MiB, transactions 256 MiB...). */
  readonly budgets?: Partial<Record<StoreName, number>>;
  /** Mean event-loop delay (ms) over a second above which new requests get 503. Default 1000; 0: off. */
  readonly maxEventLoopLagMs?: number;
  /** The event-loop delay source (tests inject one); default: how late a 100 ms timer fires, averaged over a second (overload.ts eventLoopLag). */
  readonly eventLoopLag?: () => number;
  /**
   * How long a UDP request may wait in the kernel's receive queue (ms)
   * before new requests (but those of a call the mock holds) get 503.
   * Default 0, off: an embedded mock shares its event loop with the code
   * around it (a test that blocks it for a second is not an overloaded
   * mock). The CLI sets T1 (500), when clients start to retransmit what the
   * mock has not read yet.
   */
  readonly maxQueueDelayMs?: number;
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

/** A media port that is no port: refused first, before the listen specs and the scenario are read. */
export function checkMediaPort(mediaPort: number | undefined): void {
  if (mediaPort !== undefined && !(Number.isInteger(mediaPort) && mediaPort >= 1 && mediaPort <= 65535)) {
    throw new RangeError(`mediaPort must be a port from 1 to 65535, not ${mediaPort}`);
  }
}

/** An RTP port range that cannot work: refused once the scenario loaded, before anything opens. */
export function checkRtpPorts(rtpPorts: SipMockOptions["rtpPorts"]): void {
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
}
