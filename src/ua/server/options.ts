/**
 * The UAS's configuration (UasOptions), what it reports (UasEvents) and the
 * transport access its faults need (FaultWire). uas.ts re-exports them.
 */
import type { DtmfDigit, MediaEngine, MediaStats } from "../../media/index.js";
import type { ParsedRequest } from "../../sip/message.js";
import type { Budgets } from "../../transaction/budget.js";
import type { OverloadDetector } from "../../transaction/overload.js";
import type { Scheduler } from "../../transaction/scheduler.js";
import type { ServerTransaction, TerminationReason } from "../../transaction/server-transaction.js";
import type { TimerConfig } from "../../transaction/timers.js";
import type { Flow, ListenerInfo } from "../../transport/types.js";
import type { Authenticator } from "../auth/authenticator.js";
import type { Capabilities } from "../local-context.js";
import type { MediaCallInfo } from "../media-calls.js";
import type { Decision, FollowUp, FollowUpRunner, Scenario, WireFault } from "../ports.js";
import type { RegistrarOptions } from "../registrar.js";
import type { ListenerLookup } from "../request-target.js";
import type { BuiltResponse } from "../response-builder.js";

/** Transport access the UAS needs only to carry out scenario faults. */
export interface FaultWire {
  /** Sends bytes outside any transaction (duplicate responses, stateless 503s; `retransmission`: a copy sent again). */
  send(flow: Flow, bytes: Buffer, retransmission?: boolean): void;
  sendFromOtherPort(flow: Flow, bytes: Buffer): void;
  closeConnection(flow: Flow, mode: "close" | "reset"): void;
}

export interface UasOptions {
  readonly scenario: () => Scenario;
  readonly wire: FaultWire;
  /** RFC 4028 Min-SE in seconds (default 90; lower only to test session timers quickly). */
  readonly minSE?: number;
  /** NAT mode (--force-rport): the mock's requests follow a peer's source address, not its Contact. */
  readonly forceRport?: boolean;
  /** Registrar limits (min/max/default expires, bindings per AOR). */
  readonly registrar?: Partial<RegistrarOptions>;
  /** Digest authentication before any rule (RFC 3261 22), when configured. */
  readonly auth?: () => Authenticator | undefined;
  /** Randomness for garbage bytes (seeded in tests). */
  readonly random?: () => number;
  readonly capabilities: Capabilities;
  readonly server?: string;
  readonly advertise?: string;
  readonly realm: string;
  readonly ringTimeoutMs: number;
  /** Signalling only: the RTP port the SDP names (--media-port), no RTP socket; else the scenario's `mediaPort:`. */
  readonly mediaPort?: number;
  /** Real RTP per call (--rtp-ports); absent: media off, the SDP names mediaPort or 40000. */
  readonly mediaEngine?: MediaEngine;
  /** Symmetric RTP: send to where the peer's RTP comes from (--symmetric-rtp). */
  readonly symmetricRtp?: boolean;
  /** An answered call with no RTP/RTCP received for this long is hung up (BYE with a Reason); 0 or absent: never. */
  readonly rtpInactivityMs?: number;
  readonly timers: TimerConfig;
  readonly scheduler: Scheduler;
  readonly listenerFor: (flow: Flow) => ListenerInfo | undefined;
  /** The first listener of a transport (IPv6 or not), for requests to a target on another transport. */
  readonly listenerOn?: ListenerLookup;
  /** Byte budgets of the registrar, dialogs and subscriptions (defaults when absent). */
  readonly budgets?: Budgets;
  /** When set, new requests are answered 503 with Retry-After while it says overloaded. */
  readonly overload?: OverloadDetector;
  /** Whether the mock's own requests on a UDP flow may be retransmitted (a destination that sent us a packet). */
  readonly mayRetransmit?: (flow: Flow) => boolean;
  /** One of the mock's own requests went out once, unretransmitted (for the log). */
  readonly sentOnce?: (flow: Flow, method: string) => void;
  /** A TCP flow to a UDP flow's destination, for the mock's requests over 1300 octets (RFC 3261 18.1.1). */
  readonly reliableFlow?: (flow: Flow) => Flow | undefined;
  /** Wall-clock time in ms (registrations, subscriptions); Date.now unless a test drives a clock. */
  readonly now?: () => number;
  /**
   * Runs a rule's `then:` requests (the scenario's executor,
   * scenario/follow-ups.ts); absent: each is reported as not sent.
   */
  readonly followUps?: FollowUpRunner;
}

/** What the UAS tells the outside world (logs, journal, tests). */
export interface UasEvents {
  decided?(tx: ServerTransaction, decision: Decision): void;
  /** A response went out; `fault` is what the scenario asked to break in it. */
  responded?(tx: ServerTransaction, built: BuiltResponse, fault?: WireFault): void;
  terminated?(tx: ServerTransaction, reason: TerminationReason): void;
  ack?(ack: ParsedRequest, matched: "transaction" | "dialog" | "none"): void;
  /** A retransmission of a request in flight arrived. */
  retransmission?(tx: ServerTransaction): void;
  /** Credentials were given and refused (wrong password, unknown user, replay...). */
  authFailed?(tx: ServerTransaction, username: string, reason: string): void;
  /** Something a SIP engineer wants to know about the peer (logged as a warning). */
  note?(message: string): void;
  /** A scenario `then:` request was sent (its answers) or could not be. */
  followUp?(followUp: FollowUp, outcome: string): void;
  /** A DTMF digit arrived in a call (RFC 4733 or SIP INFO). */
  dtmf?(callId: string, digit: DtmfDigit): void;
  /** A call's media ended, with its statistics. */
  mediaClosed?(callId: string, stats: MediaStats, info: MediaCallInfo): void;
}
