/**
 * WAV (RIFF, Microsoft/IBM Multimedia Programming Interface 1991) for prompts
 * and recordings: reads PCM 16-bit (format 1, or 0xFFFE extensible with the
 * PCM sub-format) and G.711 (formats 6/7) at 8 or 16 kHz, mono or stereo
 * (mixed down), to 8 kHz 16-bit mono; 16 kHz goes through a low-pass FIR
 * before decimation so nothing above 4 kHz aliases. Writes the canonical
 * 44-octet header of an 8 kHz 16-bit mono file.
 */
import { alawToLinear, ulawToLinear } from "./g711.js";

export const MEDIA_RATE = 8000;

export class WavError extends Error {}

interface Format {
  format: number;
  channels: number;
  rate: number;
  bits: number;
}

/** Decodes a WAV file to 8 kHz 16-bit mono samples; throws WavError naming what is unsupported. */
export function readWav(buf: Buffer): Int16Array {
  if (buf.length < 12 || buf.toString("latin1", 0, 4) !== "RIFF" || buf.toString("latin1", 8, 12) !== "WAVE")
    throw new WavError("not a RIFF/WAVE file");
  let fmt: Format | undefined;
  let o = 12;
  while (o + 8 <= buf.length) {
    const id = buf.toString("latin1", o, o + 4);
    const size = buf.readUInt32LE(o + 4);
    const body = o + 8;
    if (id === "fmt ") fmt = readFormat(buf, body, size);
    else if (id === "data") {
      if (!fmt) throw new WavError("data chunk before fmt chunk");
      const end = Math.min(buf.length, body + size);
      return toMono8k(fmt, buf.subarray(body, end));
    }
    o = body + size + (size & 1);
  }
  throw new WavError(fmt ? "no data chunk" : "no fmt chunk");
}

function readFormat(buf: Buffer, o: number, size: number): Format {
  if (size < 16 || o + 16 > buf.length) throw new WavError("fmt chunk too short");
  let format = buf.readUInt16LE(o);
  const channels = buf.readUInt16LE(o + 2);
  const rate = buf.readUInt32LE(o + 4);
  const bits = buf.readUInt16LE(o + 14);
  if (format === 0xfffe && size >= 26 && o + 26 <= buf.length) format = buf.readUInt16LE(o + 24);
  if (format !== 1 && format !== 6 && format !== 7)
    throw new WavError(`format ${format} unsupported; fix: use 16-bit PCM (or G.711) WAV`);
  if (format === 1 && bits !== 16) throw new WavError(`${bits}-bit PCM unsupported; fix: use 16-bit PCM`);
  if (format !== 1 && bits !== 8) throw new WavError(`G.711 WAV with ${bits} bits per sample`);
  if (channels !== 1 && channels !== 2) throw new WavError(`${channels} channels unsupported; fix: use mono`);
  if (rate !== 8000 && rate !== 16000)
    throw new WavError(`${rate} Hz unsupported; fix: resample to 8000 or 16000 Hz`);
  return { format, channels, rate, bits };
}

function toMono8k(f: Format, data: Buffer): Int16Array {
  const bytesPerFrame = (f.bits / 8) * f.channels;
  const frames = Math.floor(data.length / bytesPerFrame);
  const mono = new Int16Array(frames);
  for (let i = 0; i < frames; i++) {
    let sum = 0;
    for (let c = 0; c < f.channels; c++) sum += sampleAt(f, data, i * bytesPerFrame + c * (f.bits / 8));
    mono[i] = Math.round(sum / f.channels);
  }
  return f.rate === 16000 ? decimate2(mono) : mono;
}

function sampleAt(f: Format, data: Buffer, o: number): number {
  if (f.format === 1) return data.readInt16LE(o);
  return f.format === 7 ? ulawToLinear(data[o]!) : alawToLinear(data[o]!);
}

const TAPS = 31;
/** Windowed-sinc (Hamming) low-pass at 3.6 kHz for 16 kHz input, unity DC gain. */
const LOWPASS: Float64Array = (() => {
  const h = new Float64Array(TAPS);
  const fc = 3600 / 16000;
  const m = (TAPS - 1) / 2;
  let sum = 0;
  for (let i = 0; i < TAPS; i++) {
    const x = i - m;
    const sinc = x === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * x) / (Math.PI * x);
    h[i] = sinc * (0.54 - 0.46 * Math.cos((2 * Math.PI * i) / (TAPS - 1)));
    sum += h[i]!;
  }
  for (let i = 0; i < TAPS; i++) h[i]! /= sum;
  return h;
})();

/** 16 kHz -> 8 kHz: low-pass FIR then keep every other sample. */
export function decimate2(input: Int16Array): Int16Array {
  const out = new Int16Array(Math.floor(input.length / 2));
  const m = (TAPS - 1) / 2;
  for (let k = 0; k < out.length; k++) {
    let acc = 0;
    const centre = 2 * k;
    for (let j = 0; j < TAPS; j++) {
      const idx = centre + j - m;
      if (idx >= 0 && idx < input.length) acc += LOWPASS[j]! * input[idx]!;
    }
    out[k] = Math.max(-32768, Math.min(32767, Math.round(acc)));
  }
  return out;
}

/** The 44-octet header of a 16-bit mono PCM WAV holding dataBytes octets. */
export function wavHeader(dataBytes: number, rate = MEDIA_RATE): Buffer {
  const h = Buffer.alloc(44);
  h.write("RIFF", 0, "latin1");
  h.writeUInt32LE(Math.min(0xffffffff, 36 + dataBytes), 4);
  h.write("WAVE", 8, "latin1");
  h.write("fmt ", 12, "latin1");
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * 2, 28); // byte rate
  h.writeUInt16LE(2, 32); // block align
  h.writeUInt16LE(16, 34);
  h.write("data", 36, "latin1");
  h.writeUInt32LE(Math.min(0xffffffff, dataBytes), 40);
  return h;
}

/** A whole 16-bit mono WAV file (tests, fixtures). */
export function encodeWav(samples: Int16Array, rate = MEDIA_RATE): Buffer {
  const data = Buffer.alloc(samples.length * 2);
  for (let i = 0; i < samples.length; i++) data.writeInt16LE(samples[i]!, i * 2);
  return Buffer.concat([wavHeader(data.length, rate), data]);
}
