/**
 * INVITE server transaction: RFC 3261 section 17.2.1 (Figure 7), with the
 * "Accepted" state of RFC 6026 section 7.1 for 2xx responses.
 */
import type { ParsedRequest } from "../sip/message.js";
import { ownBuffer } from "../sip/own-buffer.js";
import type { Flow } from "../transport/types.js";
import type { Scheduler, TimerHandle, TimerTarget } from "./scheduler.js";
import {
  isReliable,
  NO_OPTIONS,
  retainedRequest,
  type SendOptions,
  type ServerTransaction,
  type ServerTransactionState,
  type TerminationReason,
  type TransactionEnvironment,
} from "./server-transaction.js";
import type { TimerConfig } from "./timers.js";

const NO_BYTES = Buffer.alloc(0);

export class InviteServerTransaction implements ServerTransaction, TimerTarget {
  readonly method = "INVITE";
  state: ServerTransactionState = "proceeding";
  lastResponse?: { status: number; bytes: Buffer };
  cost = 0;
  mergeKey: string | undefined = undefined;
  /** Set when the final response went unacknowledged until Timer H. */
  ackReceived = false;
  private timerG?: TimerHandle;
  private timerH?: TimerHandle;
  private timerI?: TimerHandle;
  private timerL?: TimerHandle;
  private gInterval: number;
  /** Fault noRetransmit: the final response is sent once, never again. */
  private silent = false;
  /** Kept by the transaction layer's CompletedStore since the ACK (Confirmed) or its release (Accepted): it ends there. */
  private stored = false;
  /** When Timer L fires (Accepted). */
  private acceptedUntil = 0;

  constructor(
    readonly id: string,
    /** The request; once the final response is sent, only what identifies it (retainedRequest). */
    public request: ParsedRequest,
    readonly flow: Flow,
    readonly toTag: string,
    private readonly env: TransactionEnvironment,
    private readonly scheduler: Scheduler,
    private readonly timers: TimerConfig,
  ) {
    // 17.2.1: "When a server transaction is constructed for a request, it
    // enters the "Proceeding" state."
    this.gInterval = timers.t1;
  }

  respond(status: number, bytes: Buffer, options: SendOptions = NO_OPTIONS): void {
    // Stored in Accepted: the store's Timer L ended it at acceptedUntil (this object is not told).
    if (this.stored && this.state === "accepted" && this.scheduler.now() >= this.acceptedUntil) {
      this.state = "terminated";
      return;
    }
    if (this.state === "accepted" && status >= 200 && status < 300) {
      // RFC 6026 7.1: "While in the "Accepted" state, any 2xx responses
      // passed from the TU to the transaction MUST be passed to the
      // transport layer for transmission."
      this.transmit(bytes, status, true);
      return;
    }
    if (this.state !== "proceeding") return;
    if (status < 200) {
      // 17.2.1: "The TU passes any number of provisional responses to the
      // server transaction. So long as the server transaction is in the
      // "Proceeding" state, each of these MUST be passed to the transport layer."
      this.transmit(bytes, status, false);
      return;
    }
    if (status < 300) {
      // RFC 6026 7.1: "If, while in the "Proceeding" state, the TU passes a
      // 2xx response to the server transaction, the server transaction MUST
      // pass this response to the transport layer for transmission. [...]
      // The server transaction MUST then transition to the "Accepted" state"
      // and start Timer L with a value of 64*T1.
      this.transmit(bytes, status, false, options.deliver);
      this.state = "accepted";
      this.acceptedUntil = this.scheduler.now() + 64 * this.timers.t1;
      this.timerL = this.scheduler.schedule(64 * this.timers.t1, this);
      return;
    }
    // 17.2.1: "While in the "Proceeding" state, if the TU passes a response
    // with status code from 300 to 699 to the server transaction, the
    // response MUST be passed to the transport layer for transmission, and
    // the state machine MUST enter the "Completed" state. For unreliable
    // transports, timer G is set to fire in T1 seconds [...]. When the
    // "Completed" state is entered, timer H MUST be set to fire in 64*T1
    // seconds for all transports."
    // Completed lasts until the ACK and T4 after it, or 64*T1 (Timer H), and
    // only resends bytes: the header rows and body are not kept that long,
    // and the bytes are kept in a buffer of their own (ownBuffer: a pool slice would keep its whole 8 KiB slab alive).
    this.transmit(bytes, status, false, options.deliver, ownBuffer(bytes));
    this.state = "completed";
    this.releaseRequest();
    this.silent = options.noRetransmit === true;
    if (!isReliable(this.flow) && !this.silent) this.scheduleG();
    this.timerH = this.scheduler.schedule(64 * this.timers.t1, this);
  }

  /** One of its timers fired: the scheduler calls the transaction with the handle (no closure per timer). */
  onTimer(timer: TimerHandle): void {
    if (timer === this.timerG) this.fireG();
    else if (timer === this.timerH) {
      // 17.2.1: "If timer H fires while in the "Completed" state, it implies
      // that the ACK was never received. In this case, the server
      // transaction MUST transition to the "Terminated" state, and MUST
      // indicate to the TU that a transaction failure has occurred."
      this.end("timer-h");
    } else if (timer === this.timerI) {
      // 17.2.1: "Once timer I fires, the server MUST transition to the
      // "Terminated" state."
      this.end("timer-i");
    } else if (timer === this.timerL) {
      // RFC 6026 7.1: "If Timer L fires while the INVITE server transaction
      // is in the "Accepted" state, the transaction MUST transition to the
      // "Terminated" state."
      this.end("timer-l");
    }
  }

  receiveRetransmission(): void {
    // 17.2.1: "If a request retransmission is received while in the
    // "Proceeding" state, the most recent provisional response that was
    // received from the TU MUST be passed to the transport layer for
    // retransmission." And in "Completed": "the server MUST pass the final
    // response to the transport layer for retransmission."
    // RFC 6026 7.1: in "Accepted", retransmissions of the INVITE are absorbed.
    if (this.state === "completed" && this.silent) return;
    if ((this.state === "proceeding" || this.state === "completed") && this.lastResponse) {
      this.transmit(this.lastResponse.bytes, this.lastResponse.status, true);
    }
  }

  /** An ACK matched this transaction (17.2.3, for a non-2xx final response). */
  receiveAck(): void {
    if (this.state !== "completed") return;
    // 17.2.1: "If an ACK is received while the server transaction is in the
    // "Completed" state, the server transaction MUST transition to the
    // "Confirmed" state. As Timer G is ignored in this state, any
    // retransmissions of the response will cease." Timer I is T4 for
    // unreliable transports and zero seconds for reliable ones.
    this.ackReceived = true;
    this.timerG?.cancel();
    this.timerH?.cancel();
    this.state = "confirmed";
    if (isReliable(this.flow)) {
      this.end("timer-i");
      return;
    }
    // 17.2.1: "The purpose of the "Confirmed" state is to absorb any
    // additional ACK messages that arrive". Only that, for T4: the
    // transaction layer may keep it in its compact form until Timer I.
    const last = this.lastResponse;
    if (last && this.env.store?.(this, last.bytes, last.status, true, this.timers.t4)) {
      this.stored = true;
      return;
    }
    this.timerI = this.scheduler.schedule(this.timers.t4, this);
  }

  terminate(reason: TerminationReason): void {
    this.end(reason);
  }

  /**
   * After a 2xx the UAS core still reads the request (the dialog it makes,
   * 12.1.1) and calls this once done; a 300-699 releases it at once.
   */
  releaseRequest(): void {
    if (this.storeAccepted()) return;
    const before = this.request;
    this.request = retainedRequest(before);
    // RFC 6026 7.1: Accepted absorbs retransmissions of the INVITE and sends
    // only what the TU passes: a 2xx's bytes are never resent from here (the
    // UAS core's dialog retransmits it until the ACK, 13.3.1.4).
    if (this.state === "accepted" && this.lastResponse)
      this.lastResponse = { status: this.lastResponse.status, bytes: NO_BYTES };
    if (this.request !== before) this.env.compacted?.(this);
  }

  /**
   * Accepted, the request released: the rest of its life (until Timer L)
   * only absorbs INVITE retransmissions and hands the ACK to the TU, so the
   * transaction layer may keep it in its compact form (its 2xx kept only
   * to describe it, never resent from there). This object then still
   * sends what the TU passes (the UAS core's 2xx retransmissions over UDP,
   * 13.3.1.4) until Timer L's time. Over TCP, TLS and WebSocket too: Timer
   * L is 64*T1 on every transport (RFC 6026 7.1), and 32 s of full
   * transaction objects was most of the mock's memory under a TCP load.
   */
  private storeAccepted(): boolean {
    const last = this.lastResponse;
    if (this.state !== "accepted" || this.stored || !last) return false;
    const delay = this.acceptedUntil - this.scheduler.now();
    if (!this.env.store?.(this, last.bytes, last.status, true, delay)) return false;
    this.stored = true;
    this.timerL?.cancel();
    this.request = retainedRequest(this.request);
    this.lastResponse = { status: last.status, bytes: NO_BYTES };
    return true;
  }

  private scheduleG(): void {
    this.timerG = this.scheduler.schedule(this.gInterval, this);
  }

  private fireG(): void {
    if (this.state !== "completed" || !this.lastResponse) return;
    // 17.2.1: "If timer G fires, the response is passed to the transport
    // layer once more for retransmission, and timer G is set to fire in
    // MIN(2*T1, T2) seconds. From then on, when timer G fires, the
    // response is passed to the transport again for transmission, and
    // timer G is reset with a value that doubles, unless that value
    // exceeds T2, in which case it is reset with the value of T2."
    this.transmit(this.lastResponse.bytes, this.lastResponse.status, true);
    this.gInterval = Math.min(2 * this.gInterval, this.timers.t2);
    this.scheduleG();
  }

  private transmit(
    bytes: Buffer,
    status: number,
    retransmission: boolean,
    deliver?: (b: Buffer) => void,
    /** What to keep as the last response (the same octets, maybe in a buffer of their own). */
    keep: Buffer = bytes,
  ): void {
    if (!retransmission) this.lastResponse = { status, bytes: keep };
    if (deliver) deliver(bytes);
    else this.env.send(this.flow, bytes, retransmission);
  }

  private end(reason: TerminationReason): void {
    if (this.state === "terminated" || this.stored) return;
    this.state = "terminated";
    this.timerG?.cancel();
    this.timerH?.cancel();
    this.timerI?.cancel();
    this.timerL?.cancel();
    this.env.terminated(this, reason);
  }
}
