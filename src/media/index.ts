/**
 * The media layer (below the UA): RTP/RTCP (RFC 3550), G.711 (RFC 3551),
 * RFC 4733 DTMF and application/dtmf-relay, tones, WAV play and record,
 * driven by what the SDP negotiation decided.
 */
export { ManualMediaClock, realMediaClock } from "./clock.js";
export { DTMF_EVENTS, dtmfEventCode, formatDtmfRelay, parseDtmfRelay } from "./dtmf.js";
export { createMediaEngine, loadPrompt, SUPPORTED_CODECS } from "./engine.js";
export { STATIC_PAYLOAD_TYPES } from "./g711.js";
export { parseRtp } from "./rtp.js";
export { goertzel } from "./sources.js";
export type {
  DirectionStats,
  DtmfDigit,
  MediaAction,
  MediaClock,
  MediaCodec,
  MediaEndpoint,
  MediaEngine,
  MediaEngineOptions,
  MediaFaults,
  MediaPlan,
  MediaSession,
  MediaStats,
  MediaTimer,
  NegotiatedMedia,
  RtpCaptureSink,
} from "./types.js";
export { encodeWav, readWav, WavError } from "./wav.js";
