import { readFileSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseTelephoneEvent, TelephoneEventReceiver } from "../../src/media/dtmf.js";
import { decodeG711 } from "../../src/media/g711.js";
import { buildRtcpCompound, parseRtcp } from "../../src/media/rtcp.js";
import { goertzel, toneSamples } from "../../src/media/sources.js";
import { encodeWav, readWav } from "../../src/media/wav.js";
import { encodeFrame, harness, Peer, rtpPacket, until } from "../fixtures/media/harness.js";

const PCMU = { codec: "PCMU" as const, payloadType: 0, telephoneEventPt: 101 };

function pcmOf(packets: { payload: Buffer }[], codec: "PCMU" | "PCMA" = "PCMU"): Int16Array {
  const bytes = Buffer.concat(packets.map((p) => p.payload));
  const out = new Int16Array(bytes.length);
  decodeG711(codec, bytes, out);
  return out;
}

function toneFrames(freq: number, frames: number, codec: "PCMU" | "PCMA" = "PCMU"): Uint8Array[] {
  const out: Uint8Array[] = [];
  const s = new Int16Array(160);
  for (let i = 0; i < frames; i++) {
    toneSamples({ frequencies: [freq] }, i * 160, s);
    out.push(encodeFrame(codec, s));
  }
  return out;
}

describe("media session over loopback, paced by a manual clock", () => {
  it("sends a 1 kHz tone as 20 ms PCMU packets with RFC 3550 headers", async () => {
    const captured: [string, number][] = [];
    const { clock, engine } = harness({ capture: (p, _f, _t, dir) => captured.push([dir, p.length]) });
    const peer = await Peer.open();
    const s = await engine.allocate("127.0.0.1");
    expect(s.local.port % 2).toBe(0);
    s.start({ ...PCMU, remote: peer.endpoint }, { action: { kind: "tone", frequencies: [1000] } });
    clock.advance(999);
    await peer.waitFor(50);
    clock.advance(1);
    await peer.waitFor(51);
    const rtp = peer.rtp;
    expect(rtp.length).toBe(51);
    for (let i = 1; i < rtp.length; i++) {
      expect(rtp[i]!.sequence).toBe((rtp[0]!.sequence + i) & 0xffff);
      expect(rtp[i]!.timestamp).toBe((rtp[0]!.timestamp + i * 160) >>> 0);
      expect(rtp[i]!.ssrc).toBe(rtp[0]!.ssrc);
      expect(rtp[i]!.marker).toBe(false);
      expect(rtp[i]!.payload.length).toBe(160);
    }
    expect(rtp[0]!.marker).toBe(true);
    expect(rtp[0]!.payloadType).toBe(0);
    expect(peer.from[0]!.port).toBe(s.local.port);
    const pcm = pcmOf(rtp);
    expect(goertzel(pcm, 1000)).toBeGreaterThan(6000);
    expect(goertzel(pcm, 425)).toBeLessThan(300);
    expect(s.stats().sent).toMatchObject({ packets: 51, octets: 51 * 160 });
    expect(captured.filter(([d, n]) => d === "out" && n === 172).length).toBe(51);
  });

  it("echoes what arrives (PCMA), re-stamped with its own SSRC, and counts it", async () => {
    const { engine } = harness();
    const peer = await Peer.open();
    const s = await engine.allocate("127.0.0.1");
    s.start({ codec: "PCMA", payloadType: 8, remote: peer.endpoint }, { action: { kind: "echo" } });
    const frames = toneFrames(700, 10, "PCMA");
    for (let i = 0; i < 10; i++) await peer.send(rtpPacket(8, 100 + i, i * 160, 0xabc, frames[i]!), s.local);
    await peer.waitFor(10);
    const back = peer.rtp;
    expect(back.map((p) => Buffer.from(p.payload))).toEqual(frames.map((f) => Buffer.from(f)));
    expect(new Set(back.map((p) => p.ssrc)).size).toBe(1);
    expect(back[0]!.ssrc).not.toBe(0xabc);
    expect(back.every((p) => p.payloadType === 8)).toBe(true);
    expect(back.map((p) => (p.sequence - back[0]!.sequence) & 0xffff)).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
    expect(s.stats().received).toMatchObject({ packets: 10, octets: 1600, lost: 0 });
    expect(s.stats().sent).toMatchObject({ packets: 10, octets: 1600 });
  });

  it("records the decoded audio with lost packets as silence; the WAV header has the final sizes", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sipmock-media-"));
    const file = join(dir, "call-1.wav");
    const { clock, engine } = harness();
    const peer = await Peer.open();
    const s = await engine.allocate("127.0.0.1");
    s.start({ ...PCMU, remote: peer.endpoint }, { action: { kind: "silence" }, record: file });
    const frames = toneFrames(425, 100);
    let n = 0;
    for (let i = 0; i < 100; i++) {
      if (i > 0) clock.advance(20); // the peer's pace: the lost packet's 20 ms pass too
      if (i === 40) continue; // lost
      await peer.send(rtpPacket(0, 7 + i, 5000 + i * 160, 42, frames[i]!), s.local);
      n++;
      await until(() => s.stats().received.packets === n, "the packet"); // no burst to overflow the socket buffer
    }
    expect(s.stats().received.lost).toBe(1);
    await s.close();
    const wav = readFileSync(file);
    expect(wav.readUInt32LE(40)).toBe(16000 * 2);
    expect(wav.readUInt32LE(4)).toBe(36 + 32000);
    const samples = readWav(wav);
    expect(samples.length).toBe(16000);
    expect(goertzel(samples.subarray(0, 6400), 425)).toBeGreaterThan(6000);
    expect(goertzel(samples.subarray(0, 6400), 1000)).toBeLessThan(200);
    expect(samples.subarray(6400, 6560).every((v) => v === 0)).toBe(true);
  });

  it("fills a pause in the peer's timestamps with silence, not a jump of over 10 s", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sipmock-media-"));
    const file = join(dir, "pause.wav");
    const { clock, engine } = harness();
    const peer = await Peer.open();
    const s = await engine.allocate("127.0.0.1");
    s.start({ ...PCMU, remote: peer.endpoint }, { action: { kind: "silence" }, record: file });
    const f = toneFrames(1000, 1)[0]!;
    const stamps = [0, 160, 160 + 3 * 8000, 160 + 3 * 8000 + 160, 9e8, 9e8 + 160];
    const at = [0, 20, 3020, 3040, 3060, 3080]; // ms after the first, when each arrives
    const t0 = clock.now();
    for (const [i, ts] of stamps.entries()) {
      clock.advance(t0 + at[i]! - clock.now());
      await peer.send(rtpPacket(0, i, ts, 5, f), s.local);
      await until(() => s.stats().received.packets === i + 1, "the packet");
    }
    await s.close();
    // 6 frames + 3 s of pause (less the frame before it); nothing for the 9e8 jump
    expect(readWav(readFileSync(file)).length).toBe(6 * 160 + 3 * 8000 - 160);
  });

  it("a timestamp jump is filled with no more silence than the time that passed (40 ms, not 5 s)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sipmock-media-"));
    const file = join(dir, "jump.wav");
    const { clock, engine } = harness();
    const peer = await Peer.open();
    const s = await engine.allocate("127.0.0.1");
    s.start({ ...PCMU, remote: peer.endpoint }, { action: { kind: "silence" }, record: file });
    const f = toneFrames(1000, 1)[0]!;
    const t0 = clock.now();
    for (const [i, ts] of [0, 160 + 5 * 8000].entries()) {
      clock.advance(t0 + i * 40 - clock.now());
      await peer.send(rtpPacket(0, i, ts, 5, f), s.local);
      await until(() => s.stats().received.packets === i + 1, "the packet");
    }
    await s.close();
    expect(readWav(readFileSync(file)).length).toBe(2 * 160 + 320);
  });

  it("a session on the dual-stack [::] sends RTP to an IPv4 peer (IPv4-mapped destination)", async () => {
    const errors: string[] = [];
    const { clock, engine } = harness({ onError: (e) => errors.push(e.message) });
    const peer = await Peer.open();
    const s = await engine.allocate("::");
    s.start({ ...PCMU, remote: peer.endpoint }, { action: { kind: "silence" } });
    clock.advance(100);
    await peer.waitFor(5);
    expect(peer.rtp.length).toBeGreaterThanOrEqual(5);
    expect(peer.from[0]!.port).toBe(s.local.port);
    await s.close();
    expect(errors).toEqual([]);
  });

  it("inactivity: expires once nothing arrived for the time given; each packet restarts the wait", async () => {
    const { clock, engine } = harness();
    const peer = await Peer.open();
    const s = await engine.allocate("127.0.0.1");
    s.start({ ...PCMU, remote: peer.endpoint }, { action: { kind: "silence" } });
    let expired = 0;
    s.watchInactivity(1000, () => expired++);
    clock.advance(900);
    await peer.send(rtpPacket(0, 1, 160, 9, toneFrames(1000, 1)[0]!), s.local);
    await until(() => s.stats().received.packets === 1, "the packet");
    clock.advance(999);
    expect(expired).toBe(0);
    clock.advance(1);
    expect(expired).toBe(1);
    clock.advance(5000);
    expect(expired).toBe(1);
    s.watchInactivity(0, () => expired++); // off
    clock.advance(5000);
    expect(expired).toBe(1);
  });

  it("inactivity: a call on hold (we only send) is not watched", async () => {
    const { clock, engine } = harness();
    const peer = await Peer.open();
    const s = await engine.allocate("127.0.0.1");
    s.start({ ...PCMU, remote: peer.endpoint, direction: "sendonly" }, { action: { kind: "silence" } });
    let expired = 0;
    s.watchInactivity(1000, () => expired++);
    clock.advance(10_000);
    expect(expired).toBe(0);
  });

  it("plays a 16 kHz prompt (encoded to PCMU) once, then silence", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sipmock-media-"));
    const file = join(dir, "prompt.wav");
    const tone = Int16Array.from({ length: 8000 }, (_, i) =>
      Math.round(8000 * Math.sin((2 * Math.PI * 1000 * i) / 16000)),
    );
    await writeFile(file, encodeWav(tone, 16000)); // 0.5 s
    const { clock, engine } = harness();
    const peer = await Peer.open();
    const s = await engine.allocate("127.0.0.1");
    s.start({ ...PCMU, remote: peer.endpoint }, { action: { kind: "play", file } });
    // Silence until the file is read; then the prompt from its start.
    let sent = 0;
    await until(() => {
      clock.advance(20);
      sent++;
      return peer.received.length > 0 && peer.rtp.some((p) => p.payload.some((b) => b !== 0xff));
    }, "the prompt");
    clock.advance(2000);
    const total = sent + 100;
    await peer.waitFor(total);
    const rtp = peer.rtp;
    const first = rtp.findIndex((p) => p.payload.some((b) => b !== 0xff));
    const prompt = pcmOf(rtp.slice(first, first + 25));
    expect(goertzel(prompt, 1000)).toBeGreaterThan(6000);
    expect(rtp.slice(first + 25).every((p) => p.payload.every((b) => b === 0xff))).toBe(true);
  });

  it("reports a recording it cannot write, and the call's media goes on", async () => {
    const { clock, engine, errors } = harness();
    const peer = await Peer.open();
    const s = await engine.allocate("127.0.0.1");
    s.start(
      { ...PCMU, remote: peer.endpoint },
      { action: { kind: "echo" }, record: "/nonexistent/dir/call.wav" },
    );
    await until(() => errors.length > 0, "the error");
    expect(errors[0]!.message).toMatch(/^record \/nonexistent\/dir\/call\.wav: ENOENT/);
    for (let i = 0; i < 60; i++) {
      await peer.send(rtpPacket(0, i, i * 160, 3, new Uint8Array(160)), s.local);
      await peer.waitFor(i + 1); // the echo: one at a time, more than a second's worth of recording
    }
    clock.advance(100);
    await s.close();
    expect(errors).toHaveLength(1);
  });

  it("reports an unreadable prompt and keeps sending silence", async () => {
    const { clock, engine, errors } = harness();
    const peer = await Peer.open();
    const s = await engine.allocate("127.0.0.1");
    s.start(
      { ...PCMU, remote: peer.endpoint },
      { action: { kind: "play", file: "/nonexistent/prompt.wav" } },
    );
    await until(() => errors.length > 0, "the error");
    expect(errors[0]!.message).toMatch(/^play \/nonexistent\/prompt\.wav: ENOENT/);
    clock.advance(100);
    await peer.waitFor(6);
    expect(peer.rtp.every((p) => p.payload.every((b) => b === 0xff))).toBe(true);
  });
});

describe("restarts and plan changes", () => {
  it("a re-start (183 -> 200, re-INVITE to PCMA) keeps SSRC, sequence and timestamp running", async () => {
    const { clock, engine } = harness();
    const peer = await Peer.open();
    const s = await engine.allocate("127.0.0.1");
    s.start(
      { ...PCMU, remote: peer.endpoint },
      { action: { kind: "tone", frequencies: [425], onMs: 1000, offMs: 4000 } },
    );
    clock.advance(190); // 10 packets: 0..180 ms
    s.start(
      { codec: "PCMA", payloadType: 8, remote: peer.endpoint },
      { action: { kind: "tone", frequencies: [1000] } },
    );
    clock.advance(199); // 10 more, on the same 20 ms grid
    await peer.waitFor(20);
    const rtp = peer.rtp;
    expect(rtp.length).toBe(20);
    expect(new Set(rtp.map((p) => p.ssrc)).size).toBe(1);
    for (let i = 1; i < 20; i++) expect(rtp[i]!.sequence).toBe((rtp[0]!.sequence + i) & 0xffff);
    expect(rtp.slice(0, 10).every((p) => p.payloadType === 0)).toBe(true);
    expect(rtp.slice(10).every((p) => p.payloadType === 8)).toBe(true);
    // timestamps run on without a gap or an overlap
    for (let i = 1; i < 20; i++) expect((rtp[i]!.timestamp - rtp[i - 1]!.timestamp) >>> 0).toBe(160);
    expect(goertzel(pcmOf(rtp.slice(0, 10)), 425)).toBeGreaterThan(6000);
    expect(goertzel(pcmOf(rtp.slice(10), "PCMA"), 1000)).toBeGreaterThan(6000);
  });

  it("setPlan switches what is sent without a restart", async () => {
    const { clock, engine } = harness();
    const peer = await Peer.open();
    const s = await engine.allocate("127.0.0.1");
    s.start({ ...PCMU, remote: peer.endpoint }, { action: { kind: "tone", frequencies: [1000] } });
    clock.advance(90);
    s.setPlan({ action: { kind: "silence" } });
    clock.advance(100);
    await peer.waitFor(10);
    const rtp = peer.rtp;
    expect(rtp.slice(0, 5).every((p) => p.payload.some((b) => b !== 0xff))).toBe(true);
    expect(rtp.slice(5).every((p) => p.payload.every((b) => b === 0xff))).toBe(true);
  });

  it("counts a peer that changes SSRC as a new source, not as loss", async () => {
    const { engine } = harness();
    const peer = await Peer.open();
    const s = await engine.allocate("127.0.0.1");
    s.start({ ...PCMU, remote: peer.endpoint }, { action: { kind: "silence" } });
    const f = new Uint8Array(160);
    for (let i = 0; i < 5; i++) await peer.send(rtpPacket(0, 10 + i, i * 160, 0xa, f), s.local);
    for (let i = 0; i < 5; i++) await peer.send(rtpPacket(0, 40000 + i, 9e8 + i * 160, 0xb, f), s.local);
    await until(() => s.stats().received.packets === 10, "10 packets");
    expect(s.stats().received).toMatchObject({ packets: 10, lost: 0, octets: 1600 });
  });
});

describe("DTMF through a session", () => {
  it("sends RFC 4733 events: same timestamp per event, marker first, 3 end packets, no audio meanwhile", async () => {
    const { clock, engine } = harness();
    const peer = await Peer.open();
    const s = await engine.allocate("127.0.0.1");
    s.start({ ...PCMU, remote: peer.endpoint }, { action: { kind: "silence" } });
    let done = false;
    const sending = s.sendDtmf("1#", 100).then(() => {
      done = true;
    });
    for (let i = 0; i < 40 && !done; i++) {
      clock.advance(20);
      await new Promise((r) => setImmediate(r));
    }
    await sending;
    await until(() => peer.received.length >= s.stats().sent.packets, "all packets");
    const rtp = peer.rtp;
    const events = rtp.filter((p) => p.payloadType === 101);
    // 100 ms at 20 ms: 5 packets, the 5th the first end packet, +2 redundant end packets, per digit
    expect(events.length).toBe(14);
    const got: string[] = [];
    const rx = new TelephoneEventReceiver((d) => got.push(`${d.digit}/${d.durationMs}/${d.volume}`));
    for (const p of events) rx.receive(p.timestamp, parseTelephoneEvent(p.payload)!, p.marker);
    expect(got).toEqual(["1/100/10", "#/100/10"]);
    const one = events.slice(0, 7);
    expect(new Set(one.map((p) => p.timestamp)).size).toBe(1);
    expect(one.map((p) => p.marker)).toEqual([true, false, false, false, false, false, false]);
    expect(one.map((p) => parseTelephoneEvent(p.payload)!.duration)).toEqual([
      160, 320, 480, 640, 800, 800, 800,
    ]);
    expect(one.map((p) => parseTelephoneEvent(p.payload)!.end)).toEqual([
      false,
      false,
      false,
      false,
      true,
      true,
      true,
    ]);
    // audio stops during an event and the sequence numbers run on without a gap
    const firstEv = rtp.indexOf(events[0]!);
    expect(rtp.slice(firstEv, firstEv + 7).every((p) => p.payloadType === 101)).toBe(true);
    for (let i = 1; i < rtp.length; i++) expect(rtp[i]!.sequence).toBe((rtp[i - 1]!.sequence + 1) & 0xffff);
    expect(events[7]!.timestamp).toBeGreaterThan(events[0]!.timestamp);
  });

  it("rejects DTMF without a telephone-event payload type, or with a bad digit", async () => {
    const { engine } = harness();
    const s = await engine.allocate("127.0.0.1");
    const peer = await Peer.open();
    await expect(s.sendDtmf("1")).rejects.toThrow(/not negotiated/);
    s.start({ codec: "PCMU", payloadType: 0, remote: peer.endpoint }, { action: { kind: "silence" } });
    await expect(s.sendDtmf("1")).rejects.toThrow(/telephone-event \(RFC 4733\) was not negotiated/);
    s.start({ ...PCMU, remote: peer.endpoint }, { action: { kind: "silence" } });
    await expect(s.sendDtmf("1x")).rejects.toThrow(/"x" is not a DTMF digit/);
  });

  it("receives SIPp's recorded events and SIP INFO digits alike", async () => {
    const { engine } = harness();
    const peer = await Peer.open();
    const s = await engine.allocate("127.0.0.1");
    const heard: string[] = [];
    s.onDigit((d) => heard.push(`${d.digit}:${d.via}`));
    s.start({ ...PCMU, remote: peer.endpoint }, { action: { kind: "silence" } });
    const raw = readFileSync("/usr/share/sip-tester/dtmf_2833_5.pcap");
    // Ten frames of 58 octets: 16 record header + 14 Ethernet + 20 IPv4 + 8 UDP, then 16 octets of RTP.
    for (let i = 0; i < 10; i++) {
      const at = 24 + i * (16 + 58) + 16 + 42;
      await peer.send(raw.subarray(at, at + 16), s.local);
    }
    await until(() => s.digits.length === 1, "the digit");
    s.noteInfoDigit("#", 160);
    expect(s.digits.map((d) => [d.digit, d.durationMs, d.volume, d.via])).toEqual([
      ["5", 280, 10, "rfc4733"],
      ["#", 160, 0, "info"],
    ]);
    expect(heard).toEqual(["5:rfc4733", "#:info"]);
  });

  it("names the events' RTP source; a digit without end packets is reported by flushDigits, once", async () => {
    const { engine } = harness();
    const peer = await Peer.open();
    const s = await engine.allocate("127.0.0.1");
    s.start({ ...PCMU, remote: peer.endpoint }, { action: { kind: "silence" } });
    const raw = readFileSync("/usr/share/sip-tester/dtmf_2833_7.pcap");
    // The first seven frames only: the three end packets (E bit) never arrive.
    for (let i = 0; i < 7; i++) {
      const at = 24 + i * (16 + 58) + 16 + 42;
      await peer.send(raw.subarray(at, at + 16), s.local);
    }
    await until(() => s.stats().received.packets === 7, "the event packets");
    expect(s.digits).toHaveLength(0);
    s.flushDigits();
    expect(s.digits.map((d) => [d.digit, d.via, d.source, d.local])).toEqual([
      ["7", "rfc4733", peer.endpoint, s.local],
    ]);
    await s.close();
    expect(s.digits).toHaveLength(1);
  });
});

describe("RTCP", () => {
  it("sends SR + SDES at the RFC 3550 interval, takes the peer's RR into the sent stats, BYE on close", async () => {
    const { clock, engine } = harness();
    const peer = await Peer.open();
    const peerRtcp = await Peer.open();
    const s = await engine.allocate("127.0.0.1");
    s.start(
      { ...PCMU, remote: peer.endpoint, remoteRtcp: peerRtcp.endpoint },
      { action: { kind: "tone", frequencies: [1000] } },
    );
    clock.advance(1000);
    expect(peerRtcp.received.length).toBe(0); // the first report comes after 1.03..3.08 s
    clock.advance(3000);
    await peerRtcp.waitFor(1);
    const sr = parseRtcp(peerRtcp.received[0]!)!;
    await peer.waitFor(50);
    const ssrc = peer.rtp[0]!.ssrc;
    expect(sr.ssrc).toBe(ssrc);
    expect(sr.sender!.packetCount).toBeGreaterThan(50);
    expect(sr.sender!.octetCount).toBe(sr.sender!.packetCount * 160);
    expect(sr.cname).toBe("sipmock@127.0.0.1");
    expect(sr.bye).toBe(false);
    expect(peerRtcp.from[0]!.port).toBe(s.local.port + 1);
    // The peer reports 7 of our packets lost and 80 timestamp units (10 ms) of jitter.
    const rr = buildRtcpCompound({
      ssrc: 0x5151,
      cname: "peer",
      reports: [{ ssrc, fractionLost: 3, cumulativeLost: 7, highestSeq: 0, jitter: 80, lsr: 0, dlsr: 0 }],
    });
    await peerRtcp.send(rr, { address: "127.0.0.1", port: s.local.port + 1 });
    await until(() => s.stats().rtcp.received === 1, "the RR");
    expect(s.stats().sent).toMatchObject({ lost: 7, jitterMs: 10 });
    // RFC 5761: the same report multiplexed on the RTP port is read too
    const muxed = buildRtcpCompound({
      ssrc: 0x5151,
      cname: "peer",
      reports: [{ ssrc, fractionLost: 0, cumulativeLost: 9, highestSeq: 0, jitter: 8, lsr: 0, dlsr: 0 }],
    });
    await peerRtcp.send(muxed, s.local);
    await until(() => s.stats().rtcp.received === 2, "the muxed RR");
    expect(s.stats().sent).toMatchObject({ lost: 9, jitterMs: 1 });
    expect(s.stats().dropped.malformed).toBe(0);
    clock.advance(10_000);
    await peerRtcp.waitFor(3);
    const n = peerRtcp.received.length;
    await s.close();
    await peerRtcp.waitFor(n + 1);
    expect(parseRtcp(peerRtcp.received[n]!)!.bye).toBe(true);
  });

  it("reports what it receives in its RTCP block (loss, highest sequence, LSR/DLSR of the peer's SR)", async () => {
    const { clock, engine } = harness();
    const peer = await Peer.open();
    const peerRtcp = await Peer.open();
    const s = await engine.allocate("127.0.0.1");
    s.start({ ...PCMU, remote: peer.endpoint, remoteRtcp: peerRtcp.endpoint }, { action: { kind: "echo" } });
    const frame = new Uint8Array(160).fill(0xff);
    for (const seq of [1, 2, 3, 5, 6]) await peer.send(rtpPacket(0, seq, seq * 160, 77, frame), s.local);
    const sender = {
      ntpSeconds: 0x11223344,
      ntpFraction: 0x55667788,
      rtpTimestamp: 0,
      packetCount: 5,
      octetCount: 800,
    };
    await peerRtcp.send(buildRtcpCompound({ ssrc: 77, cname: "p", sender, reports: [] }), {
      address: "127.0.0.1",
      port: s.local.port + 1,
    });
    await until(() => s.stats().rtcp.received === 1 && s.stats().received.packets === 5, "packets");
    const srAt = clock.now();
    clock.advance(3100);
    await peerRtcp.waitFor(1);
    const report = parseRtcp(peerRtcp.received[0]!)!;
    expect(report.sender?.packetCount).toBe(5); // the echoes
    expect(report.reports).toHaveLength(1);
    const block = report.reports[0]!;
    expect(block).toMatchObject({
      ssrc: 77,
      cumulativeLost: 1,
      highestSeq: 6,
      fractionLost: Math.floor(256 / 6),
      lsr: 0x33445566,
    });
    const sentAt = srAt + 3100;
    expect(block.dlsr).toBeLessThanOrEqual(Math.ceil(((sentAt - srAt) * 65536) / 1000));
    expect(block.dlsr).toBeGreaterThan(0);
    expect(s.stats().received.lost).toBe(1);
  });
});
