import { createSocket } from "node:dgram";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { MediaFaults, MediaPlan } from "../../src/media/types.js";
import { harness, Peer, rtpPacket, until } from "../fixtures/media/harness.js";

const PCMU = { codec: "PCMU" as const, payloadType: 0, telephoneEventPt: 101 };
const tone = (faults: MediaFaults): MediaPlan => ({ action: { kind: "tone", frequencies: [1000] }, faults });

async function sendWith(faults: MediaFaults, ms: number, seed = 1) {
  const h = harness({}, seed);
  const peer = await Peer.open();
  const s = await h.engine.allocate("127.0.0.1");
  s.start({ ...PCMU, remote: peer.endpoint }, tone(faults));
  h.clock.advance(ms);
  await until(() => peer.received.length >= s.stats().sent.packets, "the packets");
  return { ...h, peer, s };
}

describe("media faults", () => {
  it("rtpTimeout: RTP (and RTCP) stop after the timeout", async () => {
    const { peer, s, clock } = await sendWith({ rtpTimeoutMs: 200 }, 10_000);
    expect(peer.received.length).toBe(10);
    expect(s.stats().sent.packets).toBe(10);
    expect(s.stats().rtcp.sent).toBe(0);
    clock.advance(1000);
    expect(s.stats().sent.packets).toBe(10);
  });

  it("one-way no-send: nothing leaves, what arrives is still counted", async () => {
    const { peer, s } = await sendWith({ oneWay: "no-send" }, 1000);
    await peer.send(rtpPacket(0, 1, 0, 9, new Uint8Array(160)), s.local);
    await until(() => s.stats().received.packets === 1, "the packet");
    expect(peer.received.length).toBe(0);
    expect(s.stats().sent.packets).toBe(0);
  });

  it("one-way no-receive: no echo, no digits", async () => {
    const { engine } = harness();
    const peer = await Peer.open();
    const s = await engine.allocate("127.0.0.1");
    s.start(
      { ...PCMU, remote: peer.endpoint },
      { action: { kind: "echo" }, faults: { oneWay: "no-receive" } },
    );
    await peer.send(rtpPacket(0, 1, 0, 9, new Uint8Array(160)), s.local);
    await peer.send(rtpPacket(101, 2, 160, 9, Buffer.from("018a0640", "hex"), true), s.local);
    await until(() => s.stats().received.packets === 2, "the packets");
    expect(peer.received.length).toBe(0);
    expect(s.digits).toEqual([]);
  });

  it("wrong payload type on audio packets", async () => {
    const { peer } = await sendWith({ wrongPayloadType: 18 }, 100);
    expect(peer.rtp.map((p) => p.payloadType)).toEqual([18, 18, 18, 18, 18, 18]);
  });

  it("SSRC change after a time: new SSRC, marker on its first packet", async () => {
    const { peer } = await sendWith({ ssrcChangeAfterMs: 100 }, 200);
    const rtp = peer.rtp;
    expect(rtp.length).toBe(11);
    const a = rtp[0]!.ssrc;
    const b = rtp[10]!.ssrc;
    expect(b).not.toBe(a);
    expect(rtp.slice(0, 5).every((p) => p.ssrc === a)).toBe(true);
    expect(rtp.slice(5).every((p) => p.ssrc === b)).toBe(true);
    expect(rtp[5]!.marker).toBe(true);
  });

  it("packet loss: the percentage is dropped before the wire, leaving sequence gaps", async () => {
    const { peer, s } = await sendWith({ lossPercent: 30 }, 2000 - 20, 7);
    const st = s.stats();
    expect(st.sent.packets + st.dropped.faultLoss).toBe(100);
    expect(st.dropped.faultLoss).toBeGreaterThan(15);
    expect(st.dropped.faultLoss).toBeLessThan(45);
    const seqs = peer.rtp.map((p) => p.sequence);
    const span = ((seqs.at(-1)! - seqs[0]!) & 0xffff) + 1;
    expect(span - seqs.length).toBeGreaterThan(0);
    // the same seed loses the same packets
    const again = await sendWith({ lossPercent: 30 }, 2000 - 20, 7);
    expect(again.s.stats().dropped.faultLoss).toBe(st.dropped.faultLoss);
  });

  it("jitter: packets leave up to jitterMs late, so some overtake others", async () => {
    let out = 0;
    const { clock, engine } = harness({ capture: () => out++ });
    const peer = await Peer.open();
    const s = await engine.allocate("127.0.0.1");
    s.start({ ...PCMU, remote: peer.endpoint }, tone({ jitterMs: 60 }));
    clock.advance(1000);
    expect(out).toBeLessThan(s.stats().sent.packets); // some are still held back
    s.setPlan(tone({ oneWay: "no-send" })); // no new packets; the held ones still leave
    clock.advance(100);
    await until(() => peer.received.length === s.stats().sent.packets, "all packets");
    const seqs = peer.rtp.map((p) => p.sequence);
    const inversions = seqs.filter((q, i) => i > 0 && ((q - seqs[i - 1]!) & 0xffff) > 0x8000).length;
    expect(inversions).toBeGreaterThan(0);
    const timestamps = peer.rtp.map((p) => p.timestamp).sort((x, y) => x - y);
    expect(timestamps.every((t, i) => i === 0 || t - timestamps[i - 1]! === 160)).toBe(true);
  });

  it("late first packet: nothing before the delay, timestamps account for it", async () => {
    const { peer, s, clock } = await sendWith({ firstPacketDelayMs: 500 }, 480);
    expect(peer.received.length).toBe(0);
    clock.advance(520);
    await until(() => peer.received.length === 26, "26 packets");
    expect(s.stats().sent.packets).toBe(26);
    expect(peer.rtp[0]!.marker).toBe(true);
  });
});

describe("bad input is counted and dropped, never thrown", () => {
  it("malformed, unknown payload type, oversized", async () => {
    const { engine } = harness();
    const peer = await Peer.open();
    const s = await engine.allocate("127.0.0.1");
    await peer.send(rtpPacket(0, 1, 0, 9, new Uint8Array(160)), s.local); // before start: no PT negotiated
    await until(() => s.stats().dropped.unknownPayloadType === 1, "the early packet");
    s.start({ ...PCMU, remote: peer.endpoint }, { action: { kind: "echo" } });
    await peer.send(Buffer.from("80000001", "hex"), s.local); // short
    await peer.send(Buffer.from("400000010000000000000001ff", "hex"), s.local); // version 1
    await peer.send(Buffer.alloc(1), s.local);
    await peer.send(rtpPacket(18, 2, 160, 9, new Uint8Array(20)), s.local); // G.729 not negotiated
    await peer.send(rtpPacket(0, 3, 320, 9, new Uint8Array(1600)), s.local); // oversized
    await peer.send(rtpPacket(101, 4, 480, 9, new Uint8Array(2)), s.local); // short telephone-event
    await peer.send(Buffer.from("nonsense rtcp"), { address: "127.0.0.1", port: s.local.port + 1 });
    await peer.send(rtpPacket(0, 5, 640, 9, new Uint8Array(160).fill(0x55)), s.local);
    await peer.waitFor(1);
    expect(peer.rtp[0]!.payload.every((b) => b === 0x55)).toBe(true);
    expect(s.stats().dropped).toEqual({ malformed: 5, unknownPayloadType: 2, oversized: 1, faultLoss: 0 });
    expect(s.stats().received.packets).toBe(1);
  });
});

describe("random datagrams on both ports", () => {
  it("are each counted once (accepted or dropped), and the session goes on", async () => {
    let arrived = 0;
    const { engine, errors } = harness({
      capture: (_p, _f, _t, d) => {
        if (d === "in") arrived++;
      },
    });
    const peer = await Peer.open();
    const s = await engine.allocate("127.0.0.1");
    s.start({ ...PCMU, remote: peer.endpoint }, { action: { kind: "echo" } });
    const datagrams = fc.sample(
      fc.oneof(
        fc.uint8Array({ minLength: 1, maxLength: 1600 }),
        // mostly-valid RTP headers with random flags, CSRC counts, PTs and lengths
        fc
          .tuple(
            fc.integer({ min: 0, max: 255 }),
            fc.constantFrom(0, 101, 0x80, 0xe5, 18, 200),
            fc.uint8Array({ minLength: 10, maxLength: 200 }),
          )
          .map(([b0, b1, rest]) => Uint8Array.from([(b0 & 0x3f) | 0x80, b1, ...rest])),
      ),
      { numRuns: 300, seed: 42 },
    );
    // One at a time: a burst would overflow the socket's receive buffer before the loop reads it.
    const send = async (d: Uint8Array, port: number) => {
      const before = arrived;
      await peer.send(Buffer.from(d), { address: "127.0.0.1", port });
      await until(() => arrived > before, "the datagram");
    };
    for (const d of datagrams) await send(d, s.local.port);
    for (const d of datagrams.slice(0, 100)) await send(d, s.local.port + 1);
    const total = () => {
      const st = s.stats();
      const dr = st.dropped;
      return st.received.packets + dr.malformed + dr.unknownPayloadType + dr.oversized + st.rtcp.received;
    };
    expect(arrived).toBe(400);
    expect(total()).toBe(400);
    expect(errors).toEqual([]);
    await peer.send(rtpPacket(0, 1, 0, 0x77, new Uint8Array(160).fill(0x42)), s.local);
    await until(() => peer.rtp.some((p) => p.payload[0] === 0x42), "the echo of a valid packet");
  });
});

describe("addresses and ports", () => {
  it("symmetric RTP latches onto the source of the first packet", async () => {
    const { engine } = harness();
    const sdp = await Peer.open(); // where the SDP says, but the peer is behind NAT
    const nat = await Peer.open();
    const s = await engine.allocate("127.0.0.1");
    s.start({ ...PCMU, remote: sdp.endpoint }, { action: { kind: "echo" }, symmetric: true });
    await nat.send(rtpPacket(0, 1, 0, 9, new Uint8Array(160)), s.local);
    await nat.waitFor(1);
    expect(sdp.received.length).toBe(0);
    expect(s.stats().latched).toEqual(nat.endpoint);
    // a restart (183 -> 200) keeps the latched address
    s.start({ ...PCMU, remote: sdp.endpoint }, { action: { kind: "echo" }, symmetric: true });
    await nat.send(rtpPacket(0, 2, 160, 9, new Uint8Array(160)), s.local);
    await nat.waitFor(2);
    expect(sdp.received.length).toBe(0);
  });

  it("without symmetric RTP it sends to the SDP address whatever the source", async () => {
    const { engine } = harness();
    const sdp = await Peer.open();
    const other = await Peer.open();
    const s = await engine.allocate("127.0.0.1");
    s.start({ ...PCMU, remote: sdp.endpoint }, { action: { kind: "echo" } });
    await other.send(rtpPacket(0, 1, 0, 9, new Uint8Array(160)), s.local);
    await sdp.waitFor(1);
    expect(other.received.length).toBe(0);
    expect(s.stats().latched).toBeUndefined();
  });

  it("follows the negotiated direction (RFC 3264 6.1): recvonly sends nothing, sendonly ignores what arrives", async () => {
    const { engine, clock } = harness();
    const peer = await Peer.open();
    const s = await engine.allocate("127.0.0.1");
    s.start({ ...PCMU, remote: peer.endpoint, direction: "recvonly" }, { action: { kind: "echo" } });
    await peer.send(rtpPacket(0, 1, 0, 9, new Uint8Array(160)), s.local);
    await peer.send(rtpPacket(101, 2, 160, 9, Buffer.from("018a0640", "hex"), true), s.local);
    await until(() => s.stats().received.packets === 2, "the packets");
    expect(s.digits.map((d) => d.digit)).toEqual(["1"]); // received and processed
    expect(s.stats().sent.packets).toBe(0); // but no echo goes out
    s.start(
      { ...PCMU, remote: peer.endpoint, direction: "sendonly" },
      { action: { kind: "tone", frequencies: [1000] } },
    );
    await peer.send(rtpPacket(101, 3, 480, 9, Buffer.from("028a0640", "hex"), true), s.local);
    await until(() => s.stats().received.packets === 3, "the packet");
    expect(s.digits.map((d) => d.digit)).toEqual(["1"]);
    clock.advance(100);
    await peer.waitFor(5);
  });

  it("a re-INVITE moving the peer drops the symmetric latch", async () => {
    const { engine } = harness();
    const a = await Peer.open();
    const b = await Peer.open();
    const s = await engine.allocate("127.0.0.1");
    s.start({ ...PCMU, remote: a.endpoint }, { action: { kind: "echo" }, symmetric: true });
    await a.send(rtpPacket(0, 1, 0, 9, new Uint8Array(160)), s.local);
    await a.waitFor(1);
    s.start({ ...PCMU, remote: b.endpoint }, { action: { kind: "echo" }, symmetric: true });
    expect(s.stats().latched).toBeUndefined();
    await b.send(rtpPacket(0, 2, 160, 9, new Uint8Array(160)), s.local);
    await b.waitFor(1);
    expect(s.stats().latched).toEqual(b.endpoint);
  });

  it("sends nothing to a held stream (c=0.0.0.0)", async () => {
    let out = 0;
    const { engine, clock } = harness({ capture: () => out++ });
    const s = await engine.allocate("127.0.0.1");
    s.start({ ...PCMU, remote: { address: "0.0.0.0", port: 4000 } }, { action: { kind: "silence" } });
    clock.advance(10_000);
    expect(out).toBe(0);
  });

  it("allocates even RTP ports with RTCP on +1 from the range, skips busy ones, says when it is full", async () => {
    // Find a free block of 8 ports.
    let base = 0;
    for (let i = 0; i < 20 && !base; i++) {
      const cand = 40000 + 2 * Math.floor(Math.random() * 9000);
      const probe = createSocket("udp4");
      const ok = await new Promise<boolean>((r) => {
        probe.once("error", () => r(false));
        probe.bind(cand, "127.0.0.1", () => r(true));
      });
      probe.close();
      if (ok) base = cand;
    }
    const busy = await Peer.open(base + 3); // the RTCP port of the second pair
    const { engine } = harness({ portRange: [base, base + 7] });
    const a = await engine.allocate("127.0.0.1");
    const b = await engine.allocate("127.0.0.1");
    const c = await engine.allocate("127.0.0.1");
    expect([a.local.port, b.local.port, c.local.port]).toEqual([base, base + 4, base + 6]);
    await expect(engine.allocate("127.0.0.1")).rejects.toThrow(
      new RegExp(`no free RTP/RTCP port pair in ${base}-${base + 7}`),
    );
    busy.close();
    await b.close();
    const d = await engine.allocate("127.0.0.1");
    expect([base + 2, base + 4]).toContain(d.local.port);
  });

  it("an allocation racing the engine's close fails instead of leaking sockets", async () => {
    const { engine } = harness();
    const pending = engine.allocate("127.0.0.1");
    await engine.close();
    await expect(pending).rejects.toThrow(/media engine closed/);
    await expect(engine.allocate("127.0.0.1")).rejects.toThrow(/media engine closed/);
  });

  it("binds IPv6 too", async () => {
    const { engine } = harness();
    const s = await engine.allocate("::1");
    expect(s.local).toMatchObject({ address: "::1" });
    expect(s.local.port % 2).toBe(0);
  });
});
