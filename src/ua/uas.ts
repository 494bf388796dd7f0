/**
 * The UAS core (RFC 3261 section 8.2 and 12-15): request validation in the
 * order the RFC gives, then the scenario's decision, then responses built
 * from the catalogue and sent through the server transaction.
 */
import { randomBytes } from "node:crypto";
import { type DtmfDigit, type MediaEngine, type MediaStats, parseDtmfRelay } from "../media/index.js";
import type { ParsedRequest } from "../sip/message.js";
import { isSipUri, isTelUri, uriUser } from "../sip/uri.js";
import { type Budgets, ITEM_OVERHEAD } from "../transaction/budget.js";
import { InviteServerTransaction } from "../transaction/invite-server-transaction.js";
import type { OverloadDetector, OverloadReason } from "../transaction/overload.js";
import type { Scheduler, TimerHandle } from "../transaction/scheduler.js";
import type { ServerTransaction, TerminationReason } from "../transaction/server-transaction.js";
import type { TimerConfig } from "../transaction/timers.js";
import {
  statelessTag,
  type TransactionLayer,
  type TransactionUser,
} from "../transaction/transaction-layer.js";
import type { Flow, ListenerInfo } from "../transport/types.js";
import type { Authenticator } from "./auth/authenticator.js";
import { type Dialog, DialogStore } from "./dialogs.js";
import { entityOf, eventBody, eventPackage, messageAccount, newETag, type Subscription } from "./events.js";
import { type Capabilities, localIdentity, localUri } from "./local-context.js";
import { type MediaCallInfo, MediaCalls } from "./media-calls.js";
import { allowsUpdate, MockRequests } from "./mock-requests.js";
import type { Decision, FollowUp, PlanStep, ResponsePlan, Scenario, WireFault } from "./ports.js";
import { DEFAULT_REGISTRAR, Registrar, type RegistrarOptions } from "./registrar.js";
import { bindingFlow, type ListenerLookup, targetFlow } from "./request-target.js";
import {
  type BuildContext,
  type BuiltResponse,
  buildResponse,
  type ResponseSpec,
} from "./response-builder.js";
import {
  answerOffer,
  createOffer,
  DEFAULT_MEDIA_PORT,
  newWebRtcIdentity,
  originOf,
  type SdpOrigin,
  type WebRtcIdentity,
} from "./sdp.js";
import { addrSpecOf, type ClientOutcome, UserAgentClient } from "./uac.js";
import { applyByteFaults } from "./wire-faults.js";

/** Transport access the UAS needs only to carry out scenario faults. */
export interface FaultWire {
  /** Sends bytes outside any transaction (duplicate responses). */
  send(flow: Flow, bytes: Buffer): void;
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

interface PendingInvite {
  readonly timers: TimerHandle[];
  /** No final answer is planned: it rings until CANCEL (or the ring timeout). */
  ringing?: boolean;
}

/**
 * Shutdown answers an INVITE still waiting for its final response with 503
 * (RFC 3261 21.5.4: the server is temporarily unable to process the request,
 * for maintenance) and Retry-After in seconds: short, as a mock is usually
 * restarted at once. 480 would blame the callee (21.4.18), not the server.
 */
export const SHUTDOWN_RETRY_AFTER_S = 5;

/** Option tags this UAS understands in Require (8.2.2.3). */
const UNDERSTOOD_OPTION_TAGS = new Set<string>(["timer", "100rel"]);

const DEFAULT_SUBSCRIPTION_S = 3600;
const MAX_SUBSCRIPTION_S = 86_400;
const MAX_SUBSCRIPTIONS = 10_000;

/** RFC 4028 4: the smallest session interval we accept (the RFC's floor is 90 s). */
export const MIN_SE = 90;

export class UserAgentServer implements TransactionUser {
  layer!: TransactionLayer;
  readonly registrar: Registrar;
  readonly dialogs: DialogStore;
  /** Requests the mock sends itself (BYE, re-INVITE, UPDATE, NOTIFY, OPTIONS, INVITE). */
  readonly requests: MockRequests;
  private readonly uac: UserAgentClient;
  private readonly pending = new Map<string, PendingInvite>();
  /** Requests dropped by a fault: a CANCEL for them gets its 200, the INVITE stays unanswered. */
  private readonly dropped = new Set<string>();
  /** Reliable provisional responses (RFC 3262) per INVITE transaction: next RSeq, retransmission timers. */
  private readonly reliable = new Map<string, { next: number; timers: Map<number, TimerHandle> }>();
  /** Call-ID|RSeq|CSeq -> INVITE transaction, to match a PRACK's RAck. */
  private readonly prackIndex = new Map<string, string>();
  /** Active subscriptions (RFC 6665), by Call-ID and tags. */
  private readonly subscriptions = new Map<string, Subscription>();
  /** Entity tags of live publications (RFC 3903). */
  private readonly publications = new Set<string>();
  /** The SDP origin of an initial INVITE's answer, until its 2xx makes the dialog. */
  private readonly sdpOrigins = new Map<string, SdpOrigin>();
  /** The WebRTC identity of an initial INVITE's answer, until its 2xx makes the dialog. */
  private readonly webrtcIds = new Map<string, WebRtcIdentity>();
  /** In-dialog INVITEs in progress, to clear their dialog's flag when they end (14.2). */
  private readonly reInvites = new Map<string, { readonly dialog: Dialog; readonly tx: ServerTransaction }>();
  /** A rule's `then:` requests, sent once its final answer went out. */
  private readonly followUps = new Map<string, readonly FollowUp[]>();
  private readonly followUpTimers = new Set<TimerHandle>();
  /** INVITEs answered 503 by the shutdown, whose ACK the drain waits for. */
  private readonly shutdownAnswered = new Set<ServerTransaction>();
  /** Shutting down: ending dialogs puts nothing on the wire. */
  private closing = false;
  /** Requests held back by the afterRetransmissions fault. */
  private readonly awaiting = new Map<string, { remaining: number; answer: () => void }>();
  private readonly opaque = randomBytes(8).toString("hex");
  /** RTP sessions and DTMF digits per call. */
  readonly media: MediaCalls;
  /** The initial INVITE of each call with media, for decisions a digit triggers. */
  private readonly invites = new Map<string, ParsedRequest>();

  constructor(
    private readonly options: UasOptions,
    private readonly events: UasEvents = {},
  ) {
    this.dialogs = new DialogStore(options.scheduler, options.timers, options.budgets?.dialogs);
    this.media = new MediaCalls(options.mediaEngine, options.symmetricRtp === true, {
      digit: (callId, d) => {
        this.events.dtmf?.(callId, d);
        this.onDigit(callId);
      },
      closed: (callId, stats, info) => {
        this.invites.delete(callId);
        this.events.mediaClosed?.(callId, stats, info);
      },
      error: (e) => this.events.note?.(`media: ${e.message}`),
      inactive: (callId, ms) => {
        const why = `no RTP received for ${ms / 1000} s`;
        this.events.note?.(`${callId}: ${why}: hanging up`);
        this.endMedia(callId);
        this.requests.hangUp(callId, why);
      },
    });
    this.media.inactivityMs = options.rtpInactivityMs ?? 0;
    this.registrar = new Registrar(
      { ...DEFAULT_REGISTRAR, ...options.registrar },
      options.now ?? Date.now,
      options.budgets?.registrar,
    );
    // 15.1.2: when a dialog ends, a re-INVITE of the peer still pending in
    // it is answered: "It is RECOMMENDED that a 487 (Request Terminated)
    // response be generated to those pending requests."
    this.dialogs.onEnded = (dialog) => {
      if (this.dialogs.byCallId(dialog.callId).length <= 1) this.endMedia(dialog.callId);
      if (this.closing) return;
      for (const { dialog: d, tx } of [...this.reInvites.values()]) {
        if (d !== dialog || (tx.lastResponse?.status !== undefined && tx.lastResponse.status >= 200))
          continue;
        this.cancelPending(tx);
        this.awaiting.delete(tx.id);
        this.dropped.delete(tx.id);
        this.followUps.delete(tx.id);
        this.send(tx, { status: 487, warning: "the dialog ended before this re-INVITE was answered" });
      }
    };
    this.uac = new UserAgentClient({
      layer: () => this.layer,
      identity: (flow) => this.identityOfFlow(flow),
      sendRaw: (flow, bytes) => options.wire.send(flow, bytes),
      scheduler: options.scheduler,
      route: (flow, uri, direct) =>
        (direct ? bindingFlow : targetFlow)(flow, uri, options.forceRport === true, options.listenerOn),
      ...(options.mayRetransmit ? { mayRetransmit: options.mayRetransmit } : {}),
      ...(options.sentOnce ? { sentOnce: options.sentOnce } : {}),
      ...(options.reliableFlow ? { reliableFlow: options.reliableFlow } : {}),
      ...(options.server ? { userAgent: options.server } : {}),
    });
    this.requests = new MockRequests({
      uac: this.uac,
      dialogs: this.dialogs,
      registrar: this.registrar,
      scheduler: options.scheduler,
      capabilities: options.capabilities,
      mediaPort: (callId?: string) => this.mediaPort(callId),
      offerable: (codecs) => {
        if (!this.mediaOn()) return codecs;
        const ok = codecs.filter((c) => this.media.codecs().some((m) => m.name === c.name));
        return ok.length > 0 ? ok : this.media.codecs();
      },
      media: {
        prepare: async (callId, flow, directive) => {
          if (!this.mediaOn()) return false;
          await this.media.prepare(callId, this.rtpBindAddress(flow));
          this.media.direct(callId, directive ?? {});
          return this.media.portOf(callId) !== undefined;
        },
        answered: (callId, offer, answer, final) =>
          this.media.negotiated(callId, offer, answer, false, final),
        close: (callId) => this.endMedia(callId),
      },
      identity: (flow) => this.identityOfFlow(flow),
      noAnswerMs: options.ringTimeoutMs,
      // A re-INVITE is answered at once by any UA; one held in Proceeding
      // (blocking every other INVITE of the dialog, 14.1) is cancelled sooner.
      inDialogNoAnswerMs: Math.min(options.ringTimeoutMs, 64 * options.timers.t1),
      natMode: options.forceRport === true,
      ...(options.listenerOn ? { listenerOn: options.listenerOn } : {}),
      subscriptionsFor: (user, pkg) =>
        [...this.subscriptions.values()].filter(
          (sub) => sub.pkg === pkg && /^sip:([^@]*)@/.exec(sub.entity)?.[1] === user,
        ),
      notifyIn: (sub, state, content) => this.notify(sub, state, content),
      now: options.now ?? Date.now,
    });
  }

  /**
   * Issue 10 item 4: under overload a new request gets 503 with Retry-After
   * (RFC 3261 21.5.4) at once and statelessly, so an overloaded mock keeps no
   * transaction for it; retransmissions of requests in flight never get here
   * (their transactions absorb them).
   */
  refuse(request: ParsedRequest, flow: Flow): boolean {
    const overload = this.options.overload;
    if (!overload) return false;
    const initial = !request.core.to.tag;
    const store =
      initial && request.method === "INVITE"
        ? "dialogs"
        : initial && request.method === "SUBSCRIBE"
          ? "subscriptions"
          : undefined;
    const cost = store ? ITEM_OVERHEAD[store] + request.body.length : 0;
    const reason = overload.check(store, cost);
    if (!reason) return false;
    this.sendOverloaded(request, flow, reason);
    return true;
  }

  /** Overloaded: a 503 with Retry-After outside any transaction (8.2.6, like a stateless UAS). */
  private sendOverloaded(request: ParsedRequest, flow: Flow, reason: OverloadReason): void {
    this.sendUnavailable(
      request,
      flow,
      `overloaded (${reason === "event-loop-lag" ? "event-loop lag" : `${reason} budget spent`})`,
    );
    this.options.overload!.refused(reason);
  }

  /**
   * Shutting down (the drain): a new request gets the overload refusals'
   * stateless 503 with Retry-After, so its client tries again later or
   * elsewhere instead of timing out. ACK is never answered (17.1.1.3).
   */
  refuseWhileDraining(request: ParsedRequest, flow: Flow): void {
    if (request.method === "ACK") return;
    this.sendUnavailable(request, flow, "sipmock is shutting down");
  }

  /** A 503 with Retry-After outside any transaction; the To tag per 8.2.7 (statelessTag). */
  private sendUnavailable(request: ParsedRequest, flow: Flow, warning: string): void {
    const local = localIdentity(flow, this.options.listenerFor(flow), undefined, this.options.advertise);
    const built = buildResponse(
      { method: request.method, headers: request.headers, hasToTag: !!request.core.to.tag },
      {
        status: 503,
        headers: [["Retry-After", String(this.options.overload?.retryAfterS ?? 5)]],
        warning,
      },
      {
        local,
        capabilities: this.capabilities(),
        ...(this.options.server ? { server: this.options.server } : {}),
        toTag: request.core.to.tag || statelessTag(request),
        realm: this.options.realm,
        nonce: () => "",
        opaque: this.opaque,
      },
    );
    this.options.wire.send(flow, built.bytes);
  }

  onRequest(tx: ServerTransaction): void {
    const req = tx.request;
    if (req.method === "CANCEL") {
      this.handleCancel(tx);
      return;
    }
    const rejection = this.validate(tx);
    if (rejection) {
      this.send(tx, rejection);
      return;
    }
    const tooSmall = req.method === "INVITE" ? sessionIntervalTooSmall(req, this.options.minSE) : undefined;
    if (tooSmall) {
      this.send(tx, tooSmall);
      return;
    }
    const dialogCheck = this.checkDialog(tx);
    if (dialogCheck) {
      this.send(tx, dialogCheck);
      return;
    }
    // 22.1: the UAS challenges with 401 (a proxy with 407) until the request
    // carries valid credentials; only then does the scenario see it.
    const auth = this.options.auth?.();
    if (auth?.appliesTo(req.method)) {
      const outcome = auth.check(req);
      if (!outcome.ok) {
        if (outcome.failure) this.events.authFailed?.(tx, outcome.failure.username, outcome.failure.reason);
        this.send(tx, outcome.response);
        return;
      }
    }
    if (req.method === "INFO") this.infoDigit(req);
    const decision = this.decide(tx);
    this.events.decided?.(tx, decision);
    if (req.method === "INVITE" && decision.kind !== "drop" && this.mediaOn()) {
      if (!req.core.to.tag) this.invites.set(req.core.callId, req);
      this.media.direct(req.core.callId, decision.media);
    }
    if (decision.kind === "drop") {
      this.dropped.add(tx.id);
      // Fault: no answer at all. The transaction absorbs the client's
      // retransmissions silently and is freed once the client has given up
      // (Timer B/F = 64*T1, RFC 3261 17.1.1.2 / 17.1.2.2).
      this.abandonLater(tx);
      return;
    }
    if (decision.followUps) this.followUps.set(tx.id, decision.followUps);
    const answer = () => {
      // 17.2.1: the INVITE server transaction "MUST generate a 100 (Trying)
      // response unless it knows that the TU will generate a provisional or
      // final response within 200 ms". We always send it at once.
      if (req.method === "INVITE") this.send(tx, { status: 100 });
      if (decision.kind === "default") this.builtIn(tx);
      else this.runPlan(tx, decision.steps, decision.final, decision.fault);
    };
    const wait = decision.kind === "respond" ? decision.fault?.afterRetransmissions : undefined;
    if (wait) {
      // Fault: the request is ignored until `wait` retransmissions of it arrived.
      this.awaiting.set(tx.id, { remaining: wait, answer });
      this.abandonLater(tx);
      return;
    }
    answer();
  }

  private decide(tx: ServerTransaction, trigger?: "dtmf"): Decision {
    const req = tx.request;
    return this.decideFor(req, tx.flow, trigger);
  }

  private decideFor(req: ParsedRequest, flow: Flow, trigger?: "dtmf"): Decision {
    const dtmf = this.media.digits(req.core.callId);
    return this.options.scenario().decide({
      method: req.method,
      ...(uriUser(req.uri) !== undefined ? { requestUser: uriUser(req.uri) } : {}),
      ...(isSipUri(req.uri) ? { requestHost: req.uri.host } : {}),
      transport: flow.transport,
      sourceAddress: flow.remote.address,
      sourcePort: flow.remote.port,
      hasBody: req.body.length > 0,
      request: req,
      dtmf,
      ...(trigger ? { trigger } : {}),
    });
  }

  /** SIP INFO with application/dtmf-relay (Signal=, Duration=): a digit of the call. */
  private infoDigit(req: ParsedRequest): void {
    const type = (req.headers.get("Content-Type") ?? "").split(";")[0]!.trim().toLowerCase();
    if (type !== "application/dtmf-relay") return;
    const relay = parseDtmfRelay(req.body.toString("latin1"));
    if (relay) this.media.noteInfoDigit(req.core.callId, relay.digit, relay.durationMs);
    else this.events.note?.(`${req.core.callId}: INFO application/dtmf-relay without a valid Signal=`);
  }

  /**
   * A digit arrived: the rules with `match: { dtmf }` are asked again. While
   * the INVITE is unanswered their answer replaces the pending plan (an IVR:
   * "press 1 for 486"); in an answered call only their `then:` requests run.
   */
  private onDigit(callId: string): void {
    if (this.closing) return;
    const pending = this.layer
      ?.pendingInvites()
      .find((t) => t.request.core.callId === callId && !t.request.core.to.tag);
    if (pending) {
      const decision = this.decide(pending, "dtmf");
      if (decision.kind !== "respond") return;
      this.events.decided?.(pending, decision);
      if (decision.media) this.media.direct(callId, decision.media);
      this.cancelPending(pending);
      if (decision.followUps) this.followUps.set(pending.id, decision.followUps);
      this.runPlan(pending, decision.steps, decision.final, decision.fault);
      return;
    }
    const invite = this.invites.get(callId);
    const dialog = this.dialogs.byCallId(callId)[0];
    if (!invite || !dialog?.peer) return;
    const decision = this.decideFor(invite, dialog.peer.flow, "dtmf");
    if (decision.kind === "drop") return;
    if (decision.media) this.media.direct(callId, decision.media);
    if (decision.followUps) this.runFollowUps(decision.followUps, invite);
  }

  /** RFC 4733 digits in the call's RTP (API, then: DTMF). */
  sendDtmf(callId: string, digits: string): Promise<void> {
    return this.media.sendDtmf(callId, digits);
  }

  onRetransmission(tx: ServerTransaction): void {
    this.events.retransmission?.(tx);
    const w = this.awaiting.get(tx.id);
    if (!w) return;
    w.remaining -= 1;
    if (w.remaining > 0) return;
    this.awaiting.delete(tx.id);
    this.cancelPending(tx);
    w.answer();
  }

  /**
   * 12.2.2 and 14.2 for a request inside a dialog we know: out-of-order CSeq
   * gets 500; a second INVITE while one is in progress gets 500 with
   * Retry-After (0..10 s). Requests for unknown dialogs are left to the
   * scenario (the built-in behaviour answers 481).
   */
  private checkDialog(tx: ServerTransaction): ResponseSpec | undefined {
    const req = tx.request;
    if (!req.core.to.tag || req.method === "ACK" || req.method === "CANCEL") return undefined;
    const dialog = this.dialogs.find(req.core.callId, req.core.to.tag, req.core.from.tag);
    if (!dialog) return undefined;
    const seq = req.core.cseq.seq;
    if (!dialog.receiveCseq(seq)) {
      return {
        status: 500,
        warning: `CSeq ${seq} is lower than ${dialog.remoteCseq}, already seen in this dialog`,
      };
    }
    // 14.2: "A UAS that receives an INVITE on a dialog while an INVITE it
    // had sent on that dialog is in progress MUST return a 491 (Request
    // Pending)"; RFC 3311 5.2 says the same of an UPDATE with an offer.
    if (
      dialog.localInviteInProgress &&
      (req.method === "INVITE" || (req.method === "UPDATE" && req.body.length > 0))
    ) {
      return { status: 491, warning: "the mock's own re-INVITE is in progress in this dialog" };
    }
    if (req.method === "INVITE") {
      if (dialog.inviteInProgress) {
        return {
          status: 500,
          headers: [["Retry-After", String(Math.floor(Math.random() * 11))]],
          warning: "another INVITE of this dialog is still in progress",
        };
      }
      dialog.startRemoteInvite();
      this.reInvites.set(tx.id, { dialog, tx });
    }
    return undefined;
  }

  /** Frees an unanswered transaction after 64*T1, when any client has given up. */
  private abandonLater(tx: ServerTransaction): void {
    const timer = this.options.scheduler.schedule(64 * this.options.timers.t1, () => {
      this.awaiting.delete(tx.id);
      this.dropped.delete(tx.id);
      this.pending.delete(tx.id);
      if (!tx.lastResponse) tx.terminate("abandoned");
    });
    this.pending.set(tx.id, { timers: [timer] });
  }

  onAck(ack: ParsedRequest): void {
    // 13.3.1.4: the ACK for a 2xx stops its retransmissions.
    const dialog = this.dialogs.find(ack.core.callId, ack.core.to.tag, ack.core.from.tag);
    if (dialog) {
      this.dialogs.confirm(dialog);
      // 13.2.1: "If the initial offer is in the first reliable non-failure
      // message from the UAS back to the UAC, the answer MUST be in the
      // acknowledgement for that message".
      if (ack.body.length > 0) {
        dialog.recordRemoteSdp(ack.body.toString("latin1"));
        if (dialog.offeredIn2xx) this.media.remoteAnswer(dialog.callId, dialog.remoteSdp!);
      } else if (dialog.offeredIn2xx) {
        this.events.note?.(
          `${ack.core.callId}: the ACK carries no SDP answer to the offer in our 2xx (RFC 3261 13.2.1)`,
        );
      }
      dialog.clearExpectedAnswer();
    }
    this.events.ack?.(ack, dialog ? "dialog" : "none");
  }

  onTerminated(tx: ServerTransaction, reason: TerminationReason): void {
    this.sdpOrigins.delete(tx.id);
    this.webrtcIds.delete(tx.id);
    this.followUps.delete(tx.id);
    this.stopReliable(tx);
    const dialog = this.reInvites.get(tx.id)?.dialog;
    if (dialog) {
      dialog.endRemoteInvite();
      this.reInvites.delete(tx.id);
    }
    this.cancelPending(tx);
    this.awaiting.delete(tx.id);
    this.dropped.delete(tx.id);
    this.events.terminated?.(tx, reason);
  }

  /** Stops every pending plan and dialog timer (shutdown). */
  /** Scenario `then:` requests not sent yet are forgotten (reset, a new scenario, shutdown). */
  cancelFollowUps(): void {
    for (const t of this.followUpTimers) t.cancel();
    this.followUpTimers.clear();
    this.followUps.clear();
  }

  /**
   * Shutdown: INVITEs still waiting for their final response get 503 with
   * Retry-After, so clients are not left to time out. `all` false: only
   * those whose final answer is not on its way (ringing until CANCEL, held
   * by a fault); true (the drain's end): every one. Returns how many.
   */
  answerOnShutdown(all: boolean): number {
    let n = 0;
    for (const tx of this.layer.pendingInvites()) {
      const p = this.pending.get(tx.id);
      if (!all && p && !p.ringing && !this.dropped.has(tx.id)) continue;
      this.cancelPending(tx);
      this.awaiting.delete(tx.id);
      this.send(tx, {
        status: 503,
        headers: [["Retry-After", String(SHUTDOWN_RETRY_AFTER_S)]],
        warning: "sipmock is shutting down",
      });
      this.shutdownAnswered.add(tx);
      n++;
    }
    return n;
  }

  /** Shutdown 503s not acknowledged yet (their transaction still in Completed, 17.2.1). */
  get unacknowledgedShutdownAnswers(): number {
    let n = 0;
    for (const tx of this.shutdownAnswered) if (tx.state === "completed") n++;
    return n;
  }

  /** Calls whose initial INVITE is kept for digit decisions (tests, metrics). */
  get trackedCalls(): number {
    return this.invites.size;
  }

  /** The call ended: its media closes and its INVITE is forgotten (with or without an RTP session). */
  private endMedia(callId: string): void {
    this.invites.delete(callId);
    this.media.close(callId);
  }

  close(): void {
    this.closing = true;
    this.shutdownAnswered.clear();
    this.cancelFollowUps();
    for (const s of this.subscriptions.values()) s.cancel?.();
    this.subscriptions.clear();
    this.options.budgets?.subscriptions.reset();
    for (const p of this.pending.values()) for (const t of p.timers) t.cancel();
    this.pending.clear();
    this.dialogs.clear();
    this.invites.clear();
  }

  /**
   * 8.2.1-8.2.3, in the order the RFC gives them; the first failing check
   * answers. Method inspection (501/405) is left to the built-in behaviour
   * so that a scenario can answer any method.
   */
  private validate(tx: ServerTransaction): ResponseSpec | undefined {
    const req = tx.request;
    // 8.2.2.1: "If the Request-URI uses a scheme not supported by the UAS,
    // it SHOULD reject the request with a 416 (Unsupported URI Scheme)".
    if (!isSipUri(req.uri) && !isTelUri(req.uri)) {
      return { status: 416, warning: `URI scheme "${req.uri.scheme}" is not supported` };
    }
    // 8.2.2.2: merged requests get 482 (Loop Detected).
    if (this.layer.findMergedWith(req, tx)) return { status: 482, warning: "merged request" };
    // 8.2.2.3: "If a UAS does not understand an option-tag listed in a
    // Require header field, it MUST respond by generating a response with
    // status code 420 (Bad Extension). The UAS MUST add an Unsupported
    // header field, and list in it those options it does not understand".
    // ACK and CANCEL are exempt (ACK never gets here).
    // A scenario can say the mock does not do 100rel (reliableProvisionals: never).
    const never = this.options.scenario().reliableProvisionals === "never";
    const unknown = req.headers
      .getAll("Require")
      .map((t) => t.trim())
      .filter(
        (t) =>
          t !== "" &&
          (!UNDERSTOOD_OPTION_TAGS.has(t.toLowerCase()) || (never && t.toLowerCase() === "100rel")),
      );
    if (unknown.length > 0) return { status: 420, headers: [["Unsupported", unknown.join(", ")]] };
    // 8.2.3: "If there are any bodies whose type (indicated by the
    // Content-Type), language (indicated by the Content-Language) or
    // encoding (indicated by the Content-Encoding) are not understood [...]
    // the UAS MUST reject the request with a 415 (Unsupported Media Type)
    // response. The response MUST contain an Accept header field listing
    // the types of all bodies it understands".
    if (req.body.length > 0 && bodyIsSession(req.method)) {
      const type = (req.headers.get("Content-Type") ?? "").split(";")[0]!.trim().toLowerCase();
      const accepted = this.options.capabilities.accept.map((a) => a.toLowerCase());
      if (!accepted.includes(type)) {
        return { status: 415, warning: `Content-Type "${type || "(none)"}" is not accepted` };
      }
      const encodings = req.headers.getAll("Content-Encoding").map((e) => e.toLowerCase());
      if (encodings.some((e) => e !== "identity")) {
        return { status: 415, warning: `Content-Encoding "${encodings.join(", ")}" is not supported` };
      }
    }
    return undefined;
  }

  /** RFC 3261 9.2: CANCEL is answered, and a pending INVITE gets 487. */
  private handleCancel(tx: ServerTransaction): void {
    const invite = this.layer.findInviteFor(tx.request);
    if (!invite) {
      // 9.2: "If the UAS did not find a matching transaction for the CANCEL
      // according to the procedure above, it SHOULD respond to the CANCEL
      // with a 481 (Call Leg/Transaction Does Not Exist)."
      this.send(tx, { status: 481 });
      return;
    }
    // 9.2: "the To tag of the response to the CANCEL and the To tag in the
    // response to the original request SHOULD be the same".
    this.send(tx, { status: 200 }, invite.toTag);
    if (this.dropped.has(invite.id)) return;
    this.awaiting.delete(invite.id);
    if (invite.state === "proceeding") {
      // 9.2: "If the original request was an INVITE, the UAS SHOULD
      // immediately respond to the INVITE with a 487 (Request Terminated)."
      this.cancelPending(invite);
      this.send(invite, { status: 487 });
    }
    // Otherwise the final response was already sent: "the CANCEL request has
    // no effect on the processing of the original request".
  }

  /** The built-in behaviour for a method when no rule answered (the "any other user" default). */
  private builtIn(tx: ServerTransaction): void {
    const req = tx.request;
    switch (req.method) {
      case "INVITE": {
        if (req.core.to.tag) {
          // 14.2: a re-INVITE (hold, resume, new codecs) is answered at once
          // with an SDP answer; one for a dialog we do not know gets 481 (12.2.2).
          if (!this.inDialog(tx)) {
            this.send(tx, { status: 481 });
            return;
          }
          this.runPlan(tx, [], { status: 200, body: "sdp" });
          return;
        }
        this.runPlan(tx, [{ send: { status: 180 } }], { status: 200, body: "sdp" });
        return;
      }
      case "UPDATE": {
        // RFC 3311 5.2: an UPDATE with an offer gets the answer in its 200.
        if (!this.inDialog(tx)) {
          this.send(tx, { status: 481 });
          return;
        }
        this.runPlan(tx, [], req.body.length > 0 ? { status: 200, body: "sdp" } : { status: 200 });
        // RFC 4028 7.4: an UPDATE can refresh the session too.
        const dlg = this.dialogs.find(req.core.callId, req.core.to.tag, req.core.from.tag);
        if (dlg && req.body.length > 0) dlg.recordRemoteSdp(req.body.toString("latin1"));
        if (dlg) this.armSessionTimer(dlg, withSessionTimer(req, { status: 200 }));
        return;
      }
      case "INFO": {
        if (!this.inDialog(tx)) {
          this.send(tx, { status: 481 });
          return;
        }
        // RFC 6086 4.2.2: an Info Package we did not say we accept (we accept
        // none) gets 469 with Recv-Info; legacy INFO without one gets 200.
        if (req.headers.has("Info-Package")) {
          this.send(tx, { status: 469 });
          return;
        }
        this.send(tx, { status: 200 });
        return;
      }
      case "PRACK":
        this.handlePrack(tx);
        return;
      case "SUBSCRIBE":
        this.handleSubscribe(tx);
        return;
      case "PUBLISH":
        this.handlePublish(tx);
        return;
      case "REFER":
        this.handleRefer(tx);
        return;
      case "MESSAGE":
        // RFC 3428 7: a UAS that accepts the message answers 200.
        this.send(tx, { status: 200 });
        return;
      case "REGISTER": {
        const outcome = this.registrar.register(req, tx.flow);
        if (!outcome.ok) {
          if (outcome.status === 503) {
            this.options.overload?.refused("registrar");
            this.send(tx, {
              status: 503,
              headers: [["Retry-After", String(this.options.overload?.retryAfterS ?? 5)]],
              warning: outcome.detail,
            });
            return;
          }
          this.send(
            tx,
            outcome.status === 423
              ? { status: 423, headers: [["Min-Expires", String(outcome.minExpires)]] }
              : { status: 400, warning: outcome.detail },
          );
          return;
        }
        const headers: Array<[string, string]> = this.registrar
          .contactRows(outcome.bindings)
          .map((c) => ["Contact", c] as [string, string]);
        // RFC 3327 5.3: the Path stored, echoed to a UA that supports it.
        const path = req.headers.getAll("Path");
        if (path.length > 0 && listsTag(req, "Supported", "path"))
          for (const p of path) headers.push(["Path", p]);
        // 10.3 step 8: "The response SHOULD include a Date header field."
        headers.push(["Date", new Date().toUTCString()]);
        this.send(tx, { status: 200, headers });
        return;
      }
      case "OPTIONS": {
        // 11.2: "Allow, Accept, Accept-Encoding, Accept-Language, and
        // Supported header fields SHOULD be present in a 200 (OK) response".
        const c = this.capabilities();
        const headers: Array<[string, string]> = [
          ["Allow", c.allow.join(", ")],
          ["Accept", c.accept.join(", ")],
          ["Accept-Encoding", c.acceptEncoding.join(", ")],
          ["Accept-Language", c.acceptLanguage.join(", ")],
          ["Supported", c.supported.join(", ")],
        ];
        this.send(tx, { status: 200, headers });
        return;
      }
      case "BYE": {
        // 15.1.2: "If the BYE does not match an existing dialog, the UAS core
        // SHOULD generate a 481 (Call/Transaction Does Not Exist) response".
        const dialog = this.dialogs.find(req.core.callId, req.core.to.tag, req.core.from.tag);
        if (!dialog) {
          this.send(tx, { status: 481 });
          return;
        }
        this.dialogs.end(dialog);
        this.send(tx, { status: 200 });
        return;
      }
      default:
        // 8.2.1: "If a UAS does not understand the method, it returns 501".
        this.send(tx, {
          status: this.options.capabilities.allow.includes(req.method) ? 405 : 501,
          headers: [["Allow", this.options.capabilities.allow.join(", ")]],
        });
    }
  }

  private reliableState(tx: ServerTransaction) {
    let s = this.reliable.get(tx.id);
    if (!s) {
      // 3262 3: RSeq is between 1 and 2**31 - 1; start low and random.
      s = { next: 1 + Math.floor(Math.random() * 2 ** 20), timers: new Map<number, TimerHandle>() };
      this.reliable.set(tx.id, s);
    }
    return s;
  }

  /** 3262 3: retransmit at T1, doubling, until PRACK; after 64*T1 reject the INVITE with a 5xx. */
  private retransmitReliably(tx: ServerTransaction, rseq: number, status: number, bytes: Buffer): void {
    const state = this.reliableState(tx);
    this.prackIndex.set(`${tx.request.core.callId}|${rseq}|${tx.request.core.cseq.seq}`, tx.id);
    const giveUpAfter = 64 * this.options.timers.t1;
    let interval = this.options.timers.t1;
    let elapsed = 0;
    const tick = () => {
      // 3262 3: the interval doubles; the last wait ends at 64*T1 exactly.
      const wait = Math.min(interval, giveUpAfter - elapsed);
      const timer = this.options.scheduler.schedule(wait, () => {
        if (tx.state !== "proceeding") return;
        elapsed += wait;
        if (elapsed >= giveUpAfter) {
          this.stopReliable(tx);
          this.cancelPending(tx);
          this.send(tx, {
            status: 504,
            warning: `reliable ${status} (RSeq ${rseq}) was never acknowledged with PRACK`,
          });
          return;
        }
        tx.respond(status, bytes);
        interval *= 2;
        tick();
      });
      state.timers.set(rseq, timer);
    };
    tick();
  }

  private stopReliable(tx: ServerTransaction): void {
    const state = this.reliable.get(tx.id);
    if (!state) return;
    for (const t of state.timers.values()) t.cancel();
    this.reliable.delete(tx.id);
    for (const [k, id] of this.prackIndex) if (id === tx.id) this.prackIndex.delete(k);
  }

  /** RFC 3262 7.2: PRACK names the response it acknowledges in RAck: "rseq cseq method". */
  private handlePrack(tx: ServerTransaction): void {
    const req = tx.request;
    const m = /^\s*(\d+)\s+(\d+)\s+INVITE\s*$/i.exec(req.headers.get("RAck") ?? "");
    const key = m ? `${req.core.callId}|${Number(m[1])}|${Number(m[2])}` : undefined;
    const inviteId = key ? this.prackIndex.get(key) : undefined;
    if (!m || !key || !inviteId) {
      // 3262 3: a PRACK that matches no unacknowledged reliable provisional gets 481.
      this.send(tx, {
        status: 481,
        warning: m
          ? "no unacknowledged reliable provisional response matches RAck"
          : "missing or malformed RAck",
      });
      return;
    }
    this.prackIndex.delete(key);
    this.reliable.get(inviteId)?.timers.get(Number(m[1]))?.cancel();
    this.send(tx, { status: 200 });
  }

  /** RFC 6665 4.2.1: accept, answer 200 with Expires, NOTIFY at once; Expires 0 ends it. */
  private handleSubscribe(tx: ServerTransaction): void {
    const req = tx.request;
    const pkg = eventPackage(req);
    // 6665 4.2.1.2 / 8.3.2: an unknown package gets 489 with Allow-Events.
    if (!pkg || !this.capabilities().allowEvents.includes(pkg)) {
      this.send(tx, { status: 489, warning: `event package ${pkg ?? "(none)"} is not supported` });
      return;
    }
    const key = `${req.core.callId}|${tx.toTag}|${req.core.from.tag ?? ""}`;
    const requested = Number(
      /^\s*(\d+)/.exec(req.headers.get("Expires") ?? "")?.[1] ?? DEFAULT_SUBSCRIPTION_S,
    );
    const expires = Math.min(requested, MAX_SUBSCRIPTION_S);
    const contact = req.headers.get("Contact");
    const target = addrSpecOf(contact, req.uri.raw);
    let sub = this.subscriptions.get(key);
    if (!sub) {
      sub = {
        key,
        pkg,
        event: req.headers.get("Event")!,
        entity: entityOf(req),
        target,
        from: `${req.headers.get("To")!.replace(/;\s*tag\s*=[^;]*/i, "")};tag=${tx.toTag}`,
        to: req.headers.get("From")!,
        callId: req.core.callId,
        routeSet: req.headers.getAll("Record-Route"),
        flow: tx.flow,
        cseq: 0,
        expiresAt: 0,
      };
      if (this.subscriptions.size >= MAX_SUBSCRIPTIONS) {
        // Answered, not dropped: nobody else's subscription is ended to make room.
        this.options.overload?.refused("subscriptions");
        this.send(tx, {
          status: 503,
          headers: [["Retry-After", String(this.options.overload?.retryAfterS ?? 5)]],
          warning: `${MAX_SUBSCRIPTIONS} subscriptions are active`,
        });
        return;
      }
      sub.cost = subscriptionCost(sub);
      this.options.budgets?.subscriptions.charge(sub.cost);
      this.subscriptions.set(key, sub);
    }
    sub.target = target;
    sub.cancel?.();
    this.send(tx, {
      status: 200,
      headers: [
        ["Expires", String(expires)],
        ["Contact", `<${localUri(this.identity(tx), "sipmock")}>`],
      ],
    });
    if (expires === 0) {
      // 6665 4.2.1.4: an unsubscribe (or fetch) gets a final NOTIFY.
      this.endSubscription(sub, true, "timeout");
      return;
    }
    sub.expiresAt = (this.options.now ?? Date.now)() + expires * 1000;
    void this.notify(
      sub,
      `active;expires=${expires}`,
      eventBody(
        pkg,
        sub.entity,
        this.options.scenario().messageSummary,
        // Only message-summary names an account: no registrar lookup for other packages.
        pkg === "message-summary" ? messageAccount(this.registrar, sub.entity) : undefined,
      ),
    );
    const timer = this.options.scheduler.schedule(expires * 1000, () =>
      this.endSubscription(sub!, true, "timeout"),
    );
    sub.cancel = () => timer.cancel();
  }

  private endSubscription(sub: Subscription, notify: boolean, reason = "timeout"): void {
    sub.cancel?.();
    if (this.subscriptions.get(sub.key) === sub) {
      this.subscriptions.delete(sub.key);
      this.options.budgets?.subscriptions.release(sub.cost ?? 0);
    }
    if (notify) void this.notify(sub, `terminated;reason=${reason}`, undefined);
  }

  /** A NOTIFY in the subscription's dialog, through a client transaction (RFC 3261 17.1.2). */
  private async notify(
    sub: Subscription,
    state: string,
    content: { type: string; body: string } | undefined,
  ): Promise<ClientOutcome> {
    sub.cseq += 1;
    const id = this.identityOfFlow(sub.flow);
    const outcome = await this.uac.request(sub.flow, {
      method: "NOTIFY",
      requestUri: sub.target,
      from: sub.from,
      to: sub.to,
      callId: sub.callId,
      cseq: sub.cseq,
      routeSet: sub.routeSet,
      contact: `<${localUri(id, "sipmock")}>`,
      headers: [
        ["Event", sub.event],
        ["Subscription-State", state],
      ],
      ...(content ? { body: { contentType: content.type, content: content.body } } : {}),
    });
    // RFC 6665 4.2.2: a NOTIFY answered 481 (or timed out) ends the subscription.
    if (outcome.status === 481 || outcome.status === 408) {
      if (this.subscriptions.get(sub.key) === sub) this.endSubscription(sub, false);
    }
    return outcome;
  }

  /** RFC 4028 10 from the Session-Expires our 2xx carried: "uac" is the caller, "uas" the mock. */
  private armSessionTimer(dialog: Dialog, spec: ResponseSpec): void {
    const se = spec.headers?.find(([n]) => n === "Session-Expires")?.[1];
    if (se) this.requests.armSessionTimer(dialog, se, /refresher\s*=\s*uas/i.test(se));
  }

  /** Ends a dialog from our side (RFC 3261 15.1.1); `unconfirmed`: without waiting for the ACK. */
  bye(dialog: Dialog, why: string, unconfirmed = false): boolean {
    return this.requests.bye(dialog, why, unconfirmed);
  }

  /** Hangs up every dialog of a call (API / admin). */
  hangUp(callId: string): number {
    return this.requests.hangUp(callId, "hung up by the mock's API");
  }

  private identityOfFlow(flow: Flow) {
    return localIdentity(flow, this.options.listenerFor(flow), undefined, this.options.advertise);
  }

  /** RFC 3903 6: PUBLISH keeps an entity tag per publication; an unknown SIP-If-Match gets 412. */
  private handlePublish(tx: ServerTransaction): void {
    const req = tx.request;
    const pkg = eventPackage(req);
    if (!pkg || !this.capabilities().allowEvents.includes(pkg)) {
      this.send(tx, { status: 489, warning: `event package ${pkg ?? "(none)"} is not supported` });
      return;
    }
    const ifMatch = req.headers.get("SIP-If-Match")?.trim();
    if (ifMatch !== undefined && !this.publications.has(ifMatch)) {
      this.send(tx, { status: 412, warning: `no publication with entity tag ${ifMatch}` });
      return;
    }
    const expires = Math.min(
      Number(/^\s*(\d+)/.exec(req.headers.get("Expires") ?? "")?.[1] ?? 3600),
      MAX_SUBSCRIPTION_S,
    );
    if (ifMatch !== undefined) this.publications.delete(ifMatch);
    if (expires === 0) {
      this.send(tx, { status: 200, headers: [["Expires", "0"]] });
      return;
    }
    const etag = newETag();
    this.publications.add(etag);
    if (this.publications.size > MAX_SUBSCRIPTIONS)
      this.publications.delete(this.publications.values().next().value!);
    this.send(tx, {
      status: 200,
      headers: [
        ["SIP-ETag", etag],
        ["Expires", String(expires)],
      ],
    });
  }

  /** RFC 3515 with RFC 7647: 200 (never 202), then a NOTIFY whose sipfrag reports the outcome. */
  private handleRefer(tx: ServerTransaction): void {
    const req = tx.request;
    if (req.headers.getRows("Refer-To").length !== 1) {
      this.send(tx, { status: 400, warning: "a REFER needs exactly one Refer-To (RFC 3515 2.4.1)" });
      return;
    }
    this.send(tx, { status: 200, headers: [["Contact", `<${localUri(this.identity(tx), "sipmock")}>`]] });
    const contact = req.headers.get("Contact");
    // In a dialog, the NOTIFY takes the dialog's next local CSeq (12.2.1.1).
    const dialog = this.dialogs.find(req.core.callId, req.core.to.tag, req.core.from.tag);
    const peer = dialog?.peer;
    const cseq = peer ? dialog!.nextLocalCseq() - 1 : 0;
    const sub: Subscription = {
      key: `refer|${req.core.callId}|${req.core.cseq.seq}`,
      pkg: "refer",
      event: `refer;id=${req.core.cseq.seq}`,
      entity: entityOf(req),
      target: addrSpecOf(contact, req.uri.raw),
      from: req.core.to.tag ? req.headers.get("To")! : `${req.headers.get("To")!};tag=${tx.toTag}`,
      to: req.headers.get("From")!,
      callId: req.core.callId,
      routeSet: peer?.routeSet ?? req.headers.getAll("Record-Route"),
      flow: tx.flow,
      cseq,
      expiresAt: 0,
    };
    // The mock does not place the referred call; it reports success at once.
    void this.notify(sub, "terminated;reason=noresource", {
      type: "message/sipfrag;version=2.0",
      body: "SIP/2.0 200 OK\r\n",
    });
  }

  private inDialog(tx: ServerTransaction): boolean {
    const req = tx.request;
    return this.dialogs.find(req.core.callId, req.core.to.tag, req.core.from.tag) !== undefined;
  }

  private runPlan(
    tx: ServerTransaction,
    steps: readonly PlanStep[],
    final: ResponsePlan | undefined,
    fault?: WireFault,
  ): void {
    // RFC 3264: one answer per offer, computed before any response so that a
    // 183 and the 2xx carry the same answer, and an unacceptable offer gets
    // 488 at once (13.3.1.3) instead of ringing first.
    const plans = [...steps.flatMap((s) => ("send" in s ? [s.send] : [])), ...(final ? [final] : [])];
    let sdp: Buffer | undefined;
    const callId = tx.request.core.callId;
    if (
      plans.some((p) => p.body === "sdp") &&
      this.mediaOn() &&
      !this.isWebRtc(tx) &&
      this.media.portOf(callId) === undefined
    ) {
      // The SDP names the real port: allocate the call's RTP/RTCP pair first.
      this.media.prepare(callId, this.rtpBindAddress(tx.flow)).then(
        () => {
          // Answered meanwhile (CANCEL's 487, shutdown's 503): the port is not needed.
          const answered = tx.lastResponse !== undefined && tx.lastResponse.status >= 200;
          if (tx.state === "terminated" || answered) {
            if (!tx.request.core.to.tag) this.endMedia(callId);
            return;
          }
          this.runPlan(tx, steps, final, fault);
        },
        (e: Error) => {
          this.events.note?.(`${callId}: no RTP port: ${e.message}`);
          this.send(tx, { status: 503, headers: [["Retry-After", "5"]], warning: "no RTP port free" });
        },
      );
      return;
    }
    if (plans.some((p) => p.body === "sdp")) {
      // RFC 3261 21.4.7 / RFC 4475 3.3.15: when Accept rules out SDP, the
      // answer cannot be formulated: 406 with a Warning saying why.
      if (!acceptsSdp(tx.request.headers)) {
        this.send(tx, {
          status: 406,
          warning: "Accept does not include application/sdp; cannot send the session answer",
        });
        return;
      }
      const made = this.sessionDescription(tx);
      if (!Buffer.isBuffer(made)) {
        this.send(tx, made);
        return;
      }
      sdp = made;
    }
    const timers: TimerHandle[] = [];
    const entry: PendingInvite = { timers };
    this.pending.set(tx.id, entry);
    let delay = 0;
    const at = (ms: number, fn: () => void) => {
      if (ms === 0) fn();
      else timers.push(this.options.scheduler.schedule(ms, fn));
    };
    for (const step of steps) {
      if ("waitMs" in step) delay += step.waitMs;
      else {
        const plan = step.send;
        at(delay, () => this.sendPlan(tx, plan, sdp));
      }
    }
    const finish = final
      ? () => {
          this.pending.delete(tx.id);
          this.sendPlan(tx, final, sdp, fault);
        }
      : () => {
          // No final answer: ring until CANCEL, then give up with 480.
          entry.ringing = true;
          timers.push(
            this.options.scheduler.schedule(this.options.ringTimeoutMs, () => {
              this.pending.delete(tx.id);
              this.send(tx, { status: 480, warning: "no answer: ring timeout" });
            }),
          );
        };
    at(delay, finish);
  }

  /**
   * The RTP port our SDP names: the call's real one when media is on;
   * else the signalling-only port (option, scenario, or 40000, where
   * nothing listens; WebRTC media is not supported either).
   */
  private mediaPort(callId?: string): number {
    const real = callId !== undefined ? this.media.portOf(callId) : undefined;
    return real ?? this.options.mediaPort ?? this.options.scenario().mediaPort ?? DEFAULT_MEDIA_PORT;
  }

  /** Real RTP: an engine, and no signalling-only port asked for (--media-port, `mediaPort:`). */
  private mediaOn(): boolean {
    return (
      this.media.enabled &&
      this.options.mediaPort === undefined &&
      this.options.scenario().mediaPort === undefined
    );
  }

  /**
   * Where the call's RTP sockets bind: the SIP listener's own address (a
   * wildcard stays a wildcard). The SDP names the advertised address
   * (--advertise), which may not be local (NAT, a container).
   */
  private rtpBindAddress(flow: Flow): string {
    return this.options.listenerFor(flow)?.address ?? flow.local.address;
  }

  private isWebRtc(tx: ServerTransaction): boolean {
    const ws = tx.flow.transport === "ws" || tx.flow.transport === "wss";
    return ws || /SAVPF/i.test(tx.request.body.toString("latin1"));
  }

  /** The dialog's WebRTC identity, or one kept for the transaction until its 2xx makes the dialog. */
  private webrtcIdentity(tx: ServerTransaction, dialog: Dialog | undefined): WebRtcIdentity {
    if (dialog) {
      return dialog.ensureWebrtc(newWebRtcIdentity);
    }
    let id = this.webrtcIds.get(tx.id);
    if (!id) {
      id = newWebRtcIdentity();
      this.webrtcIds.set(tx.id, id);
    }
    return id;
  }

  /** The SDP answer to the request's offer, an offer when it had none, or a 488 (RFC 3264, RFC 3261 13.2.1). */
  private sessionDescription(tx: ServerTransaction): Buffer | ResponseSpec {
    const local = this.identity(tx);
    const offer = tx.request.body.toString("latin1");
    // RFC 3264 8: inside a dialog, our next description keeps the session id
    // of the last one and increments its version.
    const req = tx.request;
    const dialog = req.core.to.tag
      ? this.dialogs.find(req.core.callId, req.core.to.tag, req.core.from.tag)
      : undefined;
    const origin = dialog?.sdpOrigin
      ? { origin: { sessionId: dialog.sdpOrigin.sessionId, version: dialog.sdpOrigin.version + 1 } }
      : {};
    // A WebSocket peer is a browser: only a WebRTC offer will do. Its ICE
    // credentials and fingerprint stay the same for the whole dialog.
    const ws = tx.flow.transport === "ws" || tx.flow.transport === "wss";
    const webrtc = ws || /SAVPF/i.test(offer) ? this.webrtcIdentity(tx, dialog) : undefined;
    const port = this.mediaPort(req.core.callId);
    const codecs = this.mediaOn() && !webrtc ? this.media.codecs() : undefined;
    const result =
      offer.trim() === ""
        ? {
            sdp: createOffer(local.host, port, codecs, {
              ...origin,
              ...(ws && webrtc ? { webrtc } : {}),
            }),
          }
        : answerOffer(offer, local.host, port, codecs, {
            ...origin,
            ...(webrtc ? { webrtc } : {}),
            // Real media: the call's one RTP socket goes to the first accepted audio line.
            ...(codecs ? { singleStream: true } : {}),
          });
    if (result.sdp) {
      const origin = originOf(result.sdp);
      if (origin) {
        if (dialog) dialog.recordSdpOrigin(origin);
        else this.sdpOrigins.set(tx.id, origin);
      }
      return Buffer.from(result.sdp);
    }
    // 21.4.26: 488 "SHOULD include a Warning header field value explaining
    // why the offer was rejected" (codes 304/305, 20.43).
    const w = result.warning!;
    return { status: 488, headers: [["Warning", `${w.code} ${local.host}:${local.port} "${w.text}"`]] };
  }

  private cancelPending(tx: ServerTransaction): void {
    const p = this.pending.get(tx.id);
    if (!p) return;
    for (const t of p.timers) t.cancel();
    this.pending.delete(tx.id);
  }

  private sendPlan(
    tx: ServerTransaction,
    plan: ResponsePlan,
    sdp: Buffer | undefined,
    fault?: WireFault,
  ): void {
    if (tx.state === "terminated") return;
    const spec: { -readonly [K in keyof ResponseSpec]: ResponseSpec[K] } = {
      status: plan.status,
      ...(plan.reason !== undefined ? { reason: plan.reason } : {}),
      ...(plan.headers ? { headers: plan.headers } : {}),
      ...(plan.removeHeaders ? { removeHeaders: plan.removeHeaders } : {}),
    };
    // RFC 3261 13.2.1 / RFC 6337 2.1: with no offer in the INVITE, the offer
    // goes in the 2xx, never in an unreliable provisional response.
    const offerInInvite = tx.request.body.length > 0;
    let mediaSdp: Buffer | undefined;
    if (plan.body === "sdp" && sdp && (plan.status >= 200 || offerInInvite)) {
      spec.body = { contentType: "application/sdp", data: sdp };
      mediaSdp = sdp;
    } else if (plan.body && plan.body !== "sdp") {
      // Template output is already octets (see scenario/template.ts toWire).
      spec.body = { contentType: plan.body.contentType, data: Buffer.from(plan.body.content, "latin1") };
    }
    this.send(tx, spec, tx.toTag, fault);
    if (mediaSdp && plan.status < 300 && this.mediaOn()) {
      const callId = tx.request.core.callId;
      const local = mediaSdp.toString("latin1");
      if (offerInInvite) {
        const answered = plan.status >= 200;
        this.media.negotiated(callId, local, tx.request.body.toString("latin1"), true, answered);
      } else this.media.offered(callId, local);
    }
  }

  /**
   * What this UAS says it does (Allow-Events, Supported), as the scenario
   * narrows it: `eventPackages:` and `reliableProvisionals: never`.
   */
  private capabilities(): Capabilities {
    const base = this.options.capabilities;
    const scenario = this.options.scenario();
    const packages = scenario.eventPackages;
    const never = scenario.reliableProvisionals === "never";
    if (!packages && !never) return base;
    return {
      ...base,
      ...(packages ? { allowEvents: packages } : {}),
      ...(never ? { supported: base.supported.filter((t) => t !== "100rel") } : {}),
    };
  }

  private identity(tx: ServerTransaction) {
    const uri = tx.request.uri;
    return localIdentity(
      tx.flow,
      this.options.listenerFor(tx.flow),
      isSipUri(uri) ? uri.host : undefined,
      this.options.advertise,
      uri.scheme === "sips",
    );
  }

  private send(tx: ServerTransaction, spec: ResponseSpec, toTag = tx.toTag, fault?: WireFault): void {
    if (tx.state === "terminated") return;
    const req = tx.request;
    const ctx: BuildContext = {
      local: this.identity(tx),
      capabilities: this.capabilities(),
      ...(this.options.server ? { server: this.options.server } : {}),
      toTag,
      realm: this.options.realm,
      nonce: () => randomBytes(16).toString("hex"),
      opaque: this.opaque,
    };
    const user = uriUser(req.uri);
    // RFC 4028 9: a 2xx to a session refresh (INVITE or UPDATE) carries Session-Expires.
    if ((req.method === "INVITE" || req.method === "UPDATE") && spec.status >= 200 && spec.status < 300)
      spec = withSessionTimer(req, spec);
    // RFC 3262 3: when the INVITE requires 100rel, provisionals (but 100) are
    // sent reliably: Require: 100rel and an RSeq, retransmitted until PRACK.
    let rseq: number | undefined;
    if (
      req.method === "INVITE" &&
      spec.status > 100 &&
      spec.status < 200 &&
      sendsReliably(req, this.options.scenario().reliableProvisionals ?? "required")
    ) {
      const state = this.reliableState(tx);
      rseq = state.next++;
      spec = { ...spec, headers: [...(spec.headers ?? []), ["Require", "100rel"], ["RSeq", String(rseq)]] };
    }
    const built = buildResponse(
      {
        method: req.method,
        headers: req.headers,
        hasToTag: req.core.to.tag !== undefined && req.core.to.tag !== "",
        ...(user !== undefined ? { requestUser: user } : {}),
      },
      spec,
      ctx,
    );
    const wire = this.options.wire;
    const random = this.options.random ?? Math.random;
    const bytes = fault ? applyByteFaults(built.bytes, fault, random) : built.bytes;
    const firstFinal = tx.state === "proceeding";
    tx.respond(built.status, bytes, {
      ...(fault?.noRetransmit ? { noRetransmit: true } : {}),
      ...(fault?.fromOtherPort && tx.flow.transport === "udp"
        ? { deliver: (b: Buffer) => wire.sendFromOtherPort(tx.flow, b) }
        : {}),
    });
    this.events.responded?.(tx, built, fault);
    if (rseq !== undefined) this.retransmitReliably(tx, rseq, built.status, bytes);
    if (built.status >= 200) {
      // 3262 3: a final response ends the reliable provisionals'
      // retransmissions; a PRACK for one of them that arrives afterwards
      // still matches (it is acknowledged, not unknown) until the
      // transaction ends.
      for (const t of this.reliable.get(tx.id)?.timers.values() ?? []) t.cancel();
      // 14.2: the dialog's INVITE is no longer in progress once it is answered.
      const dialog = this.reInvites.get(tx.id)?.dialog;
      if (dialog) {
        dialog.endRemoteInvite();
        this.reInvites.delete(tx.id);
      }
    }
    for (let i = 0; i < (fault?.duplicate ?? 0); i++) wire.send(tx.flow, bytes);
    if (fault?.tcp && tx.flow.transport !== "udp") wire.closeConnection(tx.flow, fault.tcp);
    if (
      req.method === "INVITE" &&
      built.status >= 200 &&
      built.status < 300 &&
      firstFinal &&
      tx instanceof InviteServerTransaction
    ) {
      // 13.3.1.4: the UAS core retransmits the 2xx until the ACK; the
      // transport is reliable for TCP, where only the give-up timer runs.
      const resend =
        tx.flow.transport === "udp" && !fault?.noRetransmit
          ? () => tx.respond(built.status, bytes)
          : undefined;
      const dialog = this.dialogs.accept(
        req.core.callId,
        toTag,
        req.core.from.tag ?? "",
        resend,
        (d) =>
          // 13.3.1.4: "If the server retransmits the 2xx response for 64*T1
          // seconds without receiving an ACK, the dialog is confirmed, but the
          // session SHOULD be terminated. This is accomplished with a BYE".
          this.bye(d, "ACK for the 2xx never received (RFC 3261 13.3.1.4)", true),
        dialogOctets(req),
      );
      // No usable Contact, no remote target: the mock cannot send in this dialog.
      const target = addrSpecOf(req.headers.get("Contact"), "");
      if (target) {
        // 12.1.1: remote target from Contact, route set from Record-Route.
        if (dialog.peer) dialog.retarget(target);
        else
          dialog.setPeer({
            target,
            from: `${req.headers.get("To")!.replace(/;\s*tag\s*=[^;]*/i, "")};tag=${toTag}`,
            to: req.headers.get("From")!,
            routeSet: req.headers.getAll("Record-Route"),
            flow: tx.flow,
            localCseq: 0,
            allowsUpdate: allowsUpdate(req.headers.getAll("Allow")),
          });
      }
      this.armSessionTimer(dialog, spec);
      if (req.body.length > 0) dialog.recordRemoteSdp(req.body.toString("latin1"));
      else if (spec.body?.contentType === "application/sdp") dialog.expectAnswerInAck();
      const origin = this.sdpOrigins.get(tx.id);
      if (origin && !dialog.sdpOrigin) dialog.recordSdpOrigin(origin);
      this.sdpOrigins.delete(tx.id);
      const webrtc = this.webrtcIds.get(tx.id);
      if (webrtc) dialog.ensureWebrtc(() => webrtc);
      this.webrtcIds.delete(tx.id);
      dialog.receiveCseq(req.core.cseq.seq);
    }
    // An INVITE refused (486, 487 after CANCEL...): its early media ends.
    if (req.method === "INVITE" && !req.core.to.tag && built.status >= 300) this.endMedia(req.core.callId);
    if (built.status >= 200) this.scheduleFollowUps(tx);
  }

  /** A rule's `then:` list: each request `afterMs` after the final answer. */
  private scheduleFollowUps(tx: ServerTransaction): void {
    const list = this.followUps.get(tx.id);
    if (!list) return;
    this.followUps.delete(tx.id);
    this.runFollowUps(list, tx.request);
  }

  private runFollowUps(list: readonly FollowUp[], req: ParsedRequest): void {
    const callId = req.core.callId;
    const aor = isSipUri(req.core.to.uri) ? Registrar.aorOf(req.core.to.uri) : req.core.to.uri.raw;
    for (const f of list) {
      const timer: TimerHandle = this.options.scheduler.schedule(f.afterMs, () => {
        this.followUpTimers.delete(timer);
        const report = (what: string) => this.events.followUp?.(f, what);
        const run = async (): Promise<string> => {
          switch (f.send) {
            case "BYE": {
              const n = this.requests.hangUp(callId, "scripted by the scenario (then: BYE)");
              if (n === 0) throw new Error(`no dialog with Call-ID ${callId}`);
              return `sent in ${n} dialog(s) of ${callId}`;
            }
            case "re-INVITE":
              return summarize(
                await this.requests.reinvite(callId, {
                  direction: f.direction,
                  ...(f.codecs ? { codecs: f.codecs } : {}),
                }),
              );
            case "UPDATE":
              return summarize(await this.requests.update(callId));
            case "INVITE": {
              const r = await this.requests.call(aor, {
                ...(f.from !== undefined ? { from: f.from } : {}),
                ...(f.cancelAfterMs !== undefined ? { cancelAfterMs: f.cancelAfterMs } : {}),
                ...(f.hangUpAfterMs !== undefined ? { hangUpAfterMs: f.hangUpAfterMs } : {}),
              });
              return `${r.status} ${r.reason} (Call-ID ${r.callId})`;
            }
            case "NOTIFY":
              return summarize(
                await this.requests.notifyMessageWaiting(aor, {
                  waiting: f.messagesWaiting,
                  ...(f.newMessages !== undefined ? { newMessages: f.newMessages } : {}),
                  ...(f.oldMessages !== undefined ? { oldMessages: f.oldMessages } : {}),
                }),
              );
            case "OPTIONS":
              return summarize(await this.requests.ping(aor));
            case "DTMF":
              await this.media.sendDtmf(callId, f.digits);
              return `${f.digits} sent as RFC 4733 telephone-events in ${callId}`;
          }
        };
        run().then(report, (e: Error) => report(`not sent: ${e.message}`));
      });
      this.followUpTimers.add(timer);
    }
  }
}

/** Octets a dialog copies from its INVITE: Contact, From, To, Record-Route and the SDP. */
function dialogOctets(req: ParsedRequest): number {
  let n = req.body.length;
  for (const name of ["Contact", "From", "To", "Record-Route"])
    for (const v of req.headers.getRows(name)) n += v.length;
  return n;
}

/** Octets a subscription costs: its strings and a fixed overhead. */
function subscriptionCost(sub: Subscription): number {
  let n = ITEM_OVERHEAD.subscriptions + sub.key.length + sub.event.length + sub.entity.length;
  n += sub.target.length + sub.from.length + sub.to.length + sub.callId.length;
  for (const r of sub.routeSet) n += r.length;
  return n;
}

function summarize(outcomes: ReadonlyArray<{ status: number; reason: string }>): string {
  return outcomes.map((o) => `${o.status} ${o.reason}`).join(", ");
}

/** Methods whose body is a session description (RFC 3261 13, RFC 3262, RFC 3311). */
function bodyIsSession(method: string): boolean {
  return method === "INVITE" || method === "ACK" || method === "PRACK" || method === "UPDATE";
}

// 20.1: an absent Accept means application/sdp; otherwise it must list it (or application/*, or any type).
// An empty Accept means no body type is acceptable at all.
function acceptsSdp(headers: ParsedRequest["headers"]): boolean {
  if (!headers.has("Accept")) return true;
  return headers
    .getAll("Accept")
    .some((v) => /^\s*(application\/sdp|application\/\*|\*\/\*)\s*(;|$)/i.test(v));
}

/** Session-Expires (or "x") of a request: delta-seconds and the refresher parameter. */
function sessionExpires(req: ParsedRequest): { seconds: number; refresher?: string } | undefined {
  const value = req.headers.get("Session-Expires");
  if (value === undefined) return undefined;
  const m = /^\s*(\d+)\s*(.*)$/.exec(value);
  if (!m) return undefined;
  const refresher = /;\s*refresher\s*=\s*(uac|uas)/i.exec(m[2] ?? "")?.[1]?.toLowerCase();
  return { seconds: Number(m[1]), ...(refresher ? { refresher } : {}) };
}

/** RFC 4028 6: an interval below our minimum (or the request's Min-SE) gets 422 with Min-SE. */
function sessionIntervalTooSmall(req: ParsedRequest, minSE = MIN_SE): ResponseSpec | undefined {
  const se = sessionExpires(req);
  if (!se) return undefined;
  const theirMin = Number(/^\s*(\d+)/.exec(req.headers.get("Min-SE") ?? "")?.[1] ?? 0);
  const min = Math.max(minSE, theirMin);
  if (se.seconds >= min) return undefined;
  return { status: 422, headers: [["Min-SE", String(min)]] };
}

/**
 * RFC 4028 9: a 2xx to an INVITE with Session-Expires carries it back with
 * the refresher chosen (the UAC's choice, else uac when it supports timer,
 * else uas), and Require: timer when the UAC supports the extension.
 */
function withSessionTimer(req: ParsedRequest, spec: ResponseSpec): ResponseSpec {
  const se = sessionExpires(req);
  if (!se || spec.headers?.some(([n]) => /^(session-expires|x)$/i.test(n))) return spec;
  const uacSupports = req.headers
    .getAll("Supported")
    .concat(req.headers.getAll("Require"))
    .some((t) => t.trim().toLowerCase() === "timer");
  const refresher = se.refresher ?? (uacSupports ? "uac" : "uas");
  const headers: Array<readonly [string, string]> = [
    ...(spec.headers ?? []),
    ["Session-Expires", `${se.seconds};refresher=${refresher}`],
  ];
  if (uacSupports) headers.push(["Require", "timer"]);
  return { ...spec, headers };
}

/** RFC 3262 3: the INVITE requires reliable provisional responses. */
function listsTag(req: ParsedRequest, header: string, tag: string): boolean {
  return req.headers.getAll(header).some((t) => t.trim().toLowerCase() === tag);
}

/**
 * RFC 3262 3: a UAS MUST send provisionals reliably when the request
 * requires 100rel, and MAY when it only supports it (the scenario decides).
 */
function sendsReliably(req: ParsedRequest, policy: "required" | "supported" | "never"): boolean {
  if (policy === "never") return false;
  if (listsTag(req, "Require", "100rel")) return true;
  return policy === "supported" && listsTag(req, "Supported", "100rel");
}
