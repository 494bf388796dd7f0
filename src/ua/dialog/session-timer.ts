/**
 * Session timers (RFC 4028) of one dialog, on the Scheduler: the refresher
 * refreshes at half the interval (UPDATE or re-INVITE, 7.4 and 10); the
 * other side "SHOULD send a BYE [...] slightly before the session
 * expiration", at the interval minus the minimum of 32 s and a third of it
 * (10). When the mock refreshes, that BYE still guards a session no refresh
 * could keep alive.
 */
import { leadingDeltaSeconds, lenientSessionExpires } from "../../sip/headers/lenient.js";
import type { Scheduler, TimerHandle } from "../../transaction/scheduler.js";
import type { ClientOutcome } from "../uac.js";

/** At most this many retries of one refresh (491, 422, a failure). */
export const MAX_REFRESH_ATTEMPTS = 10;

/**
 * What the session timer does in its dialog; the in-dialog requests provide
 * it. `subject` is the dialog the timer was started for: one actions object
 * serves every dialog (a per-dialog object of closures cost ~1 KiB each).
 */
export interface SessionActions<T = void> {
  /** The dialog is still the live one (not ended or replaced). */
  alive(subject: T): boolean;
  /**
   * Sends a refresh carrying these headers (UPDATE when the peer allows it,
   * else a re-INVITE with the last direction). "conflict": an INVITE is in
   * progress in the dialog (14.1); "gone": nothing could be sent.
   */
  refresh(
    headers: ReadonlyArray<readonly [string, string]>,
    subject: T,
  ): Promise<ClientOutcome | "conflict" | "gone">;
  /** Ends the dialog with a BYE whose Reason says why. */
  bye(why: string, subject: T): void;
  /** 14.1: the mock chose the Call-ID (its 491 back-off is 2.1-4 s, else 0-2 s). */
  readonly choseCallId: boolean | ((subject: T) => boolean);
}

/** Session-Expires as the mock reads it: the interval and who refreshes. */
export interface SessionInterval {
  readonly seconds: number;
  readonly refresher?: "uac" | "uas";
}

/**
 * The headers of a refresh request (RFC 4028 7.4): Session-Expires with
 * refresher=uac (the mock sends it), Min-SE after a 422, Supported: timer.
 */
export function refreshHeaders(seconds: number, minSE?: number): Array<readonly [string, string]> {
  return [
    ["Session-Expires", `${seconds};refresher=uac`],
    ...(minSE !== undefined ? ([["Min-SE", String(minSE)]] as const) : []),
    ["Supported", "timer"],
  ];
}

/** RFC 4028 10: when the side that does not refresh sends its BYE, in ms. */
export function byeBeforeExpiryMs(seconds: number): number {
  return (seconds - Math.min(32, seconds / 3)) * 1000;
}

export class SessionTimer {
  private timer: TimerHandle | undefined;
  private guard: TimerHandle | undefined;
  /** Bumped whenever a session interval starts: refreshes of an older one are stale. */
  private generation = 0;

  constructor(
    private readonly scheduler: Scheduler,
    /** Math.random when absent, read at each use so that a test may stub it. */
    private readonly random?: () => number,
  ) {}

  /** A session interval is running (a refresh or a BYE is scheduled). */
  get armed(): boolean {
    return this.timer !== undefined;
  }

  /**
   * A session interval starts (a 2xx carried Session-Expires, from either
   * side): every earlier timer and refresh in flight is obsolete.
   * `mockRefreshes`: the mock is the refresher.
   */
  start<T>(seconds: number, mockRefreshes: boolean, actions: SessionActions<T>, subject?: T): void {
    if (!seconds) return;
    const of = subject as T;
    this.generation += 1;
    const generation = this.generation;
    this.stop();
    const beforeExpiry = byeBeforeExpiryMs(seconds);
    if (!mockRefreshes) {
      this.timer = this.scheduler.schedule(beforeExpiry, () => {
        actions.bye(`no session refresh within ${seconds} s (RFC 4028 10)`, of);
      });
      return;
    }
    // The refresher too ends a session no refresh could keep alive.
    this.guard = this.scheduler.schedule(beforeExpiry, () => {
      actions.bye(`session expired: no refresh succeeded within ${seconds} s (RFC 4028 10)`, of);
    });
    this.timer = this.scheduler.schedule((seconds / 2) * 1000, () => {
      void this.refresh(actions, of, seconds, 0, generation);
    });
  }

  stop(): void {
    this.timer?.cancel();
    this.guard?.cancel();
    this.timer = undefined;
    this.guard = undefined;
  }

  /** RFC 4028 7.4: one refresh attempt, then the next interval or a retry. */
  private async refresh<T>(
    actions: SessionActions<T>,
    subject: T,
    seconds: number,
    attempt: number,
    generation: number,
    minSE?: number,
  ): Promise<void> {
    const current = () => actions.alive(subject) && this.generation === generation;
    if (!current()) return;
    const retry = (ms: number, interval = seconds, min?: number) => {
      if (attempt >= MAX_REFRESH_ATTEMPTS || !current()) return;
      this.timer?.cancel();
      this.timer = this.scheduler.schedule(ms, () => {
        void this.refresh(actions, subject, interval, attempt + 1, generation, min);
      });
    };
    const outcome = await actions.refresh(refreshHeaders(seconds, minSE), subject);
    if (outcome === "conflict") {
      // The peer's INVITE is in progress (14.1): try again a little later.
      retry(1000);
      return;
    }
    // The peer refreshed meanwhile, or the dialog ended: this result is stale.
    if (outcome === "gone" || !current()) return;
    if (outcome.status >= 200 && outcome.status < 300) {
      const se = outcome.response?.headers.get("Session-Expires");
      const interval = se !== undefined ? readSessionExpires(se) : { seconds };
      // In the 2xx to our request, "uas" names the peer as the refresher.
      if (interval) this.start(interval.seconds, interval.refresher !== "uas", actions, subject);
      return;
    }
    switch (outcome.status) {
      case 491: {
        // 14.1: retry after a random time: 2.1-4 s if we chose the Call-ID, else 0-2 s.
        const random = this.random?.() ?? Math.random();
        const chose =
          typeof actions.choseCallId === "function" ? actions.choseCallId(subject) : actions.choseCallId;
        retry(chose ? 2100 + random * 1900 : random * 2000);
        return;
      }
      case 422: {
        // RFC 4028 7.4: too small; retry with the 422's Min-SE as the
        // interval and as the request's own Min-SE.
        const min = readMinSE(outcome.response?.headers.get("Min-SE"));
        if (min > seconds) retry(0, min, min);
        return;
      }
      default:
        // 408/481 ended the dialog already (afterInDialog); anything else:
        // try once more later, the guard ends the session at expiry.
        retry((seconds / 4) * 1000);
    }
  }
}

/**
 * Session-Expires of a 2xx or of our own answer, read tolerantly: the
 * interval (undefined when it has none, or 0) and the refresher parameter.
 */
export function readSessionExpires(value: string | undefined): SessionInterval | undefined {
  const se = value === undefined ? undefined : lenientSessionExpires(value);
  return se?.seconds ? se : undefined;
}

/** Min-SE of a 422, read tolerantly (0 when absent or malformed). */
export function readMinSE(value: string | undefined): number {
  return (value === undefined ? undefined : leadingDeltaSeconds(value)) ?? 0;
}
