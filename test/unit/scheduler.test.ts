/**
 * The SIP timers' scheduler on a manual clock: deadline order (ties in the
 * order scheduled) whatever the insertion order, and a timer whose callback
 * is an object (a transaction) told which of its handles fired.
 */
import { describe, expect, it } from "vitest";
import type { TimerHandle } from "../../src/transaction/scheduler.js";
import { ManualClock } from "../harness/clock.js";

describe("Scheduler", () => {
  it("fires timers in deadline order, ties in the order scheduled, each at its deadline", async () => {
    const m = new ManualClock();
    const fired: Array<[number, number]> = [];
    // A fixed pseudo-random sequence of delays with many ties (0..49 ms).
    let x = 12345;
    const delays: number[] = [];
    for (let i = 0; i < 2000; i++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      delays.push(x % 50);
    }
    const handles = delays.map((d, i) => m.scheduler.schedule(d, () => fired.push([i, m.now()])));
    // Every third one cancelled: the rest keep their order.
    handles.forEach((h, i) => {
      if (i % 3 === 0) h.cancel();
    });
    await m.advanceTo(50);
    const expected = delays
      .map((d, i) => [i, d] as [number, number])
      .filter(([i]) => i % 3 !== 0)
      .sort((a, b) => a[1] - b[1] || a[0] - b[0]);
    expect(fired).toEqual(expected);
    expect(m.pending).toBe(0);
    expect(m.errors).toEqual([]);
  });

  it("calls a target's onTimer with the handle that fired, once, at its deadline, and not after cancel", async () => {
    const m = new ManualClock();
    const calls: Array<[string, number]> = [];
    const target = {
      a: undefined as TimerHandle | undefined,
      b: undefined as TimerHandle | undefined,
      onTimer(h: TimerHandle) {
        calls.push([h === this.a ? "a" : h === this.b ? "b" : "?", m.now()]);
      },
    };
    target.a = m.scheduler.schedule(10, target);
    target.b = m.scheduler.schedule(5, target);
    const c = m.scheduler.schedule(7, target);
    c.cancel();
    await m.advanceTo(20);
    expect(calls).toEqual([
      ["b", 5],
      ["a", 10],
    ]);
    await m.advanceTo(40);
    expect(calls).toHaveLength(2);
    expect(m.pending).toBe(0);
    expect(m.errors).toEqual([]);
  });
});
