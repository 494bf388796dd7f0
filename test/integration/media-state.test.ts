/**
 * Per-call media state over the wire: what the UA keeps for a call (its
 * initial INVITE, its RTP session) is freed when the call ends, also when the
 * call never had an RTP session (rejected without SDP, 2xx without SDP).
 */
import { describe, expect, it } from "vitest";
import { silentLogger, startSipMock } from "../../src/index.js";
import { ackFor, header, request, statusOf, udpClient } from "../helpers/wire-client.js";

describe("call state is freed when calls end", () => {
  it("INVITEs rejected without SDP (486) leave nothing tracked", async () => {
    await using mock = await startSipMock({
      listen: ["udp:127.0.0.1:0"],
      logger: silentLogger,
      respond: { code: 486 },
    });
    const udp = mock.address("udp");
    const c = await udpClient(udp);
    try {
      for (let i = 0; i < 40; i++) {
        const callId = `rej-${process.pid}-${i}`;
        await c.send(request("INVITE", "bob", udp, { localPort: c.port, callId }));
        await c.waitFor((r) => statusOf(r) === 486 && header(r, "Call-ID") === callId);
      }
      expect(mock.trackedCalls).toBe(0);
    } finally {
      await c.close();
    }
  });

  it("an answered call (INVITE without SDP, the mock offers in the 200) is forgotten after its BYE", async () => {
    await using mock = await startSipMock({ listen: ["udp:127.0.0.1:0"], logger: silentLogger });
    const udp = mock.address("udp");
    const c = await udpClient(udp);
    try {
      const callId = `nosdp-${process.pid}`;
      await c.send(
        request("INVITE", "bob", udp, {
          localPort: c.port,
          callId,
          extra: [`Contact: <sip:caller@127.0.0.1:${c.port}>`],
        }),
      );
      const ok = await c.waitFor((r) => statusOf(r) === 200 && header(r, "Call-ID") === callId);
      await c.send(ackFor(ok, udp, { localPort: c.port }));
      await expect.poll(() => mock.dialogs().find((d) => d.callId === callId)?.confirmed).toBe(true);
      expect(mock.trackedCalls).toBe(1);
      const toTag = /;tag=([^;\s]+)/.exec(header(ok, "To") ?? "")![1]!;
      const fromTag = /;tag=([^;\s]+)/.exec(header(ok, "From") ?? "")![1]!;
      await c.send(
        request("BYE", "bob", udp, { localPort: c.port, callId, cseq: 2, toTag }).replace(
          /;tag=from-\d+/,
          `;tag=${fromTag}`,
        ),
      );
      await c.waitFor((r) => statusOf(r) === 200 && (header(r, "CSeq") ?? "").endsWith("BYE"));
      expect(mock.trackedCalls).toBe(0);
    } finally {
      await c.close();
    }
  });
});
