/** RFC 3261 17.1.1.1 and Table 4: T1 500 ms, T2 4 s, T4 5 s. Tests shorten them. */
export interface TimerConfig {
  readonly t1: number;
  readonly t2: number;
  readonly t4: number;
}

export const DEFAULT_TIMERS: TimerConfig = { t1: 500, t2: 4000, t4: 5000 };

export function resolveTimers(partial: Partial<TimerConfig> = {}): TimerConfig {
  const t = { ...DEFAULT_TIMERS, ...partial };
  for (const [k, v] of Object.entries(t)) {
    if (!Number.isFinite(v) || v <= 0)
      throw new RangeError(`timer ${k} must be a positive number of milliseconds`);
  }
  return t;
}
