/**
 * The UAS core (RFC 3261 section 8.2 and 12-15): request validation in the
 * order the RFC gives, then the scenario's decision, then responses built
 * from the catalogue and sent through the server transaction.
 *
 * This is the facade the transaction layer and the control layer talk to;
 * the work is in server/: one context per server transaction
 * (context.ts), the request flow (incoming.ts), the built-in behaviour per
 * method (handlers.ts and one file per method family), the answer plan
 * (plan.ts) and the staged response pipeline (pipeline.ts).
 */
import type { ParsedRequest } from "../sip/message.js";
import type { OverloadReason } from "../transaction/overload.js";
import type { ServerTransaction, TerminationReason } from "../transaction/server-transaction.js";
import type { TransactionLayer, TransactionUser } from "../transaction/transaction-layer.js";
import type { Flow } from "../transport/types.js";
import type { Dialog, DialogStore } from "./dialogs.js";
import type { MediaCalls } from "./media-calls.js";
import type { MockRequests } from "./mock-requests.js";
import type { Registrar } from "./registrar.js";
import { ServerCore } from "./server/core.js";
import { onAck, onDigit, onRequest, onRetransmission, onTerminated } from "./server/incoming.js";
import type { UasEvents, UasOptions } from "./server/options.js";
import { setupServer } from "./server/setup.js";
import {
  answerOnShutdown,
  cancelFollowUps,
  closeServer,
  unacknowledgedShutdownAnswers,
} from "./server/shutdown.js";
import { refuseOverloaded, refuseWhileDraining, resendRefusal } from "./server/stateless.js";

export type { FaultWire, UasEvents, UasOptions } from "./server/options.js";
export { MIN_SE } from "./server/session-timer.js";
export { SHUTDOWN_RETRY_AFTER_S } from "./server/shutdown.js";

export class UserAgentServer implements TransactionUser {
  readonly registrar: Registrar;
  readonly dialogs: DialogStore;
  /** Requests the mock sends itself (BYE, re-INVITE, UPDATE, NOTIFY, OPTIONS, INVITE). */
  readonly requests: MockRequests;
  /** RTP sessions and DTMF digits per call. */
  readonly media: MediaCalls;
  private readonly core: ServerCore;

  constructor(options: UasOptions, events: UasEvents = {}) {
    this.core = new ServerCore(options, events);
    setupServer(this.core, (callId) => onDigit(this.core, callId));
    this.registrar = this.core.registrar;
    this.dialogs = this.core.dialogs;
    this.requests = this.core.requests;
    this.media = this.core.media;
  }

  get layer(): TransactionLayer {
    return this.core.layer;
  }

  set layer(layer: TransactionLayer) {
    this.core.layer = layer;
  }

  /**
   * Issue 10 item 4: an overloaded mock (no room for one more transaction,
   * event-loop lag, the UDP receive queue, a full dialog or subscription
   * store) answers a new request 503 with Retry-After (RFC 3261 21.5.4) at
   * once and statelessly, so nothing is kept for it; retransmissions of
   * requests in flight never get here (their transactions absorb them).
   */
  refuse(request: ParsedRequest, flow: Flow, cost: number): OverloadReason | undefined {
    return refuseOverloaded(this.core, request, flow, cost);
  }

  /** A retransmission of a refused request: the same 503 (the transaction layer remembered it). */
  refuseAgain(request: ParsedRequest, flow: Flow, reason: OverloadReason): void {
    resendRefusal(this.core, request, flow, reason);
  }

  /**
   * Shutting down (the drain): a new request gets the overload refusals'
   * stateless 503 with Retry-After, so its client tries again later or
   * elsewhere instead of timing out. ACK is never answered (17.1.1.3).
   */
  refuseWhileDraining(request: ParsedRequest, flow: Flow): void {
    refuseWhileDraining(this.core, request, flow);
  }

  onRequest(tx: ServerTransaction): void {
    onRequest(this.core, tx);
  }

  /** RFC 4733 digits in the call's RTP (API, then: DTMF). */
  sendDtmf(callId: string, digits: string): Promise<void> {
    return this.media.sendDtmf(callId, digits);
  }

  onRetransmission(tx: ServerTransaction): void {
    onRetransmission(this.core, tx);
  }

  onAck(ack: ParsedRequest): void {
    onAck(this.core, ack);
  }

  /**
   * Its context, when it holds nothing more, goes now (it would keep the
   * transaction object 64*T1); true when one stays (its id must be kept).
   */
  onStored(tx: ServerTransaction): boolean {
    return this.core.contexts.releaseIdle(tx.id);
  }

  onTerminated(tx: ServerTransaction, reason: TerminationReason): void {
    onTerminated(this.core, tx, reason);
  }

  /** Scenario `then:` requests not sent yet are forgotten (reset, a new scenario, shutdown). */
  cancelFollowUps(): void {
    cancelFollowUps(this.core);
  }

  /**
   * Shutdown: INVITEs still waiting for their final response get 503 with
   * Retry-After, so clients are not left to time out. `all` false: only
   * those whose final answer is not on its way (ringing until CANCEL, held
   * by a fault); true (the drain's end): every one. Returns how many.
   */
  answerOnShutdown(all: boolean): number {
    return answerOnShutdown(this.core, all);
  }

  /** Shutdown 503s not acknowledged yet (their transaction still in Completed, 17.2.1). */
  get unacknowledgedShutdownAnswers(): number {
    return unacknowledgedShutdownAnswers(this.core);
  }

  /** Calls whose initial INVITE is kept for digit decisions (tests, metrics). */
  get trackedCalls(): number {
    return this.core.invites.size;
  }

  close(): void {
    closeServer(this.core);
  }

  /** Ends a dialog from our side (RFC 3261 15.1.1); `unconfirmed`: without waiting for the ACK. */
  bye(dialog: Dialog, why: string, unconfirmed = false): boolean {
    return this.requests.bye(dialog, why, unconfirmed);
  }

  /** Hangs up every dialog of a call (API / admin). */
  hangUp(callId: string): number {
    return this.requests.hangUp(callId, "hung up by the mock's API");
  }
}
