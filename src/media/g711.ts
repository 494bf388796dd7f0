/**
 * G.711 (ITU-T G.711, 1988) mu-law (PCMU, RTP PT 0) and A-law (PCMA, PT 8),
 * RFC 3551 4.5.14. The segment encoding follows the reference algorithm
 * (Sun Microsystems' public domain g711.c); encoding is one table lookup per
 * sample (64 KiB per law), decoding one lookup in a 256-entry table.
 */
import type { MediaCodec } from "./types.js";

const SEG_UEND = [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff];
const SEG_AEND = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];
const BIAS = 0x84;
const CLIP = 8159;

function segment(v: number, table: readonly number[]): number {
  for (let i = 0; i < table.length; i++) if (v <= table[i]!) return i;
  return table.length;
}

/** Reference mu-law encoder for one 16-bit sample. */
export function linearToUlaw(pcm: number): number {
  let v = pcm >> 2;
  let mask: number;
  if (v < 0) {
    v = -v;
    mask = 0x7f;
  } else mask = 0xff;
  if (v > CLIP) v = CLIP;
  v += BIAS >> 2;
  const seg = segment(v, SEG_UEND);
  if (seg >= 8) return 0x7f ^ mask;
  return ((seg << 4) | ((v >> (seg + 1)) & 0xf)) ^ mask;
}

/** Reference mu-law decoder (16-bit result, range -32124..32124). */
export function ulawToLinear(u: number): number {
  const v = ~u & 0xff;
  let t = ((v & 0x0f) << 3) + BIAS;
  t <<= (v & 0x70) >> 4;
  return v & 0x80 ? BIAS - t : t - BIAS;
}

/** Reference A-law encoder for one 16-bit sample. */
export function linearToAlaw(pcm: number): number {
  let v = pcm >> 3;
  let mask: number;
  if (v >= 0) mask = 0xd5;
  else {
    mask = 0x55;
    v = -v - 1;
  }
  const seg = segment(v, SEG_AEND);
  if (seg >= 8) return 0x7f ^ mask;
  let a = seg << 4;
  a |= seg < 2 ? (v >> 1) & 0x0f : (v >> seg) & 0x0f;
  return a ^ mask;
}

/** Reference A-law decoder (16-bit result, range -32256..32256). */
export function alawToLinear(a: number): number {
  const v = (a ^ 0x55) & 0xff;
  let t = (v & 0x0f) << 4;
  const seg = (v & 0x70) >> 4;
  if (seg === 0) t += 8;
  else if (seg === 1) t += 0x108;
  else t = (t + 0x108) << (seg - 1);
  return v & 0x80 ? t : -t;
}

interface Law {
  readonly encode: Uint8Array; // index: sample & 0xffff
  readonly decode: Int16Array; // index: code
}

const laws = new Map<MediaCodec, Law>();

function law(codec: MediaCodec): Law {
  let l = laws.get(codec);
  if (!l) {
    const enc = codec === "PCMU" ? linearToUlaw : linearToAlaw;
    const dec = codec === "PCMU" ? ulawToLinear : alawToLinear;
    const encode = new Uint8Array(65536);
    for (let i = 0; i < 65536; i++) encode[i] = enc((i << 16) >> 16);
    const decode = new Int16Array(256);
    for (let i = 0; i < 256; i++) decode[i] = dec(i);
    l = { encode, decode };
    laws.set(codec, l);
  }
  return l;
}

/** Encodes samples[from, from+count) into out[offset...]. */
export function encodeG711(
  codec: MediaCodec,
  samples: Int16Array,
  out: Uint8Array,
  offset = 0,
  from = 0,
  count = samples.length - from,
): void {
  const table = law(codec).encode;
  for (let i = 0; i < count; i++) out[offset + i] = table[samples[from + i]! & 0xffff]!;
}

/** Decodes payload bytes into out[offset...]. */
export function decodeG711(codec: MediaCodec, payload: Uint8Array, out: Int16Array, offset = 0): void {
  const table = law(codec).decode;
  for (let i = 0; i < payload.length; i++) out[offset + i] = table[payload[i]!]!;
}

/** The 256-entry decode table of a law (code -> 16-bit sample). */
export function g711DecodeTable(codec: MediaCodec): Int16Array {
  return law(codec).decode;
}

/** The code for a zero sample: 0xFF (mu-law), 0xD5 (A-law). */
export function silenceByte(codec: MediaCodec): number {
  return codec === "PCMU" ? 0xff : 0xd5;
}

/** RFC 3551 table 4 static payload types. */
export const STATIC_PAYLOAD_TYPES: Readonly<Record<MediaCodec, number>> = { PCMU: 0, PCMA: 8 };
