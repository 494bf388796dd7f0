/**
 * The INVITE client transaction (RFC 3261 17.1.1, with the "Accepted" state
 * of RFC 6026 7.2), for INVITEs the mock sends itself (a call to a
 * registered client, a re-INVITE). Timer A retransmits over UDP, Timer B
 * gives up, the transaction ACKs a non-2xx final response itself (17.1.1.3)
 * and absorbs its retransmissions for Timer D; 2xx responses, first and
 * retransmitted, go to the TU, which sends the ACK (13.2.2.4).
 */
import type { ParsedResponse } from "../sip/message.js";
import type { Flow } from "../transport/types.js";
import type { Scheduler, TimerHandle } from "./scheduler.js";
import { isReliable } from "./server-transaction.js";
import type { TimerConfig } from "./timers.js";

export type InviteClientState = "calling" | "proceeding" | "accepted" | "completed" | "terminated";

export interface InviteClientCallbacks {
  /** A provisional response (101-199; 100 stops retransmissions too). */
  provisional?(response: ParsedResponse): void;
  /** The first final response. */
  final?(response: ParsedResponse): void;
  /** A retransmitted 2xx (or a 2xx from another fork): the TU ACKs it again (RFC 6026 7.2). */
  retransmitted2xx?(response: ParsedResponse): void;
  /** 17.1.1.2: Timer B fired: "a timeout" for the TU. */
  timeout?(): void;
  /** 17.1.1.2 / 8.1.3.1: the transport failed ("treated as a 503"). */
  transportError?(err: Error): void;
  /** The transaction ended (for the layer to forget it). */
  terminated(): void;
}

/** Timer D: "at least 32 seconds for unreliable transports" (17.1.1.2). */
const TIMER_D_MS = 32_000;

export class InviteClientTransaction {
  state: InviteClientState = "calling";
  private timerA?: TimerHandle;
  private timerB?: TimerHandle;
  private timerD?: TimerHandle;
  private timerM?: TimerHandle;
  private interval: number;
  private ackBytes?: Buffer;

  constructor(
    readonly key: string,
    private readonly flow: Flow,
    private readonly bytes: Buffer,
    /** Builds the ACK for a non-2xx final response (17.1.1.3). */
    private readonly ackFor: (response: ParsedResponse) => Buffer,
    private readonly send: (
      flow: Flow,
      bytes: Buffer,
      retransmission: boolean,
      failed?: (err: Error) => void,
    ) => void,
    private readonly scheduler: Scheduler,
    private readonly timers: TimerConfig,
    private readonly callbacks: InviteClientCallbacks,
    /** Timer A over UDP; false: the request is sent once (a destination that never sent us a packet). */
    private readonly retransmit = true,
  ) {
    this.interval = timers.t1;
  }

  /**
   * 17.1.1.2: "the client transaction MUST pass the request to the transport
   * layer for transmission [...] If an unreliable transport is being used,
   * the client transaction MUST start timer A with a value of T1 [...] For
   * any transport, the client transaction MUST start timer B with a value
   * of 64*T1 seconds".
   */
  start(): void {
    this.send(this.flow, this.bytes, false, this.failed);
    // A transport that fails at once has ended the transaction already.
    if (this.state === "terminated") return;
    if (!isReliable(this.flow) && this.retransmit) this.scheduleA();
    this.timerB = this.scheduler.schedule(64 * this.timers.t1, () => {
      // "If the client transaction is still in the "Calling" state when timer
      // B fires, the client transaction SHOULD inform the TU that a timeout
      // has occurred." In "Proceeding" the phone is ringing: only the TU
      // ends that, with CANCEL (9.1) and then giveUpAfterCancel().
      if (this.state === "calling") {
        this.callbacks.timeout?.();
        this.end();
      }
    });
  }

  private scheduleA(): void {
    this.timerA = this.scheduler.schedule(this.interval, () => {
      if (this.state !== "calling") return;
      // "When timer A fires, the client transaction MUST retransmit the
      // request [...] and reset the timer with a value of 2*T1" (no cap at T2
      // for INVITE, 17.1.1.2).
      this.send(this.flow, this.bytes, true, this.failed);
      this.interval *= 2;
      this.scheduleA();
    });
  }

  /**
   * 17.1.1.2: "If a fatal transport error is reported by the transport
   * layer [...], the client transaction SHOULD transition directly to the
   * "Terminated" state. The TU will handle the failover mechanisms".
   */
  private readonly failed = (err: Error): void => {
    if (this.state !== "calling" && this.state !== "proceeding") return;
    this.callbacks.transportError?.(err);
    this.end();
  };

  /**
   * 9.1: after a CANCEL, "If no final response is received [...] within
   * 64*T1 seconds [...] the client SHOULD then consider the original
   * transaction cancelled and SHOULD destroy the client transaction".
   */
  giveUpAfterCancel(): void {
    this.timerB?.cancel();
    this.timerB = this.scheduler.schedule(64 * this.timers.t1, () => {
      if (this.state === "calling" || this.state === "proceeding") this.abort();
    });
  }

  /** Ends the transaction as a timeout for the TU (Timer B, a give-up, shutdown). */
  abort(): void {
    if (this.state === "terminated") return;
    if (this.state === "calling" || this.state === "proceeding") this.callbacks.timeout?.();
    this.end();
  }

  receive(response: ParsedResponse): void {
    const status = response.status;
    switch (this.state) {
      case "calling":
      case "proceeding":
        if (status < 200) {
          // "If the client transaction receives a provisional response while
          // in the "Calling" state, it transitions to the "Proceeding" state
          // [...] it SHOULD NOT retransmit the request any longer."
          this.state = "proceeding";
          this.timerA?.cancel();
          this.callbacks.provisional?.(response);
          return;
        }
        this.timerA?.cancel();
        this.timerB?.cancel();
        if (status < 300) {
          // RFC 6026 7.2: "a 2xx response [...] MUST cause the client
          // transaction to transition to the "Accepted" state" with Timer M
          // (64*T1), passing any further 2xx to the TU.
          this.state = "accepted";
          this.callbacks.final?.(response);
          this.timerM = this.scheduler.schedule(64 * this.timers.t1, () => this.end());
          return;
        }
        // 17.1.1.2: "When in either the "Calling" or "Proceeding" states,
        // reception of a response with status code from 300-699 MUST cause
        // the client transaction to transition to "Completed". The client
        // transaction MUST pass the received response up to the TU, and the
        // client transaction MUST generate an ACK request".
        this.state = "completed";
        this.ackBytes = this.ackFor(response);
        this.send(this.flow, this.ackBytes, false);
        this.callbacks.final?.(response);
        // "The client transaction SHOULD start timer D [...] with a value of
        // at least 32 seconds for unreliable transports, and a value of zero
        // seconds for reliable transports."
        this.timerD = this.scheduler.schedule(isReliable(this.flow) ? 0 : TIMER_D_MS, () => this.end());
        return;
      case "accepted":
        if (status >= 200 && status < 300) this.callbacks.retransmitted2xx?.(response);
        return;
      case "completed":
        // "Any retransmissions of the final response that are received while
        // in the "Completed" state MUST cause the ACK to be re-passed to the
        // transport layer for retransmission".
        if (status >= 300 && this.ackBytes) this.send(this.flow, this.ackBytes, true);
        return;
      case "terminated":
        return;
    }
  }

  end(): void {
    if (this.state === "terminated") return;
    this.state = "terminated";
    for (const t of [this.timerA, this.timerB, this.timerD, this.timerM]) t?.cancel();
    this.callbacks.terminated();
  }
}
