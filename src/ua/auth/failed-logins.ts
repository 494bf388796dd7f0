/**
 * Failed Digest logins, reported as warnings but at most one line per
 * interval (default 1 s): the first failure of a quiet spell at once, the
 * ones after it counted and summed up in one line when the interval ends. A
 * password-guessing client (or a mistyped password retried in a loop) cannot
 * flood the log, and none goes unmentioned.
 */
import type { TimerHandle } from "../../transaction/scheduler.js";

export interface FailedLogin {
  readonly username: string;
  readonly reason: string;
  /** Where it came from, e.g. "udp:127.0.0.1:5062". */
  readonly peer: string;
  readonly method: string;
}

export interface FailedLoginLogOptions {
  /** Writes one warning line. */
  readonly warn: (line: string) => void;
  readonly now: () => number;
  readonly schedule: (delayMs: number, fn: () => void) => TimerHandle;
  readonly intervalMs?: number;
}

export class FailedLoginLog {
  private readonly intervalMs: number;
  /** Before this time, failures are only counted. */
  private quietUntil = Number.NEGATIVE_INFINITY;
  private held = 0;
  private last: FailedLogin | undefined;
  private timer: TimerHandle | undefined;

  constructor(private readonly options: FailedLoginLogOptions) {
    this.intervalMs = options.intervalMs ?? 1000;
  }

  record(login: FailedLogin): void {
    const now = this.options.now();
    if (now >= this.quietUntil) {
      this.options.warn(`failed Digest login: ${describe(login)}`);
      this.quietUntil = now + this.intervalMs;
      return;
    }
    this.held++;
    this.last = login;
    this.timer ??= this.options.schedule(this.quietUntil - now, () => this.flush());
  }

  /** Writes the summary of the failures held back, if any (at the interval's end, and at shutdown). */
  flush(): void {
    this.timer?.cancel();
    this.timer = undefined;
    if (this.held === 0 || !this.last) return;
    const n = this.held;
    this.options.warn(
      `failed Digest logins: ${n} more in the last ${this.intervalMs / 1000} s, the last: ${describe(this.last)}`,
    );
    this.held = 0;
    this.last = undefined;
    this.quietUntil = this.options.now() + this.intervalMs;
  }
}

function describe(l: FailedLogin): string {
  return `${l.reason} for user "${l.username}" (${l.method} from ${l.peer})`;
}
