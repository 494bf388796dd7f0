/**
 * Issue 12: an overload refusal is stateless (RFC 3261 8.2.7) and
 * remembered over UDP. SIPp's INVITE is refused 503 under (injected)
 * event-loop lag; the lag is gone the moment the 503 leaves; SIPp then
 * sends the same INVITE again (same branch: a retransmission, as after a
 * lost 503). It gets the same 503 with the same To tag, never a call; the
 * refusal is counted once.
 */
import { afterEach, describe, expect, it } from "vitest";
import { type SipMock, silentLogger, startSipMock } from "../../src/index.js";
import { refusedThenRetransmittedScenario, runSipp } from "../peers/sipp.js";

let mock: SipMock | undefined;
afterEach(async () => {
  await mock?.close();
  mock = undefined;
});

const render = (m: SipMock) =>
  m.metrics.render({ transactions: 0, dialogs: 0, journalEntries: 0, overrides: 0 });

describe("overload refusals with SIPp", () => {
  it("a retransmission of a refused INVITE gets the same 503 and To tag after the load is gone, never a call", async () => {
    let lag = 2000;
    mock = await startSipMock({
      listen: ["udp:127.0.0.1:0"],
      logger: silentLogger,
      mediaPort: 40000,
      limits: { maxEventLoopLagMs: 500, eventLoopLag: () => lag, retryAfterS: 4 },
    });
    const seen: string[] = [];
    mock.onMessage((e) => {
      const first = e.bytes.toString("latin1", 0, e.bytes.indexOf("\r\n"));
      seen.push(
        `${e.direction} ${e.retransmission ? "again " : ""}${first.split(" ").slice(0, 2).join(" ")}`,
      );
      // The load is gone as the first 503 leaves, before SIPp has it.
      if (e.direction === "out" && first.startsWith("SIP/2.0 503")) lag = 0;
    });
    const r = await runSipp({
      scenarioXml: refusedThenRetransmittedScenario("200", 300),
      target: `127.0.0.1:${mock.address("udp").port}`,
      transport: "u1",
      calls: 1,
      rate: 1,
      timeoutMs: 20_000,
    });
    expect(r.exitCode, r.summary).toBe(0);
    const first = /^first (\S+)$/m.exec(r.logs)?.[1];
    const again = /^again (\S+)$/m.exec(r.logs)?.[1];
    expect(first, r.logs).toMatch(/^[0-9a-f]{12}$/);
    expect(again).toBe(first);
    // The mock took the second INVITE for a retransmission of the refused one, and answered it from memory.
    expect(seen.filter((s) => !s.includes("ACK"))).toEqual([
      "in INVITE sip:200@127.0.0.1:" + mock.address("udp").port,
      "out SIP/2.0 503",
      "in again INVITE sip:200@127.0.0.1:" + mock.address("udp").port,
      "out again SIP/2.0 503",
    ]);
    expect(render(mock)).toContain('sipmock_overload_rejections_total{reason="event-loop-lag"} 1');
  });
});
