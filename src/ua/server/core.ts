/**
 * What every part of the UAS shares: its options and events, the stores
 * (server transaction contexts, dialogs, registrar, subscriptions, media),
 * the mock's own requests, and the small helpers the handlers all use
 * (who we are on a flow, what we support, where media goes).
 */
import { randomBytes } from "node:crypto";
import { lenientSessionExpires } from "../../sip/headers/lenient.js";
import type { ParsedRequest } from "../../sip/message.js";
import { isSipUri } from "../../sip/uri.js";
import type { ServerTransaction } from "../../transaction/server-transaction.js";
import type { TransactionLayer } from "../../transaction/transaction-layer.js";
import type { Flow } from "../../transport/types.js";
import type { Dialog, DialogStore } from "../dialogs.js";
import { type Capabilities, LocalIdentities, type LocalIdentity, localIdentity } from "../local-context.js";
import type { MediaCalls } from "../media-calls.js";
import type { MockRequests } from "../mock-requests.js";
import type { FollowUp, FollowUpActions, PlanStep, ResponsePlan, WireFault } from "../ports.js";
import { Registrar } from "../registrar.js";
import type { ResponseSpec } from "../response-builder.js";
import { DEFAULT_MEDIA_PORT } from "../sdp.js";
import type { UserAgentClient } from "../uac.js";
import { ServerContexts } from "./context.js";
import type { UasEvents, UasOptions } from "./options.js";
import { sendResponse } from "./pipeline.js";
import { runPlan } from "./plan.js";
import { Subscriptions } from "./subscribe.js";

export class ServerCore {
  layer!: TransactionLayer;
  readonly contexts = new ServerContexts();
  readonly subscriptions: Subscriptions;
  /** Entity tags of live publications (RFC 3903). */
  readonly publications = new Set<string>();
  /** The initial INVITE of each call with media, for decisions a digit triggers. */
  readonly invites = new Map<string, ParsedRequest>();
  readonly opaque = randomBytes(8).toString("hex");
  /** Shutting down: ending dialogs puts nothing on the wire. */
  closing = false;
  // Set once by the UserAgentServer's constructor (server/setup.ts).
  dialogs!: DialogStore;
  registrar!: Registrar;
  media!: MediaCalls;
  uac!: UserAgentClient;
  requests!: MockRequests;
  followUpActions!: FollowUpActions;

  constructor(
    readonly options: UasOptions,
    readonly events: UasEvents,
  ) {
    this.subscriptions = new Subscriptions(this);
  }

  /**
   * Sends a response through the pipeline (pipeline.ts). Once a 2xx to an
   * INVITE has made its dialog, the transaction lets the request go: the
   * Accepted state lasts 64*T1 (RFC 6026 7.1) and only absorbs
   * retransmissions (a 300-699 lets it go in the transaction itself).
   */
  send(tx: ServerTransaction, spec: ResponseSpec, toTag = tx.toTag, fault?: WireFault): void {
    sendResponse(this, tx, spec, toTag, fault);
    if (tx.state === "accepted") tx.releaseRequest();
  }

  /**
   * 13.3.1.4: "If the server retransmits the 2xx response for 64*T1
   * seconds without receiving an ACK, the dialog is confirmed, but the
   * session SHOULD be terminated. This is accomplished with a BYE" (one
   * function for every dialog, not a closure per call).
   */
  readonly unacknowledged = (dialog: Dialog): void => {
    this.requests.bye(dialog, "ACK for the 2xx never received (RFC 3261 13.3.1.4)", true);
  };

  /** Runs an answer plan (plan.ts). */
  runPlan(
    tx: ServerTransaction,
    steps: readonly PlanStep[],
    final: ResponsePlan | undefined,
    fault?: WireFault,
  ): void {
    runPlan(this, tx, steps, final, fault);
  }

  /** A rule's `then:` requests, through the scenario's executor (UasOptions.followUps). */
  runFollowUps(list: readonly FollowUp[], req: ParsedRequest): void {
    const callId = req.core.callId;
    const aor = isSipUri(req.core.to.uri) ? Registrar.aorOf(req.core.to.uri) : req.core.to.uri.raw;
    const report = (f: FollowUp, what: string) => this.events.followUp?.(f, what);
    const runner = this.options.followUps;
    if (!runner) {
      for (const f of list) report(f, "not sent: no follow-up runner is configured");
      return;
    }
    runner.run(list, { callId, aor }, this.followUpActions, report);
  }

  /** RFC 4028 10 from the Session-Expires our 2xx carried: "uac" is the caller, "uas" the mock. */
  armSessionTimer(dialog: Dialog, spec: ResponseSpec): void {
    const se = spec.headers?.find(([n]) => n === "Session-Expires")?.[1];
    if (se) this.requests.armSessionTimer(dialog, se, lenientSessionExpires(se)?.refresher === "uas");
  }

  /** Frees an unanswered transaction after 64*T1, when any client has given up. */
  abandonLater(tx: ServerTransaction): void {
    const ctx = this.contexts.of(tx);
    const timer = this.options.scheduler.schedule(64 * this.options.timers.t1, () => {
      ctx.awaiting = undefined;
      ctx.dropped = false;
      ctx.pending = undefined;
      if (!tx.lastResponse) tx.terminate("abandoned");
    });
    ctx.pending = { timers: [timer] };
  }

  /** The call ended: its media closes and its INVITE is forgotten (with or without an RTP session). */
  endMedia(callId: string): void {
    this.invites.delete(callId);
    this.media.close(callId);
  }

  inDialog(tx: ServerTransaction): boolean {
    const req = tx.request;
    return this.dialogs.of(req) !== undefined;
  }

  /**
   * What this UAS says it does (Allow-Events, Supported), as the scenario
   * narrows it: `eventPackages:` and `reliableProvisionals: never`.
   */
  capabilities(): Capabilities {
    const base = this.options.capabilities;
    const scenario = this.options.scenario();
    const packages = scenario.eventPackages;
    const never = scenario.reliableProvisionals === "never";
    if (!packages && !never) return base;
    // The same object while nothing changed: its lists' texts are made once (listText).
    const last = this.narrowed;
    if (last && last.base === base && last.packages === packages && last.never === never) return last.caps;
    const caps = {
      ...base,
      ...(packages ? { allowEvents: packages } : {}),
      ...(never ? { supported: base.supported.filter((t) => t !== "100rel") } : {}),
    };
    this.narrowed = { base, packages, never, caps };
    return caps;
  }

  private narrowed?: {
    readonly base: Capabilities;
    readonly packages: readonly string[] | undefined;
    readonly never: boolean;
    readonly caps: Capabilities;
  };

  /** Who we are for this request: the listener's address, the Request-URI's host, sips. */
  identity(tx: ServerTransaction): LocalIdentity {
    const uri = tx.request.uri;
    return this.identities.of(
      tx.flow,
      this.options.listenerFor(tx.flow),
      isSipUri(uri) ? uri.host : undefined,
      this.options.advertise,
      uri.scheme === "sips",
    );
  }

  private readonly identities = new LocalIdentities();

  identityOfFlow(flow: Flow): LocalIdentity {
    return localIdentity(flow, this.options.listenerFor(flow), undefined, this.options.advertise);
  }

  /**
   * The RTP port our SDP names: the call's real one when media is on;
   * else the signalling-only port (option, scenario, or 40000, where
   * nothing listens; WebRTC media is not supported either).
   */
  mediaPort(callId?: string): number {
    const real = callId !== undefined ? this.media.portOf(callId) : undefined;
    return real ?? this.options.mediaPort ?? this.options.scenario().mediaPort ?? DEFAULT_MEDIA_PORT;
  }

  /** Real RTP: an engine, and no signalling-only port asked for (--media-port, `mediaPort:`). */
  mediaOn(): boolean {
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
  rtpBindAddress(flow: Flow): string {
    return this.options.listenerFor(flow)?.address ?? flow.local.address;
  }
}
