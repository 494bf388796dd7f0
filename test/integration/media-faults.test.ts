/**
 * Media faults and bad input through the whole stack: a scenario rule's
 * `media.faults` reach the RTP the mock sends (wrong payload type, RTP that
 * stops: rtpTimeout), and malformed, oversized or unknown-payload-type
 * packets sent to the mock are counted and dropped while the call goes on.
 * Hold (RFC 3264 6.1), symmetric RTP and `then: DTMF` through the same path.
 */
import { createSocket, type Socket } from "node:dgram";
import { describe, expect, it } from "vitest";
import { type SipMock, silentLogger, startSipMock } from "../../src/index.js";
import { ackFor, header, request, statusOf, udpClient } from "../helpers/wire-client.js";

async function rtpSocket(): Promise<{ socket: Socket; port: number; packets: Buffer[] }> {
  const socket = createSocket("udp4");
  const packets: Buffer[] = [];
  socket.on("message", (m) => packets.push(m));
  await new Promise<void>((r) => socket.bind(0, "127.0.0.1", r));
  return { socket, port: socket.address().port, packets };
}

function offer(port: number, direction = "sendrecv"): string {
  return [
    "v=0",
    "o=t 1 1 IN IP4 127.0.0.1",
    "s=-",
    "c=IN IP4 127.0.0.1",
    "t=0 0",
    `m=audio ${port} RTP/AVP 8 101`,
    "a=rtpmap:8 PCMA/8000",
    "a=rtpmap:101 telephone-event/8000",
    `a=${direction}`,
    "",
  ].join("\r\n");
}

/** Resolves once `count()` has not moved for 400 ms; returns its value. */
async function settled(count: () => number): Promise<number> {
  for (let round = 0; round < 10; round++) {
    const a = count();
    await new Promise((r) => setTimeout(r, 400));
    if (count() === a) return a;
  }
  throw new Error(`still moving after 4 s: ${count()}`);
}

/** An answered call from a wire client whose SDP names `rtpPort`; returns the mock's RTP port. */
async function call(mock: SipMock, rtpPort: number, callId: string) {
  const udp = mock.address("udp");
  const c = await udpClient(udp);
  await c.send(
    request("INVITE", "alice", udp, {
      localPort: c.port,
      callId,
      body: offer(rtpPort),
      extra: [`Contact: <sip:caller@127.0.0.1:${c.port}>`, "Content-Type: application/sdp"],
    }),
  );
  const ok = await c.waitFor((r) => statusOf(r) === 200 && header(r, "Call-ID") === callId);
  await c.send(ackFor(ok, udp, { localPort: c.port }));
  return { client: c, ok, mockPort: Number(/\r\nm=audio (\d+) /.exec(ok.text)![1]) };
}

describe("media faults and bad RTP", () => {
  it("faults: wrongPayloadType on every audio packet, rtpTimeout stops the RTP", async () => {
    await using mock = await startSipMock({ listen: ["udp:127.0.0.1:0"], logger: silentLogger });
    mock.setScenario(
      [
        "rules:",
        "  - match: { method: INVITE }",
        "    respond: 200",
        "    media: { answered: { tone: 1khz }, faults: { wrongPayloadType: 96, rtpTimeout: 300ms } }",
        "",
      ].join("\n"),
    );
    const rtp = await rtpSocket();
    const callId = `faults-${process.pid}`;
    const { client } = await call(mock, rtp.port, callId);
    try {
      await expect.poll(() => rtp.packets.length, { timeout: 3000 }).toBeGreaterThan(5);
      expect(new Set(rtp.packets.map((p) => p[1]! & 0x7f))).toEqual(new Set([96]));
      // rtpTimeout: the mock's sending stops, its count settles well below 1 s of packets.
      await expect
        .poll(() => mock.media(callId)[0]!.stats!.sent.packets, { timeout: 3000 })
        .toBeGreaterThan(0);
      const settled = async () => {
        const a = mock.media(callId)[0]!.stats!.sent.packets;
        await new Promise((r) => setTimeout(r, 400));
        return mock.media(callId)[0]!.stats!.sent.packets === a ? a : -1;
      };
      await expect.poll(settled, { timeout: 5000, interval: 0 }).toBeGreaterThan(0);
      expect(mock.media(callId)[0]!.stats!.sent.packets).toBeLessThan(30);
      mock.bye(callId);
    } finally {
      await client.close();
      rtp.socket.close();
    }
  });

  it("faults: loss drops a share of the mock's packets (counted), ssrcChangeAfter switches the SSRC", async () => {
    await using mock = await startSipMock({ listen: ["udp:127.0.0.1:0"], logger: silentLogger });
    mock.setScenario(
      "rules:\n  - match: { method: INVITE }\n    respond: 200\n    media: { answered: silence, faults: { loss: 50, ssrcChangeAfter: 200ms } }\n",
    );
    const rtp = await rtpSocket();
    const callId = `loss-ssrc-${process.pid}`;
    const { client } = await call(mock, rtp.port, callId);
    try {
      const ssrcs = () => new Set(rtp.packets.map((p) => p.readUInt32BE(8)));
      await expect.poll(() => ssrcs().size, { timeout: 3000 }).toBe(2);
      await expect.poll(() => rtp.packets.length, { timeout: 3000 }).toBeGreaterThan(20);
      const st = mock.media(callId)[0]!.stats!;
      expect(st.dropped.faultLoss).toBeGreaterThan(0);
      expect(st.sent.packets).toBeGreaterThan(0);
      mock.bye(callId);
    } finally {
      await client.close();
      rtp.socket.close();
    }
  });

  it("malformed, oversized and unknown-payload-type packets are counted and dropped; the call goes on", async () => {
    await using mock = await startSipMock({ listen: ["udp:127.0.0.1:0"], logger: silentLogger });
    const rtp = await rtpSocket();
    const callId = `bad-rtp-${process.pid}`;
    const { client, mockPort } = await call(mock, rtp.port, callId);
    try {
      const send = (b: Buffer) =>
        new Promise<void>((r) => rtp.socket.send(b, mockPort, "127.0.0.1", () => r()));
      const header = (pt: number, seq: number) => {
        const h = Buffer.alloc(12);
        h[0] = 0x80;
        h[1] = pt;
        h.writeUInt16BE(seq, 2);
        h.writeUInt32BE(seq * 160, 4);
        h.writeUInt32BE(0x1234, 8);
        return h;
      };
      await send(Buffer.from([1, 2, 3]));
      await send(Buffer.concat([header(8, 1), Buffer.alloc(3000)]));
      await send(Buffer.concat([header(77, 2), Buffer.alloc(160, 0xd5)]));
      for (let i = 3; i < 8; i++) await send(Buffer.concat([header(8, i), Buffer.alloc(160, 0xd5)]));
      await expect.poll(() => mock.media(callId)[0]!.stats!.received.packets, { timeout: 3000 }).toBe(5);
      const dropped = mock.media(callId)[0]!.stats!.dropped;
      expect(dropped.malformed).toBe(1);
      expect(dropped.oversized).toBe(1);
      expect(dropped.unknownPayloadType).toBe(1);
      expect(mock.bye(callId)).toBe(1);
    } finally {
      await client.close();
      rtp.socket.close();
    }
  });

  it("hold (RFC 3264 6.1): a re-INVITE with a=sendonly gets a=recvonly and the mock stops sending; sendrecv resumes", async () => {
    await using mock = await startSipMock({ listen: ["udp:127.0.0.1:0"], logger: silentLogger });
    const rtp = await rtpSocket();
    const callId = `hold-${process.pid}`;
    const { client: c, ok } = await call(mock, rtp.port, callId);
    const udp = mock.address("udp");
    const toTag = /;tag=([^;>\s]+)/.exec(header(ok, "To") ?? "")![1]!;
    const reinvite = async (cseq: number, direction: string) => {
      await c.send(
        request("INVITE", "alice", udp, {
          localPort: c.port,
          callId,
          cseq,
          toTag,
          body: offer(rtp.port, direction),
          extra: [`Contact: <sip:caller@127.0.0.1:${c.port}>`, "Content-Type: application/sdp"],
        }).replace(/^From: .*$/m, `From: ${header(ok, "From")}`),
      );
      const answer = await c.waitFor((r) => statusOf(r) === 200 && header(r, "CSeq") === `${cseq} INVITE`);
      await c.send(ackFor(answer, udp, { localPort: c.port }));
      return answer;
    };
    try {
      await expect.poll(() => rtp.packets.length, { timeout: 3000 }).toBeGreaterThan(5);
      const held = await reinvite(2, "sendonly");
      expect(held.text).toMatch(/\r\na=recvonly\r\n/);
      const frozen = await settled(() => rtp.packets.length);
      expect(await settled(() => rtp.packets.length)).toBe(frozen);
      const resumed = await reinvite(3, "sendrecv");
      expect(resumed.text).toMatch(/\r\na=sendrecv\r\n/);
      await expect.poll(() => rtp.packets.length, { timeout: 3000 }).toBeGreaterThan(frozen + 5);
      mock.bye(callId);
    } finally {
      await c.close();
      rtp.socket.close();
    }
  });

  it("symmetricRtp: the mock sends to where the peer's RTP comes from, not to its SDP port", async () => {
    await using mock = await startSipMock({
      listen: ["udp:127.0.0.1:0"],
      logger: silentLogger,
      symmetricRtp: true,
    });
    mock.setScenario("rules:\n  - match: { method: INVITE }\n    respond: 200\n    media: echo\n");
    const advertised = await rtpSocket();
    const real = await rtpSocket();
    const callId = `symmetric-${process.pid}`;
    const { client, mockPort } = await call(mock, advertised.port, callId);
    try {
      for (let i = 0; i < 10; i++) {
        const h = Buffer.from([0x80, 8, 0, i, 0, 0, 0, i * 160, 0, 0, 0x56, 0x78]);
        real.socket.send(Buffer.concat([h, Buffer.alloc(160, 0x55)]), mockPort, "127.0.0.1");
      }
      await expect.poll(() => real.packets.length, { timeout: 3000 }).toBeGreaterThan(5);
      expect(mock.media(callId)[0]!.stats!.latched).toEqual({ address: "127.0.0.1", port: real.port });
      mock.bye(callId);
    } finally {
      await client.close();
      advertised.socket.close();
      real.socket.close();
    }
  });

  it("then: [{ send: DTMF, digits }] sends RFC 4733 events on the negotiated telephone-event type", async () => {
    await using mock = await startSipMock({ listen: ["udp:127.0.0.1:0"], logger: silentLogger });
    mock.setScenario(
      "rules:\n  - match: { method: INVITE }\n    respond: 200\n    then: [{ send: DTMF, digits: '5#', after: 100ms }]\n",
    );
    const rtp = await rtpSocket();
    const callId = `then-dtmf-${process.pid}`;
    const { client } = await call(mock, rtp.port, callId);
    try {
      const ends = () => rtp.packets.filter((p) => (p[1]! & 0x7f) === 101 && (p[13]! & 0x80) !== 0);
      await expect.poll(() => new Set(ends().map((p) => p[12])).size, { timeout: 3000 }).toBe(2);
      expect([...new Set(ends().map((p) => p[12]))]).toEqual([5, 11]);
      mock.bye(callId);
    } finally {
      await client.close();
      rtp.socket.close();
    }
  });

  it("every RTP port of rtpPorts in use: the next call gets 503 with Retry-After, the first goes on", async () => {
    await using mock = await startSipMock({
      listen: ["udp:127.0.0.1:0"],
      logger: silentLogger,
      rtpPorts: [31600, 31601],
    });
    const rtp = await rtpSocket();
    const first = await call(mock, rtp.port, `full-1-${process.pid}`);
    const udp = mock.address("udp");
    const c = await udpClient(udp);
    try {
      expect(first.mockPort).toBe(31600);
      await c.send(
        request("INVITE", "alice", udp, {
          localPort: c.port,
          callId: `full-2-${process.pid}`,
          body: offer(rtp.port),
          extra: [`Contact: <sip:caller@127.0.0.1:${c.port}>`, "Content-Type: application/sdp"],
        }),
      );
      const refused = await c.waitFor((r) => statusOf(r) >= 200);
      expect(statusOf(refused)).toBe(503);
      expect(header(refused, "Retry-After")).toBe("5");
      expect(mock.bye(`full-1-${process.pid}`)).toBe(1);
    } finally {
      await c.close();
      await first.client.close();
      rtp.socket.close();
    }
  });

  it("--advertise: the SDP names the advertised address, the RTP sockets bind to the listener's", async () => {
    await using mock = await startSipMock({
      listen: ["udp:127.0.0.1:0"],
      logger: silentLogger,
      advertise: "192.0.2.10",
    });
    const rtp = await rtpSocket();
    const callId = `advertise-${process.pid}`;
    const { client, ok, mockPort } = await call(mock, rtp.port, callId);
    try {
      expect(ok.text).toMatch(/\r\nc=IN IP4 192\.0\.2\.10\r\n/);
      const h = Buffer.from([0x80, 8, 0, 1, 0, 0, 0, 160, 0, 0, 0x9a, 0xbc]);
      rtp.socket.send(Buffer.concat([h, Buffer.alloc(160, 0xd5)]), mockPort, "127.0.0.1");
      await expect.poll(() => mock.media(callId)[0]!.stats!.received.packets, { timeout: 3000 }).toBe(1);
      mock.bye(callId);
    } finally {
      await client.close();
      rtp.socket.close();
    }
  });
});
