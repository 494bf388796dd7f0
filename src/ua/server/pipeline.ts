/**
 * The response pipeline: every response the UAS sends goes through the
 * same stages, in this order:
 *   1. decide   what the response must carry besides the plan (RFC 4028
 *               Session-Expires, RFC 3262 Require: 100rel and RSeq);
 *   2. build    it from the catalogue (response-builder.ts);
 *   3. fault    break its bytes as the scenario asked (wire-faults.ts);
 *   4. send     it through the server transaction (and duplicates, a
 *               closed connection: the fault's wire part);
 *   5. journal  it (UasEvents.responded) and do what it implies: reliable
 *               retransmissions, the dialog a 2xx makes, early media ending,
 *               the rule's `then:` requests.
 */
import { randomBytes } from "node:crypto";
import type { CoreHeaders, Headers } from "../../sip/message.js";
import { uriUser } from "../../sip/uri.js";
import type { ServerTransaction } from "../../transaction/server-transaction.js";
import type { Capabilities, LocalIdentity } from "../local-context.js";
import type { FollowUp, WireFault } from "../ports.js";
import {
  type BuildContext,
  type BuiltResponse,
  buildResponse,
  type RequestLike,
  type ResponseSpec,
} from "../response-builder.js";
import { applyByteFaults } from "../wire-faults.js";
import type { ServerCore } from "./core.js";
import { establishDialog } from "./invite.js";
import { nextRSeq, retransmitReliably } from "./prack.js";
import { sendsReliably, withSessionTimer } from "./session-timer.js";
import { isUnsubscribe } from "./subscribe.js";

/** Sends `spec` as the transaction's response (nothing once the transaction ended). */
export function sendResponse(
  core: ServerCore,
  tx: ServerTransaction,
  spec: ResponseSpec,
  toTag = tx.toTag,
  fault?: WireFault,
): void {
  if (tx.state === "terminated") return;
  const rseq = reliableRSeq(core, tx, spec);
  const decided = decide(tx, spec, rseq);
  const built = build(core, tx, decided, toTag);
  const bytes = applyFaults(core, built.bytes, fault);
  const firstFinal = tx.state === "proceeding";
  /** Whether a final response still goes out (a completed non-INVITE transaction ignores another). */
  const final = tx.state === "trying" || firstFinal;
  // Taken before sending: a non-INVITE transaction over TCP ends with its
  // final response (Timer J = 0) and its context with it.
  const followUps = built.status >= 200 ? takeFollowUps(core, tx) : undefined;
  // Read before sending too: the transaction lets the request's headers go with its final response.
  const unsubscribed = final && endsSubscription(tx, built.status);
  transmit(core, tx, built.status, bytes, fault);
  core.events.responded?.(tx, built, fault);
  afterSend(core, tx, built, bytes, fault, rseq);
  // 12.1.1: the first 2xx to an INVITE makes the dialog (the only response that needs this record).
  if (makesDialog(tx, built.status, firstFinal))
    establishDialog(core, tx, { built, bytes, spec: decided, rseq, toTag, fault, firstFinal });
  // An INVITE refused (486, 487 after CANCEL...): its early media ends.
  const req = tx.request;
  if (req.method === "INVITE" && !req.core.to.tag && built.status >= 300) core.endMedia(req.core.callId);
  if (req.method === "BYE" && final && built.status >= 200) byeAnswered(core, tx, built.status);
  else if (req.method === "SUBSCRIBE" && final && built.status >= 200)
    subscribeAnswered(core, tx, unsubscribed);
  if (followUps) core.runFollowUps(followUps, tx.request);
}

/**
 * RFC 3262 3: when the INVITE requires 100rel, provisionals (but 100) are
 * sent reliably: the RSeq of this one (undefined when it is not).
 */
function reliableRSeq(core: ServerCore, tx: ServerTransaction, spec: ResponseSpec): number | undefined {
  const req = tx.request;
  if (
    req.method === "INVITE" &&
    spec.status > 100 &&
    spec.status < 200 &&
    sendsReliably(req, core.options.scenario().reliableProvisionals ?? "required")
  )
    return nextRSeq(core.contexts.of(tx));
  return undefined;
}

/** Stage 1: RFC 4028 9 on a 2xx to a session refresh; RFC 3262 3 (Require: 100rel, RSeq) on a reliable provisional. */
function decide(tx: ServerTransaction, spec: ResponseSpec, rseq: number | undefined): ResponseSpec {
  const req = tx.request;
  // RFC 4028 9: a 2xx to a session refresh (INVITE or UPDATE) carries Session-Expires.
  if ((req.method === "INVITE" || req.method === "UPDATE") && spec.status >= 200 && spec.status < 300)
    return withSessionTimer(req, spec);
  if (rseq === undefined) return spec;
  return { ...spec, headers: [...(spec.headers ?? []), ["Require", "100rel"], ["RSeq", String(rseq)]] };
}

/**
 * A BYE's final response went out. 15.1.2: a 2xx ends its dialog and
 * session, whoever answered it (a rule's 2xx too; the built-in handler has
 * ended it already). Any other keeps the call, whose next BYE may then be
 * let through a spent transactions budget again (stateless.ts).
 */
function byeAnswered(core: ServerCore, tx: ServerTransaction, status: number): void {
  const dialog = core.dialogs.of(tx.request);
  if (dialog === undefined) return;
  if (status < 300) core.dialogs.end(dialog);
  else dialog.byeEnded(tx.request.core.cseq.seq);
}

/** A 2xx to an unsubscribe (SUBSCRIBE with Expires: 0) within a subscription's dialog. */
function endsSubscription(tx: ServerTransaction, status: number): boolean {
  return status >= 200 && status < 300 && isUnsubscribe(tx.request);
}

/**
 * A SUBSCRIBE's final response went out. RFC 6665 4.2.1.4: a 2xx to an
 * unsubscribe ends the subscription with a final NOTIFY, whoever answered
 * it (the built-in handler then finds it ended). Any other answer lets its
 * next unsubscribe through a spent transactions budget again (stateless.ts).
 */
function subscribeAnswered(core: ServerCore, tx: ServerTransaction, unsubscribed: boolean): void {
  if (unsubscribed) core.subscriptions.endHeld(tx.request);
  else core.subscriptions.unsubscribeEnded(tx.request);
}

/** A first 2xx to an INVITE (establishDialog checks the same again). */
function makesDialog(tx: ServerTransaction, status: number, firstFinal: boolean): boolean {
  return tx.request.method === "INVITE" && status >= 200 && status < 300 && firstFinal;
}

/** Stage 2: the response as the catalogue says (8.2.6). */
function build(core: ServerCore, tx: ServerTransaction, spec: ResponseSpec, toTag: string): BuiltResponse {
  const answering = new Answering(core, tx, toTag);
  return buildResponse(answering, spec, answering);
}

/**
 * What the builder reads: of the request (RequestLike) and of the server
 * (BuildContext), in one object, each part made when first read: most
 * responses need neither who we are on the flow (Contact, Warning), nor
 * what we support (a 405's Allow), nor the Request-URI's user.
 */
class Answering implements RequestLike, BuildContext {
  private identity: LocalIdentity | undefined;
  private caps: Capabilities | undefined;

  constructor(
    private readonly uas: ServerCore,
    private readonly tx: ServerTransaction,
    readonly toTag: string,
  ) {}

  get method(): string {
    return this.tx.request.method;
  }

  get headers(): Headers {
    return this.tx.request.headers;
  }

  get requestUser(): string | undefined {
    return uriUser(this.tx.request.uri);
  }

  get hasToTag(): boolean {
    const tag = this.tx.request.core.to.tag;
    return tag !== undefined && tag !== "";
  }

  get core(): CoreHeaders {
    return this.tx.request.core;
  }

  get local(): LocalIdentity {
    if (this.identity === undefined) this.identity = this.uas.identity(this.tx);
    return this.identity;
  }

  get capabilities(): Capabilities {
    if (this.caps === undefined) this.caps = this.uas.capabilities();
    return this.caps;
  }

  get server(): string | undefined {
    return this.uas.options.server;
  }

  get realm(): string {
    return this.uas.options.realm;
  }

  get opaque(): string {
    return this.uas.opaque;
  }

  /** A fresh nonce for a challenge (RFC 7616 3.3). */
  nonce(): string {
    return randomBytes(16).toString("hex");
  }
}

/** Stage 3: the scenario's byte faults. */
function applyFaults(core: ServerCore, bytes: Buffer, fault: WireFault | undefined): Buffer {
  return fault ? applyByteFaults(bytes, fault, core.options.random ?? Math.random) : bytes;
}

/** Stage 4: through the transaction, from another port when the fault says so. */
function transmit(
  core: ServerCore,
  tx: ServerTransaction,
  status: number,
  bytes: Buffer,
  fault: WireFault | undefined,
): void {
  if (!fault) {
    tx.respond(status, bytes, PLAIN);
    return;
  }
  const wire = core.options.wire;
  tx.respond(status, bytes, {
    ...(fault.noRetransmit ? { noRetransmit: true } : {}),
    ...(fault.fromOtherPort && tx.flow.transport === "udp"
      ? { deliver: (b: Buffer) => wire.sendFromOtherPort(tx.flow, b) }
      : {}),
  });
}

/** A response without faults: sent and retransmitted as RFC 3261 says. */
const PLAIN = {};

/** What a sent response leaves for stage 5. */
export interface SentResponse {
  readonly built: BuiltResponse;
  readonly bytes: Buffer;
  /** The spec as sent (with stage 1's headers). */
  readonly spec: ResponseSpec;
  readonly rseq: number | undefined;
  readonly toTag: string;
  readonly fault: WireFault | undefined;
  /** The transaction was in Proceeding: this is its first final response. */
  readonly firstFinal: boolean;
}

/** Stage 5: what the response implies (the dialog a 2xx makes and early media aside: sendResponse). */
function afterSend(
  core: ServerCore,
  tx: ServerTransaction,
  built: BuiltResponse,
  bytes: Buffer,
  fault: WireFault | undefined,
  rseq: number | undefined,
): void {
  if (rseq !== undefined) retransmitReliably(core, tx, rseq, built.status, bytes);
  if (built.status >= 200) {
    const ctx = core.contexts.get(tx);
    // 3262 3: a final response ends the reliable provisionals'
    // retransmissions; a PRACK for one of them that arrives afterwards
    // still matches (it is acknowledged, not unknown) until the
    // transaction ends.
    for (const t of ctx?.reliable?.timers.values() ?? []) t.cancel();
    // 14.2: the dialog's INVITE is no longer in progress once it is answered.
    ctx?.releaseDialog();
  }
  if (!fault) return;
  const wire = core.options.wire;
  for (let i = 0; i < (fault.duplicate ?? 0); i++) wire.send(tx.flow, bytes);
  if (fault.tcp && tx.flow.transport !== "udp") wire.closeConnection(tx.flow, fault.tcp);
}

/** A rule's `then:` list, run (each request `afterMs` after it) once the final answer is sent. */
function takeFollowUps(core: ServerCore, tx: ServerTransaction): readonly FollowUp[] | undefined {
  const ctx = core.contexts.get(tx);
  const list = ctx?.followUps;
  if (ctx) ctx.followUps = undefined;
  return list;
}
