/**
 * The media engine: allocates RTP/RTCP socket pairs (RFC 3550 11: even RTP
 * port, RTCP on the next odd one) and creates sessions.
 */
import type { MediaEngine, MediaEngineOptions } from "./types.js";

export function createMediaEngine(_options: MediaEngineOptions = {}): MediaEngine {
  throw new Error("media engine: not implemented yet");
}
