/**
 * Issue 12: a mock that cannot keep up over UDP answers new requests 503 +
 * Retry-After instead of letting them wait in the kernel's receive queue
 * (where the event-loop lag never shows them). SIPp places the calls; the
 * mock's event loop is kept busy 45 ms of every 47 so datagrams wait behind
 * it, as they do behind a mock at its capacity, whatever the machine's speed
 * (47: the spins drift across the probe's 100 ms ticks instead of locking to
 * them).
 */
import { afterEach, describe, expect, it } from "vitest";
import { type SipMock, silentLogger, startSipMock } from "../../src/index.js";
import { answeredOrRefusedScenario, runSipp } from "../peers/sipp.js";

let mock: SipMock | undefined;
let spinner: ReturnType<typeof setInterval> | undefined;
afterEach(async () => {
  clearInterval(spinner);
  await mock?.close();
  mock = undefined;
});

const render = (m: SipMock) =>
  m.metrics.render({ transactions: 0, dialogs: 0, journalEntries: 0, overrides: 0 });

/** Keeps the event loop busy `busyMs` of every `everyMs`. */
function saturate(busyMs: number, everyMs: number): ReturnType<typeof setInterval> {
  return setInterval(() => {
    const end = performance.now() + busyMs;
    while (performance.now() < end) {
      // busy: no datagram is read meanwhile
    }
  }, everyMs);
}

const refusals = (logs: string) => [...logs.matchAll(/refused (\d+)/g)].map((m) => Number(m[1]));

describe("overload over UDP: the receive queue", () => {
  it("a saturated mock refuses new INVITEs 503 + Retry-After (reason: the UDP receive queue); every call gets an answer; calls are answered again once it catches up", async () => {
    mock = await startSipMock({
      listen: ["udp:127.0.0.1:0"],
      logger: silentLogger,
      mediaPort: 40000,
      limits: { maxEventLoopLagMs: 0, maxQueueDelayMs: 5, retryAfterS: 3 },
    });
    const target = `127.0.0.1:${mock.address("udp").port}`;
    spinner = saturate(45, 47);
    const loaded = await runSipp({
      scenarioXml: answeredOrRefusedScenario("200"),
      target,
      transport: "u1",
      calls: 90,
      rate: 30,
      timeoutMs: 30_000,
    });
    clearInterval(spinner);
    // Every call ended as the scenario allows: answered, or refused with a Retry-After; none timed out.
    expect(loaded.exitCode, loaded.summary).toBe(0);
    const refused = refusals(loaded.logs);
    expect(refused.length, loaded.logs).toBeGreaterThan(0);
    expect(new Set(refused)).toEqual(new Set([3]));
    const metrics = render(mock);
    const counted = /sipmock_overload_rejections_total\{reason="udp-receive-queue"\} (\d+)/.exec(metrics);
    expect(Number(counted?.[1])).toBe(refused.length);

    // Caught up (the next tick sees an idle loop): the same calls are answered.
    for (let i = 0; !/sipmock_udp_receive_queue_delay_seconds 0\n/.test(render(mock)); i++) {
      expect(i, "the receive-queue delay never fell back to 0").toBeLessThan(50);
      await new Promise((r) => setTimeout(r, 20));
    }
    const after = await runSipp({
      scenarioXml: answeredOrRefusedScenario("200"),
      target,
      transport: "u1",
      calls: 10,
      rate: 10,
      timeoutMs: 20_000,
    });
    expect(after.exitCode, after.summary).toBe(0);
    expect(refusals(after.logs)).toEqual([]);
  });

  it("--max-queue-delay 0 (maxQueueDelayMs: 0) turns it off: the same saturation refuses nothing", async () => {
    mock = await startSipMock({
      listen: ["udp:127.0.0.1:0"],
      logger: silentLogger,
      mediaPort: 40000,
      limits: { maxEventLoopLagMs: 0, maxQueueDelayMs: 0 },
    });
    spinner = saturate(45, 47);
    const loaded = await runSipp({
      scenarioXml: answeredOrRefusedScenario("200"),
      target: `127.0.0.1:${mock.address("udp").port}`,
      transport: "u1",
      calls: 30,
      rate: 30,
      timeoutMs: 30_000,
    });
    clearInterval(spinner);
    expect(loaded.exitCode, loaded.summary).toBe(0);
    expect(refusals(loaded.logs)).toEqual([]);
    expect(render(mock)).not.toContain('reason="udp-receive-queue"');
  });
});
