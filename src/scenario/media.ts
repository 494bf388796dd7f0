/**
 * A rule's `media:` compiled for the UAS: tone presets resolved, durations
 * in milliseconds, play/record paths relative to the scenario file.
 */
import { toMs } from "./duration.js";
import type { ScenarioSource } from "./load.js";
import type { MediaActionT, MediaT } from "./schema.js";
import type { MediaActionPlan, MediaDirective } from "./types.js";

const TONES: Record<string, MediaActionPlan> = {
  // ITU-T E.180 / ETSI TR 101 041: 425 Hz ringback 1 s on 4 s off, busy 0.5 s on 0.5 s off.
  ringback: { kind: "tone", frequencies: [425], onMs: 1000, offMs: 4000 },
  busy: { kind: "tone", frequencies: [425], onMs: 500, offMs: 500 },
  "1khz": { kind: "tone", frequencies: [1000] },
};

function compileMediaAction(a: MediaActionT, source: ScenarioSource): MediaActionPlan {
  if (a === "echo" || a === "silence") return { kind: a };
  if ("tone" in a) {
    if (typeof a.tone === "string") return TONES[a.tone]!;
    return {
      kind: "tone",
      frequencies: a.tone.frequencies,
      ...(a.tone.on !== undefined ? { onMs: toMs(a.tone.on) } : {}),
      ...(a.tone.off !== undefined ? { offMs: toMs(a.tone.off) } : {}),
    };
  }
  return { kind: "play", file: source.mediaFiles?.get(a.play) ?? a.play, loop: a.loop ?? false };
}

export function compileMedia(m: MediaT, source: ScenarioSource): MediaDirective {
  if (typeof m === "string" || "tone" in m || "play" in m) {
    const action = compileMediaAction(m, source);
    return { early: action, answered: action };
  }
  const f = m.faults;
  const faults = f
    ? {
        ...(f.rtpTimeout !== undefined ? { rtpTimeoutMs: toMs(f.rtpTimeout) } : {}),
        ...(f.oneWay !== undefined ? { oneWay: f.oneWay } : {}),
        ...(f.wrongPayloadType !== undefined ? { wrongPayloadType: f.wrongPayloadType } : {}),
        ...(f.ssrcChangeAfter !== undefined ? { ssrcChangeAfterMs: toMs(f.ssrcChangeAfter) } : {}),
        ...(f.loss !== undefined ? { lossPercent: f.loss } : {}),
        ...(f.jitter !== undefined ? { jitterMs: toMs(f.jitter) } : {}),
        ...(f.firstPacketDelay !== undefined ? { firstPacketDelayMs: toMs(f.firstPacketDelay) } : {}),
      }
    : undefined;
  return {
    ...(m.early ? { early: compileMediaAction(m.early, source) } : {}),
    ...(m.answered ? { answered: compileMediaAction(m.answered, source) } : {}),
    ...(m.record ? { record: source.mediaFiles?.get(m.record) ?? m.record } : {}),
    ...(faults ? { faults } : {}),
  };
}
