import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  alawToLinear,
  decodeG711,
  encodeG711,
  linearToAlaw,
  linearToUlaw,
  silenceByte,
  ulawToLinear,
} from "../../src/media/g711.js";
import { goertzel, PlaySource, ToneSource, toneSamples } from "../../src/media/sources.js";
import { decimate2, encodeWav, readWav, WavError, wavHeader } from "../../src/media/wav.js";

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

function allSamples(): Int16Array {
  const s = new Int16Array(65536);
  for (let i = 0; i < 65536; i++) s[i] = i - 32768;
  return s;
}

function le16(values: Int16Array): Buffer {
  const b = Buffer.alloc(values.length * 2);
  for (let i = 0; i < values.length; i++) b.writeInt16LE(values[i]!, i * 2);
  return b;
}

describe("G.711", () => {
  it("decodes the ITU G.711 end points and zero codes", () => {
    expect([0x00, 0x0f, 0x10, 0x7f, 0x80, 0xef, 0xfe, 0xff].map(ulawToLinear)).toEqual([
      -32124, -16764, -15996, 0, 32124, 132, 8, 0,
    ]);
    expect([0x00, 0x2a, 0x55, 0xaa, 0xd5, 0x80, 0x7f, 0xff].map(alawToLinear)).toEqual([
      -5504, -32256, -8, 32256, 8, 5504, -848, 848,
    ]);
    expect(silenceByte("PCMU")).toBe(0xff);
    expect(silenceByte("PCMA")).toBe(0xd5);
  });

  it("encodes known samples", () => {
    const inputs = [0, 1, -1, 100, -100, 1000, -1000, 32767, -32768, 8000];
    expect(inputs.map(linearToUlaw)).toEqual([255, 255, 126, 242, 114, 206, 78, 128, 0, 160]);
    expect(inputs.map(linearToAlaw)).toEqual([213, 213, 85, 211, 83, 250, 122, 170, 42, 138]);
  });

  // Digests of the full tables as produced by an independent implementation
  // of the same reference algorithm (CPython's audioop lin2ulaw/lin2alaw/ulaw2lin/alaw2lin).
  it("matches an independent implementation over every 16-bit sample and every code", () => {
    const pcm = allSamples();
    const u = new Uint8Array(65536);
    const a = new Uint8Array(65536);
    encodeG711("PCMU", pcm, u);
    encodeG711("PCMA", pcm, a);
    expect(sha(u)).toBe("81d633c9e6972a18c74a58720b96cb8ca0bdd096d4060b646dd708c3b846019a");
    expect(sha(a)).toBe("38488f6fd710f4686360edc4d38639f96c491595ef93f8eb8d62d5e07ca6ce7b");
    const codes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const du = new Int16Array(256);
    const da = new Int16Array(256);
    decodeG711("PCMU", codes, du);
    decodeG711("PCMA", codes, da);
    expect(sha(le16(du))).toBe("3dab54339e520bb2c924826e3b72a917a2b612e9fd12fc867500f1d983a75827");
    expect(sha(le16(da))).toBe("e04788d110e58ff8c70c93b8480190d973e3b67876b6119abbaec766cc75c174");
  });

  it("round-trips within the quantisation step of each segment, and codes are stable", () => {
    for (const codec of ["PCMU", "PCMA"] as const) {
      const pcm = allSamples();
      const enc = new Uint8Array(pcm.length);
      encodeG711(codec, pcm, enc);
      const dec = new Int16Array(pcm.length);
      decodeG711(codec, enc, dec);
      const bad: number[] = [];
      for (let i = 0; i < pcm.length; i++) {
        const x = pcm[i]!;
        // Logarithmic: the error stays under ~1/16 of the magnitude (plus the smallest step), clipped at the ends.
        const bound = Math.max(16, Math.abs(x) / 16) + (Math.abs(x) > 32000 ? 800 : 0);
        if (Math.abs(dec[i]! - x) > bound) bad.push(x);
      }
      expect(bad, codec).toEqual([]);
      // Decoding then encoding gives the same code back (the decoder outputs are reconstruction points).
      const codes = Uint8Array.from({ length: 256 }, (_, i) => i);
      const lin = new Int16Array(256);
      decodeG711(codec, codes, lin);
      const again = new Uint8Array(256);
      encodeG711(codec, lin, again);
      for (let c = 0; c < 256; c++) {
        if (codec === "PCMU" && c === 0x7f) continue; // mu-law has two zeros (0x7F, 0xFF)
        expect(again[c], `${codec} code ${c}`).toBe(c);
      }
    }
  });
});

describe("tones", () => {
  it("a 1 kHz tone has its energy at 1 kHz", () => {
    const s = new Int16Array(1600);
    toneSamples({ frequencies: [1000] }, 0, s);
    expect(goertzel(s, 1000)).toBeGreaterThan(6000);
    expect(goertzel(s, 425)).toBeLessThan(200);
    expect(goertzel(s, 2000)).toBeLessThan(200);
  });

  it("a dual tone (350+440 Hz dial tone) has both, and the sum does not clip", () => {
    const s = new Int16Array(8000);
    toneSamples({ frequencies: [350, 440] }, 0, s);
    expect(goertzel(s, 350)).toBeGreaterThan(5000);
    expect(goertzel(s, 440)).toBeGreaterThan(5000);
    expect(goertzel(s, 1000)).toBeLessThan(200);
    expect(Math.max(...s.map(Math.abs))).toBeLessThan(32767);
  });

  it("follows the cadence: 425 Hz busy 500 ms on, 500 ms off", () => {
    const spec = { frequencies: [425], onMs: 500, offMs: 500 };
    const s = new Int16Array(16000);
    toneSamples(spec, 0, s);
    expect(goertzel(s.subarray(0, 4000), 425)).toBeGreaterThan(6000);
    expect(goertzel(s.subarray(4000, 8000), 425)).toBe(0);
    expect(goertzel(s.subarray(8000, 12000), 425)).toBeGreaterThan(6000);
  });

  it("ToneSource sends the same bytes from its shared loop as computed sample by sample", () => {
    for (const spec of [
      { frequencies: [425], onMs: 500, offMs: 500 },
      { frequencies: [440, 480], onMs: 2000, offMs: 4000 },
      { frequencies: [1000.5] }, // not periodic in a second: computed per frame
    ]) {
      const src = new ToneSource("PCMA", spec);
      const frames = Buffer.alloc(160 * 400); // 8 s: past the loop's end
      for (let i = 0; i < 400; i++) src.fill(frames, i * 160, 160);
      const pcm = new Int16Array(frames.length);
      toneSamples(spec, 0, pcm);
      const expected = new Uint8Array(pcm.length);
      encodeG711("PCMA", pcm, expected);
      expect(frames.equals(Buffer.from(expected)), JSON.stringify(spec)).toBe(true);
    }
  });

  it("ToneSource frames continue the phase from packet to packet", () => {
    const src = new ToneSource("PCMU", { frequencies: [1000] });
    const frames = Buffer.alloc(160 * 10);
    for (let i = 0; i < 10; i++) src.fill(frames, i * 160, 160);
    const pcm = new Int16Array(frames.length);
    decodeG711("PCMU", frames, pcm);
    expect(goertzel(pcm, 1000)).toBeGreaterThan(6000);
    expect(goertzel(pcm, 500)).toBeLessThan(300);
  });
});

describe("WAV", () => {
  it("round-trips 8 kHz 16-bit mono samples", () => {
    const s = Int16Array.from({ length: 800 }, (_, i) => ((i * 97) % 65536) - 32768);
    const file = encodeWav(s);
    expect(file.length).toBe(44 + 1600);
    expect(file.toString("latin1", 0, 4)).toBe("RIFF");
    expect(file.readUInt32LE(4)).toBe(36 + 1600);
    expect(file.readUInt32LE(24)).toBe(8000);
    expect(file.readUInt32LE(40)).toBe(1600);
    expect(Array.from(readWav(file))).toEqual(Array.from(s));
  });

  it("downsamples 16 kHz: a 1 kHz tone survives, a 6 kHz tone does not alias to 2 kHz", () => {
    const n = 16000;
    const low = Int16Array.from({ length: n }, (_, i) =>
      Math.round(8000 * Math.sin((2 * Math.PI * 1000 * i) / 16000)),
    );
    const high = Int16Array.from({ length: n }, (_, i) =>
      Math.round(8000 * Math.sin((2 * Math.PI * 6000 * i) / 16000)),
    );
    const l = readWav(encodeWav(low, 16000));
    const h = readWav(encodeWav(high, 16000));
    expect(l.length).toBe(8000);
    expect(goertzel(l, 1000)).toBeGreaterThan(7500);
    // Plain decimation would fold 6 kHz onto 2 kHz at full amplitude.
    expect(goertzel(h, 2000)).toBeLessThan(100);
    expect(decimate2(new Int16Array(3)).length).toBe(1);
  });

  it("mixes stereo down, skips unknown chunks, reads G.711 WAV", () => {
    const data = Buffer.alloc(8);
    data.writeInt16LE(1000, 0);
    data.writeInt16LE(3000, 2);
    data.writeInt16LE(-1000, 4);
    data.writeInt16LE(-3000, 6);
    const fmt = Buffer.alloc(16);
    fmt.writeUInt16LE(1, 0);
    fmt.writeUInt16LE(2, 2);
    fmt.writeUInt32LE(8000, 4);
    fmt.writeUInt32LE(32000, 8);
    fmt.writeUInt16LE(4, 12);
    fmt.writeUInt16LE(16, 14);
    const chunk = (id: string, body: Buffer) => {
      const h = Buffer.alloc(8);
      h.write(id, 0, "latin1");
      h.writeUInt32LE(body.length, 4);
      return Buffer.concat([h, body, body.length & 1 ? Buffer.alloc(1) : Buffer.alloc(0)]);
    };
    const body = Buffer.concat([chunk("fmt ", fmt), chunk("LIST", Buffer.from("odd")), chunk("data", data)]);
    const head = Buffer.alloc(12);
    head.write("RIFF", 0, "latin1");
    head.writeUInt32LE(4 + body.length, 4);
    head.write("WAVE", 8, "latin1");
    expect(Array.from(readWav(Buffer.concat([head, body])))).toEqual([2000, -2000]);

    const ulawFmt = Buffer.from(fmt);
    ulawFmt.writeUInt16LE(7, 0);
    ulawFmt.writeUInt16LE(1, 2);
    ulawFmt.writeUInt16LE(8, 14);
    const ulaw = Buffer.concat([head, chunk("fmt ", ulawFmt), chunk("data", Buffer.from([0x80, 0xff]))]);
    expect(Array.from(readWav(ulaw))).toEqual([32124, 0]);
  });

  it("names what it cannot read", () => {
    expect(() => readWav(Buffer.from("not a wav at all"))).toThrow(WavError);
    const h = encodeWav(new Int16Array(4));
    const eightBit = Buffer.from(h);
    eightBit.writeUInt16LE(8, 34);
    expect(() => readWav(eightBit)).toThrow(/8-bit PCM unsupported/);
    const rate = Buffer.from(h);
    rate.writeUInt32LE(44100, 24);
    expect(() => readWav(rate)).toThrow(/44100 Hz unsupported; fix: resample/);
    expect(() => readWav(h.subarray(0, 36))).toThrow(/no data chunk/);
    expect(wavHeader(0).length).toBe(44);
  });

  it("a prompt plays once then silence, or loops", () => {
    const samples = Int16Array.from({ length: 200 }, (_, i) => (i % 2 ? 8000 : -8000));
    const once = new PlaySource("PCMA", samples, false);
    const out = Buffer.alloc(320);
    once.fill(out, 0, 160);
    once.fill(out, 160, 160);
    expect(out.subarray(200, 320).every((b) => b === 0xd5)).toBe(true);
    expect(out[199]).not.toBe(0xd5);
    expect(once.finished).toBe(true);
    const loop = new PlaySource("PCMA", samples, true);
    const out2 = Buffer.alloc(320);
    loop.fill(out2, 0, 160);
    loop.fill(out2, 160, 160);
    expect(out2.subarray(200, 320)).toEqual(out2.subarray(0, 120));
  });
});
