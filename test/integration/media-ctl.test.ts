/**
 * DTMF through the real CLI: `sipmock ctl dtmf CALL-ID 12` makes the mock
 * send RFC 4733 telephone-events in the call's RTP (seen on the wire with the
 * negotiated payload type and end bits), and `ctl media` shows the digits a
 * SIP INFO application/dtmf-relay delivered and the packets each way.
 */
import { createSocket } from "node:dgram";
import { describe, expect, it } from "vitest";
import { ctlAsync, freeUdpPort, start, waitForOutput } from "../helpers/cli.js";
import { ackFor, header, request, statusOf, udpClient } from "../helpers/wire-client.js";

const ctl = ctlAsync;

describe("sipmock ctl dtmf / media", () => {
  it("ctl dtmf sends RFC 4733 events on the negotiated payload type; ctl media shows INFO digits and packets", async () => {
    const port = await freeUdpPort();
    const s = await start([
      "serve",
      "--listen",
      `udp:127.0.0.1:${port}`,
      "--admin",
      "0",
      "--rtp-ports",
      "33000-33099",
    ]);
    await waitForOutput(s.output, /admin API on http:\/\/127\.0\.0\.1:\d+/);
    const admin = /admin API on (http:\/\/127\.0\.0\.1:\d+)/.exec(s.output())![1]!;
    const target = { host: "127.0.0.1", port };
    const c = await udpClient(target);
    const rtp = createSocket("udp4");
    const events: Array<{ event: number; end: boolean }> = [];
    rtp.on("message", (m) => {
      if ((m[1]! & 0x7f) === 97) events.push({ event: m[12]!, end: (m[13]! & 0x80) !== 0 });
    });
    await new Promise<void>((r) => rtp.bind(0, "127.0.0.1", r));
    const callId = `ctl-dtmf-${process.pid}`;
    try {
      const sdp = [
        "v=0",
        "o=t 1 1 IN IP4 127.0.0.1",
        "s=-",
        "c=IN IP4 127.0.0.1",
        "t=0 0",
        `m=audio ${rtp.address().port} RTP/AVP 0 97`,
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:97 telephone-event/8000",
        "",
      ].join("\r\n");
      await c.send(
        request("INVITE", "alice", target, {
          localPort: c.port,
          callId,
          body: sdp,
          extra: [`Contact: <sip:caller@127.0.0.1:${c.port}>`, "Content-Type: application/sdp"],
        }),
      );
      const ok = await c.waitFor((r) => statusOf(r) === 200 && header(r, "Call-ID") === callId);
      expect(Number(/\r\nm=audio (\d+) RTP\/AVP 0 97\r\n/.exec(ok.text)?.[1])).toBeGreaterThanOrEqual(33000);
      await c.send(ackFor(ok, target, { localPort: c.port }));

      const sent = await ctl(admin, ["dtmf", callId, "12"]);
      expect(sent.stderr).toBe("");
      expect(sent.stdout).toBe(`DTMF 12 sent in ${callId} (RFC 4733)\n`);
      await expect
        .poll(() => events.filter((e) => e.end).length, { timeout: 3000 })
        .toBeGreaterThanOrEqual(2);
      expect([...new Set(events.map((e) => e.event))]).toEqual([1, 2]);

      const toTag = /;tag=([^;>\s]+)/.exec(header(ok, "To") ?? "")![1]!;
      await c.send(
        request("INFO", "alice", target, {
          localPort: c.port,
          callId,
          cseq: 2,
          toTag,
          body: "Signal=5\r\nDuration=100\r\n",
          extra: ["Content-Type: application/dtmf-relay"],
        }).replace(/^From: .*$/m, `From: ${header(ok, "From")}`),
      );
      await c.waitFor((r) => statusOf(r) === 200 && header(r, "CSeq") === "2 INFO");
      const media = await ctl(admin, ["media", callId]);
      expect(media.stdout).toMatch(
        new RegExp(`^${callId} dtmf="5" sent \\d+ received 0 lost 0 jitter 0\\.0 ms\\n$`),
      );
      // The INFO digit is a journal line of its own, after the INFO, from the INFO's sender.
      const journal = (await ctl(admin, ["journal", "--call-id", callId])).stdout.trim().split("\n");
      const infoAt = journal.findIndex((l) => / INFO /.test(l));
      expect(journal[infoAt + 1]).toMatch(
        new RegExp(`^\\S+ <- udp:127\\.0\\.0\\.1:${c.port} DTMF 5 \\(info, 100 ms\\) ${callId}$`),
      );
      const bad = await ctl(admin, ["dtmf", callId, "12x"]);
      expect(bad.status).not.toBe(0);
      expect(bad.stderr).toMatch(/digits must be DTMF digits/);
    } finally {
      rtp.close();
      await c.close();
      s.child.kill("SIGTERM");
    }
  });

  it("sipmock respond 200 --media echo: the call's RTP comes back", async () => {
    const port = await freeUdpPort();
    const s = await start(["respond", "200", "--media", "echo", "--listen", `udp:127.0.0.1:${port}`]);
    const target = { host: "127.0.0.1", port };
    const c = await udpClient(target);
    const rtp = createSocket("udp4");
    const back: Buffer[] = [];
    rtp.on("message", (m) => back.push(m));
    await new Promise<void>((r) => rtp.bind(0, "127.0.0.1", r));
    try {
      const sdp = `v=0\r\no=t 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${rtp.address().port} RTP/AVP 8\r\n`;
      await c.send(
        request("INVITE", "alice", target, {
          localPort: c.port,
          body: sdp,
          extra: [`Contact: <sip:caller@127.0.0.1:${c.port}>`, "Content-Type: application/sdp"],
        }),
      );
      const ok = await c.waitFor((r) => statusOf(r) === 200);
      await c.send(ackFor(ok, target, { localPort: c.port }));
      const mockRtp = Number(/\r\nm=audio (\d+) /.exec(ok.text)![1]);
      // A PCMA payload with a marker pattern: the echo sends it back decoded and re-encoded.
      for (let i = 0; i < 10; i++) {
        const h = Buffer.from([0x80, 8, 0, i, 0, 0, 0, i * 160, 0, 0, 0x12, 0x34]);
        rtp.send(Buffer.concat([h, Buffer.alloc(160, 0x55)]), mockRtp, "127.0.0.1");
      }
      await expect
        .poll(() => back.filter((b) => b[1]! === 8 && b[12] === 0x55).length, { timeout: 3000 })
        .toBeGreaterThan(5);
    } finally {
      rtp.close();
      await c.close();
      s.child.kill("SIGTERM");
    }
  });
});
