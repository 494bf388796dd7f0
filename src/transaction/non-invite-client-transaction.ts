/**
 * The non-INVITE client transaction (RFC 3261 17.1.2), for requests the mock
 * sends itself (NOTIFY). Timer E retransmits over UDP, Timer F gives up,
 * Timer K absorbs response retransmissions.
 */
import type { ParsedResponse } from "../sip/message.js";
import type { Flow } from "../transport/types.js";
import type { Scheduler, TimerHandle } from "./scheduler.js";
import { isReliable } from "./server-transaction.js";
import type { TimerConfig } from "./timers.js";

export type ClientState = "trying" | "proceeding" | "completed" | "terminated";

export interface ClientCallbacks {
  /** A final response (200-699). */
  final?(response: ParsedResponse): void;
  /** 17.1.2.2: Timer F fired; "a timeout" for the TU. */
  timeout?(): void;
  /** 17.1.2.2 / 8.1.3.1: the transport failed ("treated as a 503"). */
  transportError?(err: Error): void;
  /** The transaction ended (for the layer to forget it). */
  terminated(): void;
}

export class NonInviteClientTransaction {
  state: ClientState = "trying";
  private timerE?: TimerHandle;
  private timerF?: TimerHandle;
  private timerK?: TimerHandle;
  private interval: number;

  constructor(
    readonly key: string,
    private readonly flow: Flow,
    private readonly bytes: Buffer,
    private readonly send: (
      flow: Flow,
      bytes: Buffer,
      retransmission: boolean,
      failed?: (err: Error) => void,
    ) => void,
    private readonly scheduler: Scheduler,
    private readonly timers: TimerConfig,
    private readonly callbacks: ClientCallbacks,
    /** Timer E over UDP; false: the request is sent once (a destination that never sent us a packet). */
    private readonly retransmit = true,
  ) {
    this.interval = timers.t1;
  }

  /** 17.1.2.2: "the client transaction MUST pass the request to the transport"; set Timer F, and Timer E when unreliable. */
  start(): void {
    this.send(this.flow, this.bytes, false, this.failed);
    // A transport that fails at once has ended the transaction already.
    if (this.state === "terminated") return;
    if (!isReliable(this.flow) && this.retransmit) this.scheduleE();
    this.timerF = this.scheduler.schedule(64 * this.timers.t1, () => {
      // 17.1.2.2: "If Timer F fires while the client transaction is still in
      // the "Trying" [or "Proceeding"] state, the client transaction SHOULD
      // inform the TU about the timeout, and then it SHOULD enter the
      // "Terminated" state."
      if (this.state === "trying" || this.state === "proceeding") {
        this.callbacks.timeout?.();
        this.end();
      }
    });
  }

  private scheduleE(): void {
    this.timerE = this.scheduler.schedule(this.interval, () => {
      if (this.state !== "trying" && this.state !== "proceeding") return;
      // 17.1.2.2: Timer E retransmits, doubling to T2 in "Trying"; in
      // "Proceeding" it fires every T2.
      this.send(this.flow, this.bytes, true, this.failed);
      this.interval = this.state === "trying" ? Math.min(2 * this.interval, this.timers.t2) : this.timers.t2;
      this.scheduleE();
    });
  }

  receive(response: ParsedResponse): void {
    if (this.state === "completed" || this.state === "terminated") return;
    if (response.status < 200) {
      this.state = "proceeding";
      return;
    }
    // 17.1.2.2: a final response moves to "Completed"; Timer K is T4 for
    // unreliable transports, zero for reliable ones.
    this.state = "completed";
    this.timerE?.cancel();
    this.timerF?.cancel();
    this.callbacks.final?.(response);
    const k = isReliable(this.flow) ? 0 : this.timers.t4;
    this.timerK = this.scheduler.schedule(k, () => this.end());
  }

  /** 17.1.2.2: "If a fatal transport error is reported [...] the client transaction SHOULD transition directly to the "Terminated" state". */
  private readonly failed = (err: Error): void => {
    if (this.state !== "trying" && this.state !== "proceeding") return;
    this.callbacks.transportError?.(err);
    this.end();
  };

  /** Ends the transaction as a timeout for the TU (shutdown). */
  abort(): void {
    if (this.state === "trying" || this.state === "proceeding") this.callbacks.timeout?.();
    this.end();
  }

  end(): void {
    if (this.state === "terminated") return;
    this.state = "terminated";
    for (const t of [this.timerE, this.timerF, this.timerK]) t?.cancel();
    this.callbacks.terminated();
  }
}
