/**
 * What the mock sends, one packet interval at a time, already encoded to the
 * negotiated G.711 law: silence, a tone (sum of sines with an on/off cadence,
 * e.g. 425 Hz busy 500/500, 1 kHz test tone) or a prompt (pre-encoded once).
 * Echo has no source: it returns the peer's payloads (see session.ts).
 */
import { encodeG711, silenceByte } from "./g711.js";
import type { MediaCodec } from "./types.js";
import { MEDIA_RATE } from "./wav.js";

export interface FrameSource {
  /** Writes `samples` encoded octets at out[offset...]. */
  fill(out: Buffer, offset: number, samples: number): void;
}

export class SilenceSource implements FrameSource {
  private readonly byte: number;
  constructor(codec: MediaCodec) {
    this.byte = silenceByte(codec);
  }
  fill(out: Buffer, offset: number, samples: number): void {
    out.fill(this.byte, offset, offset + samples);
  }
}

/** Peak amplitude of each tone (about -10 dBm0 on G.711), scaled down so the sum never clips. */
const TONE_AMPLITUDE = 7000;

export interface ToneSpec {
  readonly frequencies: readonly number[];
  readonly onMs?: number;
  readonly offMs?: number;
}

/** Writes count samples of the tone starting at absolute sample index start into out. */
export function toneSamples(spec: ToneSpec, start: number, out: Int16Array, count = out.length): void {
  const freqs = spec.frequencies;
  const amp = Math.min(TONE_AMPLITUDE, 30000 / Math.max(1, freqs.length));
  const on = Math.round(((spec.onMs ?? 0) * MEDIA_RATE) / 1000);
  const off = Math.round(((spec.offMs ?? 0) * MEDIA_RATE) / 1000);
  const period = on > 0 && off > 0 ? on + off : 0;
  for (let i = 0; i < count; i++) {
    const n = start + i;
    if (period > 0 && n % period >= on) {
      out[i] = 0;
      continue;
    }
    let v = 0;
    for (const f of freqs) v += Math.sin((2 * Math.PI * f * n) / MEDIA_RATE);
    out[i] = Math.round(v * amp);
  }
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
const MAX_LOOP_MS = 10_000;
const loops = new Map<string, Uint8Array>();

/**
 * Integer frequencies repeat every second, a cadence every on+off ms: the
 * tone over the least common multiple is encoded once and shared by every
 * call sending it (at most 10 s, 80 KB); other tones are computed per frame.
 */
function toneLoop(codec: MediaCodec, spec: ToneSpec): Uint8Array | undefined {
  if (!spec.frequencies.every((f) => Number.isInteger(f))) return undefined;
  const cycle = spec.onMs && spec.offMs ? spec.onMs + spec.offMs : 1000;
  if (!Number.isInteger(cycle)) return undefined;
  const ms = (1000 * cycle) / gcd(1000, cycle);
  if (ms > MAX_LOOP_MS) return undefined;
  const key = `${codec}/${spec.frequencies.join(",")}/${spec.onMs ?? 0}/${spec.offMs ?? 0}`;
  let loop = loops.get(key);
  if (!loop) {
    const pcm = new Int16Array((ms * MEDIA_RATE) / 1000);
    toneSamples(spec, 0, pcm);
    loop = new Uint8Array(pcm.length);
    encodeG711(codec, pcm, loop);
    if (loops.size >= 64) loops.delete(loops.keys().next().value!);
    loops.set(key, loop);
  }
  return loop;
}

export class ToneSource implements FrameSource {
  private n = 0;
  private scratch = new Int16Array(160);
  private readonly loop: Uint8Array | undefined;
  constructor(
    private readonly codec: MediaCodec,
    private readonly spec: ToneSpec,
  ) {
    this.loop = toneLoop(codec, spec);
  }
  fill(out: Buffer, offset: number, samples: number): void {
    const loop = this.loop;
    if (loop) {
      for (let written = 0; written < samples; ) {
        const pos = this.n % loop.length;
        const k = Math.min(samples - written, loop.length - pos);
        out.set(loop.subarray(pos, pos + k), offset + written);
        written += k;
        this.n += k;
      }
      return;
    }
    if (this.scratch.length < samples) this.scratch = new Int16Array(samples);
    toneSamples(this.spec, this.n, this.scratch, samples);
    this.n += samples;
    encodeG711(this.codec, this.scratch, out, offset, 0, samples);
  }
}

/** A prompt: its samples encoded once; played once then silence, or looped. */
export class PlaySource implements FrameSource {
  private pos = 0;
  private readonly encoded: Uint8Array;
  private readonly silence: number;
  constructor(
    codec: MediaCodec,
    samples: Int16Array,
    private readonly loop: boolean,
  ) {
    this.encoded = new Uint8Array(samples.length);
    encodeG711(codec, samples, this.encoded);
    this.silence = silenceByte(codec);
  }
  get finished(): boolean {
    return !this.loop && this.pos >= this.encoded.length;
  }
  fill(out: Buffer, offset: number, samples: number): void {
    let written = 0;
    while (written < samples) {
      if (this.pos >= this.encoded.length) {
        if (!this.loop || this.encoded.length === 0) {
          out.fill(this.silence, offset + written, offset + samples);
          return;
        }
        this.pos = 0;
      }
      const n = Math.min(samples - written, this.encoded.length - this.pos);
      out.set(this.encoded.subarray(this.pos, this.pos + n), offset + written);
      this.pos += n;
      written += n;
    }
  }
}

/** Goertzel: amplitude (same units as the samples) of one frequency in a block. */
export function goertzel(samples: ArrayLike<number>, frequency: number, rate = MEDIA_RATE): number {
  const n = samples.length;
  if (n === 0) return 0;
  const w = (2 * Math.PI * frequency) / rate;
  const coeff = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const s0 = samples[i]! + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return (2 * Math.sqrt(Math.max(0, power))) / n;
}
