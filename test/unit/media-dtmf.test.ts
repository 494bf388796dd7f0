import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  type DetectedDigit,
  formatDtmfRelay,
  parseDtmfRelay,
  parseTelephoneEvent,
  TelephoneEventReceiver,
  writeTelephoneEvent,
} from "../../src/media/dtmf.js";
import { parseRtp, type RtpPacket } from "../../src/media/rtp.js";

/** UDP payloads of a libpcap file with Ethernet framing (the SIPp RFC 2833 recordings). */
function udpPayloads(file: string): Buffer[] {
  const b = readFileSync(file);
  expect(b.readUInt32LE(0)).toBe(0xa1b2c3d4);
  expect(b.readUInt32LE(20)).toBe(1); // LINKTYPE_ETHERNET
  const out: Buffer[] = [];
  let o = 24;
  while (o + 16 <= b.length) {
    const incl = b.readUInt32LE(o + 8);
    const frame = b.subarray(o + 16, o + 16 + incl);
    o += 16 + incl;
    if (frame.readUInt16BE(12) !== 0x0800) continue;
    const ihl = (frame[14]! & 0x0f) * 4;
    if (frame[14 + 9] !== 17) continue;
    const udp = 14 + ihl;
    const len = frame.readUInt16BE(udp + 4);
    out.push(frame.subarray(udp + 8, udp + len));
  }
  return out;
}

const SIPP = "/usr/share/sip-tester";
const PCAPS: [string, string][] = [
  ..."0123456789".split("").map((d) => [d, `dtmf_2833_${d}.pcap`] as [string, string]),
  ["*", "dtmf_2833_star.pcap"],
  ["#", "dtmf_2833_pound.pcap"],
];

function feed(rx: TelephoneEventReceiver, packets: Buffer[]): void {
  for (const raw of packets) {
    const p = parseRtp(raw) as RtpPacket;
    expect(typeof p).toBe("object");
    rx.receive(p.timestamp, parseTelephoneEvent(p.payload)!, p.marker);
  }
}

function event(ts: number, ev: number, end: boolean, duration: number, marker = false, volume = 10): Buffer {
  const b = Buffer.alloc(16);
  b[0] = 0x80;
  b[1] = (marker ? 0x80 : 0) | 101;
  b.writeUInt32BE(ts, 4);
  writeTelephoneEvent(b, 12, ev, end, volume, duration);
  return b;
}

describe("RFC 4733 receive", () => {
  it.each(PCAPS)("detects %s once in SIPp's recording (3 redundant end packets)", (digit, file) => {
    const packets = udpPayloads(`${SIPP}/${file}`);
    expect(packets.length).toBe(10);
    const got: DetectedDigit[] = [];
    feed(new TelephoneEventReceiver((d) => got.push(d)), packets);
    expect(got).toEqual([{ digit, durationMs: 280, volume: 10 }]);
  });

  it("detects every digit when recordings with the same timestamp are played back to back (marker bit)", () => {
    const got: string[] = [];
    const rx = new TelephoneEventReceiver((d) => got.push(d.digit));
    for (const [, file] of PCAPS) feed(rx, udpPayloads(`${SIPP}/${file}`));
    expect(got.join("")).toBe("0123456789*#");
  });

  it("ends a digit whose end packets were all lost when the next event starts", () => {
    const got: DetectedDigit[] = [];
    const rx = new TelephoneEventReceiver((d) => got.push(d));
    feed(rx, [
      event(1000, 5, false, 160, true, 20),
      event(1000, 5, false, 320, false, 20),
      event(1000, 5, false, 480, false, 20),
    ]);
    expect(got).toEqual([]);
    feed(rx, [event(3000, 11, false, 160, true), event(3000, 11, true, 800), event(3000, 11, true, 800)]);
    expect(got).toEqual([
      { digit: "5", durationMs: 60, volume: 20 },
      { digit: "#", durationMs: 100, volume: 10 },
    ]);
  });

  it("ignores a late reordered packet of an ended event, and non-DTMF events (16 = flash)", () => {
    const got: string[] = [];
    const rx = new TelephoneEventReceiver((d) => got.push(d.digit));
    feed(rx, [event(100, 1, false, 160, true), event(100, 1, true, 320), event(100, 1, false, 160)]);
    feed(rx, [event(900, 16, false, 160, true), event(900, 16, true, 320)]);
    expect(got).toEqual(["1"]);
  });

  it("flush() reports an event still open", () => {
    const got: string[] = [];
    const rx = new TelephoneEventReceiver((d) => got.push(d.digit));
    feed(rx, [event(100, 12, false, 160, true)]);
    rx.flush();
    rx.flush();
    expect(got).toEqual(["A"]);
  });

  it("payload layout (2.3)", () => {
    const b = Buffer.alloc(4);
    writeTelephoneEvent(b, 0, 11, true, 10, 1600);
    expect(b.toString("hex")).toBe("0b8a0640");
    expect(parseTelephoneEvent(b)).toEqual({ event: 11, end: true, volume: 10, duration: 1600 });
    expect(parseTelephoneEvent(Buffer.alloc(3))).toBeUndefined();
  });
});

describe("application/dtmf-relay", () => {
  it("parses Signal and Duration", () => {
    expect(parseDtmfRelay("Signal=5\r\nDuration=160\r\n")).toEqual({ digit: "5", durationMs: 160 });
    expect(parseDtmfRelay("Signal= #\nDuration= 250")).toEqual({ digit: "#", durationMs: 250 });
    expect(parseDtmfRelay("signal=a")).toEqual({ digit: "A", durationMs: 250 });
    expect(parseDtmfRelay("Signal=10\r\nDuration=100")).toEqual({ digit: "*", durationMs: 100 });
    expect(parseDtmfRelay("Signal=11")).toEqual({ digit: "#", durationMs: 250 });
  });

  it("rejects what is not a digit", () => {
    expect(parseDtmfRelay("")).toBeUndefined();
    expect(parseDtmfRelay("Duration=100")).toBeUndefined();
    expect(parseDtmfRelay("Signal=X")).toBeUndefined();
    expect(parseDtmfRelay("Signal=12")).toBeUndefined();
    expect(parseDtmfRelay("Signal=1\r\nDuration=-5")).toBeUndefined();
  });

  it("formats what it parses", () => {
    expect(formatDtmfRelay("9", 160)).toBe("Signal=9\r\nDuration=160\r\n");
    expect(parseDtmfRelay(formatDtmfRelay("*", 120))).toEqual({ digit: "*", durationMs: 120 });
  });
});
