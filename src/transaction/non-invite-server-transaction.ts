/** Non-INVITE server transaction: RFC 3261 section 17.2.2 (Figure 8). */
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

export class NonInviteServerTransaction implements ServerTransaction, TimerTarget {
  // 17.2.2: "The state machine is initialized in the "Trying" state".
  state: ServerTransactionState = "trying";
  lastResponse?: { status: number; bytes: Buffer };
  cost = 0;
  mergeKey: string | undefined = undefined;
  private timerJ?: TimerHandle;
  /** Fault noRetransmit: request retransmissions get nothing back. */
  private silent = false;
  /** Kept by the transaction layer's CompletedStore since its final response: it ends there, not here. */
  private stored = false;

  constructor(
    readonly id: string,
    /** The request; once the final response is sent, only what identifies it (retainedRequest). */
    public request: ParsedRequest,
    readonly flow: Flow,
    readonly toTag: string,
    private readonly env: TransactionEnvironment,
    private readonly scheduler: Scheduler,
    private readonly timers: TimerConfig,
  ) {}

  get method(): string {
    return this.request.method;
  }

  respond(status: number, bytes: Buffer, options: SendOptions = NO_OPTIONS): void {
    if (this.state !== "trying" && this.state !== "proceeding") return;
    this.lastResponse = { status, bytes };
    this.silent = options.noRetransmit === true;
    if (options.deliver) options.deliver(bytes);
    else this.env.send(this.flow, bytes, false);
    if (status < 200) {
      // 17.2.2: "While in the "Trying" state, if the TU passes a provisional
      // response to the server transaction, the server transaction MUST
      // enter the "Proceeding" state."
      this.state = "proceeding";
      return;
    }
    // 17.2.2: "If the TU passes a final response (status codes 200-699) to
    // the server, the response MUST be passed to the transport layer for
    // transmission, and the state machine MUST enter the "Completed" state.
    // [...] When the server transaction enters the "Completed" state, it MUST
    // set Timer J to fire in 64*T1 seconds for unreliable transports, and
    // zero seconds for reliable transports."
    this.state = "completed";
    // Completed lasts 32 s over UDP (Timer J) and only resends bytes: the
    // parsed header rows and body are not kept that long (issue 10 item 3).
    if (isReliable(this.flow)) {
      this.releaseRequest();
      this.end("completed");
    } else if (this.env.store?.(this, bytes, status, this.silent, 64 * this.timers.t1)) {
      // Its Timer J, its retransmissions and its end are the store's from
      // now on; this object only serves who still holds it (the TU, during
      // this response).
      this.stored = true;
      this.releaseRequest();
    } else {
      // Kept for Timer J's 32 s in a buffer of its own (ownBuffer: a pool
      // slice would keep its whole 8 KiB slab alive).
      this.lastResponse = { status, bytes: ownBuffer(bytes) };
      this.releaseRequest();
      this.timerJ = this.scheduler.schedule(64 * this.timers.t1, this);
    }
  }

  /** Timer J fired (its only timer; the scheduler calls the transaction, no closure per timer). */
  onTimer(): void {
    this.end("timer-j");
  }

  receiveRetransmission(): void {
    // 17.2.2: "Once in the "Trying" state, any further request
    // retransmissions are discarded." In "Proceeding" the most recent
    // provisional, in "Completed" the final response, is passed to the
    // transport layer for retransmission.
    if (this.state === "trying" || !this.lastResponse || this.silent || this.stored) return;
    if (this.state === "proceeding" || this.state === "completed") {
      this.env.send(this.flow, this.lastResponse.bytes, true);
    }
  }

  terminate(reason: TerminationReason): void {
    this.end(reason);
  }

  releaseRequest(): void {
    const before = this.request;
    this.request = retainedRequest(before);
    if (this.request !== before) this.env.compacted?.(this);
  }

  private end(reason: TerminationReason): void {
    if (this.state === "terminated" || this.stored) return;
    // 17.2.2: "The server transaction remains in this state until Timer J
    // fires, at which point it MUST transition to the "Terminated" state."
    this.state = "terminated";
    this.timerJ?.cancel();
    this.env.terminated(this, reason);
  }
}
