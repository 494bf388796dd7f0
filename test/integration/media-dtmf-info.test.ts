/**
 * SIP INFO application/dtmf-relay (the de-facto relay body, Signal= and
 * Duration=): each digit of an answered call goes into the mock's per-call
 * media record, verifyDtmf, the admin API and the metrics.
 */
import { describe, expect, it } from "vitest";
import { silentLogger, startSipMock } from "../../src/index.js";
import { ackFor, header, request, statusOf, udpClient } from "../helpers/wire-client.js";

describe("INFO application/dtmf-relay", () => {
  it("records the digits of the call: dtmf(), media(), verifyDtmf, metrics", async () => {
    await using mock = await startSipMock({ listen: ["udp:127.0.0.1:0"], logger: silentLogger });
    const udp = mock.address("udp");
    const c = await udpClient(udp);
    const callId = `info-dtmf-${process.pid}`;
    try {
      await c.send(
        request("INVITE", "alice", udp, {
          localPort: c.port,
          callId,
          extra: [`Contact: <sip:caller@127.0.0.1:${c.port}>`],
        }),
      );
      const ok = await c.waitFor((r) => statusOf(r) === 200 && header(r, "Call-ID") === callId);
      await c.send(ackFor(ok, udp, { localPort: c.port }));
      const toTag = /;tag=([^;>\s]+)/.exec(header(ok, "To") ?? "")![1]!;
      const from = header(ok, "From")!;
      let cseq = 2;
      for (const signal of ["1", "2", "3", "11"]) {
        const info = request("INFO", "alice", udp, {
          localPort: c.port,
          callId,
          cseq: cseq++,
          toTag,
          body: `Signal=${signal}\r\nDuration=160\r\n`,
          extra: ["Content-Type: application/dtmf-relay"],
        }).replace(/^From: .*$/m, `From: ${from}`);
        await c.send(info);
        await c.waitFor((r) => statusOf(r) === 200 && header(r, "CSeq") === `${cseq - 1} INFO`);
      }
      expect(mock.dtmf(callId)).toBe("123#");
      const [m] = mock.media(callId);
      expect(m!.digits.map((d) => [d.digit, d.via, d.durationMs])).toEqual([
        ["1", "info", 160],
        ["2", "info", 160],
        ["3", "info", 160],
        ["#", "info", 160],
      ]);
      expect(mock.verifyDtmf("123#", { callId }).callId).toBe(callId);
      expect(() => mock.verifyDtmf("124#", { callId })).toThrow(/expected DTMF "124#".*\n.*"123#"/s);
      await expect
        .poll(() => mock.metrics.render({ transactions: 0, dialogs: 0, journalEntries: 0, overrides: 0 }))
        .toMatch(/sipmock_dtmf_digits_received_total\{via="info"\} 4/);
      mock.bye(callId);
    } finally {
      await c.close();
    }
  });
});
