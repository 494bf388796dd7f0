/**
 * Shutdown and drain: stop taking new requests, give the transactions in
 * flight a bounded time to finish, answer INVITEs still ringing, then stop
 * timers and media, let the last sends leave, close the sockets and flush
 * the captures. Closing twice is closing once.
 */
import type { MediaEngine } from "../../media/index.js";
import type { Scheduler } from "../../transaction/scheduler.js";
import type { TransactionLayer } from "../../transaction/transaction-layer.js";
import type { FailedLoginLog } from "../../ua/auth/failed-logins.js";
import type { UserAgentServer } from "../../ua/uas.js";
import type { Guards } from "./guards.js";
import type { Recorder } from "./recorder.js";
import type { Wire } from "./wire.js";

/** How long shutdown waits for sends in progress before closing the sockets. */
const SEND_FLUSH_MS = 1000;

export interface ShutdownParts {
  readonly uas: UserAgentServer;
  readonly layer: TransactionLayer;
  readonly wire: Wire;
  readonly recorder: Recorder;
  readonly guards: Guards;
  readonly scheduler: Scheduler;
  readonly failedLogins: FailedLoginLog;
  readonly mediaEngine: MediaEngine | undefined;
  readonly stopKeepAlive: (() => void) | undefined;
  /** The drain when close() is given none (options.drainMs, default 0). */
  readonly drainMs: number;
}

export class Lifecycle {
  /** Shutting down: new requests are refused (inbound.ts). */
  draining = false;
  /** Pending waitFor calls, rejected when the mock closes (their timers would keep the process alive). */
  readonly waiting = new Set<(e: Error) => void>();
  private closing: Promise<void> | undefined;

  constructor(private readonly p: ShutdownParts) {}

  /** Stops: no new requests, in-flight transactions get `drainMs` to finish, captures flushed. */
  close(drainMs = this.p.drainMs): Promise<void> {
    this.closing ??= this.shutdown(drainMs);
    return this.closing;
  }

  private async shutdown(drainMs: number): Promise<void> {
    const { uas, layer, wire, recorder } = this.p;
    for (const reject of [...this.waiting]) reject(new Error("the mock was closed"));
    // Graceful: stop taking new requests, let transactions in flight finish
    // within the bound, then stop timers, flush captures, close sockets.
    this.draining = true;
    this.p.stopKeepAlive?.();
    const until = Date.now() + drainMs;
    // An INVITE that only rings would hold the drain to its end and then be
    // cut off unanswered: it gets its final answer (503) now. Those whose
    // answer is planned get the drain to send it.
    uas.answerOnShutdown(false);
    const settled = () => layer.unanswered === 0 && uas.unacknowledgedShutdownAnswers === 0;
    while (!settled() && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    // The drain is over: every INVITE still unanswered gets its 503 too.
    uas.answerOnShutdown(true);
    uas.close();
    await uas.media.closeAll();
    await this.p.mediaEngine?.close();
    layer.terminateAll();
    this.p.failedLogins.flush();
    this.p.scheduler.stop();
    // Answers just handed to the sockets go out before the sockets close (bounded).
    await wire.flush(SEND_FLUSH_MS);
    this.p.guards.stop();
    await wire.close();
    recorder.flush();
    await recorder.closeSinks();
  }
}
