/**
 * The media engine: allocates RTP/RTCP socket pairs (RFC 3550 11: even RTP
 * port, RTCP on the next odd one; ports.ts) and creates sessions; prompts are
 * read and decoded once per file and shared by every call that plays them.
 */
import { readFile } from "node:fs/promises";
import { realMediaClock } from "./clock.js";
import { PortAllocator } from "./ports.js";
import { RtpSession, type SessionEnv } from "./session.js";
import type { MediaCodec, MediaEngine, MediaEngineOptions, MediaSession } from "./types.js";
import { readWav } from "./wav.js";

/** What the mock can encode and decode, in offer order. */
export const SUPPORTED_CODECS: readonly MediaCodec[] = ["PCMU", "PCMA"];

/** Reads and decodes a prompt (8/16 kHz 16-bit PCM WAV) to 8 kHz samples; rejects naming the problem. */
export async function loadPrompt(file: string): Promise<Int16Array> {
  return readWav(await readFile(file));
}

export function createMediaEngine(options: MediaEngineOptions = {}): MediaEngine {
  const clock = options.clock ?? realMediaClock;
  const random = options.random ?? Math.random;
  const onError = options.onError ?? ((err: Error) => console.error(`sipmock media: ${err.message}`));
  const ports = new PortAllocator(
    options.portRange,
    () => clock.now(),
    (ms, fn) => clock.setTimer(ms, fn),
  );
  const sessions = new Set<RtpSession>();
  const prompts = new Map<string, Promise<Int16Array>>();
  const wallOffsetMs = Date.now() - clock.now();
  let closed = false;

  const prompt = (file: string): Promise<Int16Array> => {
    let p = prompts.get(file);
    if (!p) {
      p = loadPrompt(file);
      p.catch(() => prompts.delete(file)); // a file fixed later is read again
      prompts.set(file, p);
    }
    return p;
  };

  // One environment for every session (a session's port pair is its own local port).
  const env: SessionEnv = {
    clock,
    random,
    capture: options.capture,
    onError,
    wallOffsetMs,
    loadPrompt: prompt,
    released: (s, pair, done) => {
      sessions.delete(s);
      ports.release(pair, done);
    },
  };

  return {
    codecs: SUPPORTED_CODECS,
    allocate(address: string): Promise<MediaSession> {
      if (closed) return Promise.reject(new Error("media engine closed"));
      return ports.allocate(address).then((pair) => {
        if (closed) {
          ports.release(pair);
          throw new Error("media engine closed");
        }
        const session = new RtpSession(pair, address, env);
        sessions.add(session);
        return session;
      });
    },
    async close(): Promise<void> {
      closed = true;
      ports.close();
      await Promise.all([...sessions].map((s) => s.close()));
    },
  };
}
