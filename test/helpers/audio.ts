/** WAV files and tone detection for media tests: compare energy at a frequency, never bytes. */
import { readFileSync, writeFileSync } from "node:fs";

/** A 16-bit mono PCM WAV of a sine at `hz`. */
export function writeToneWav(path: string, hz: number, seconds: number, rate = 8000, amplitude = 0.5): void {
  const n = Math.round(seconds * rate);
  const data = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++)
    data.writeInt16LE(Math.round(amplitude * 32767 * Math.sin((2 * Math.PI * hz * i) / rate)), i * 2);
  const h = Buffer.alloc(44);
  h.write("RIFF", 0);
  h.writeUInt32LE(36 + data.length, 4);
  h.write("WAVE", 8);
  h.write("fmt ", 12);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write("data", 36);
  h.writeUInt32LE(data.length, 40);
  writeFileSync(path, Buffer.concat([h, data]));
}

/** Samples (first channel, as -1..1) and rate of a 16-bit PCM WAV. */
export function readWav(path: string): { rate: number; samples: Float64Array } {
  const b = readFileSync(path);
  if (b.toString("latin1", 0, 4) !== "RIFF" || b.toString("latin1", 8, 12) !== "WAVE")
    throw new Error(`${path} is not a WAV file`);
  let off = 12;
  let rate = 8000;
  let channels = 1;
  while (off + 8 <= b.length) {
    const id = b.toString("latin1", off, off + 4);
    const size = b.readUInt32LE(off + 4);
    if (id === "fmt ") {
      channels = b.readUInt16LE(off + 10);
      rate = b.readUInt32LE(off + 12);
    }
    if (id === "data") {
      const end = Math.min(b.length, off + 8 + size);
      const frames = Math.floor((end - off - 8) / (2 * channels));
      const samples = new Float64Array(frames);
      for (let i = 0; i < frames; i++) samples[i] = b.readInt16LE(off + 8 + i * 2 * channels) / 32768;
      return { rate, samples };
    }
    off += 8 + size + (size % 2);
  }
  throw new Error(`${path} has no data chunk`);
}

/** Goertzel: the share (0..1) of the signal's energy at `hz`. */
export function toneShare(samples: Float64Array, rate: number, hz: number): number {
  const n = samples.length;
  if (n === 0) return 0;
  const k = Math.round((n * hz) / rate);
  const w = (2 * Math.PI * k) / n;
  const coeff = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const x = samples[i]!;
    total += x * x;
    const s = x + coeff * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  // A pure sine puts n/2 * total of Goertzel power in its bin.
  return total === 0 ? 0 : power / ((n / 2) * total);
}

/** RMS level of the samples (0..1). */
export function rms(samples: Float64Array): number {
  let t = 0;
  for (const x of samples) t += x * x;
  return samples.length === 0 ? 0 : Math.sqrt(t / samples.length);
}
