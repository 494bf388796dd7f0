/**
 * Scenario `media:` keys: the actions and faults a rule gives its calls,
 * `match: { dtmf }`, `then: DTMF`, and the file:line:col errors for what
 * cannot work (a missing WAV, media files in an inline scenario).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ScenarioEngine } from "../../src/scenario/engine.js";
import { formatProblem, parseScenario } from "../../src/scenario/load.js";
import type { RequestFacts } from "../../src/scenario/types.js";
import { parseDatagram } from "../../src/sip/parser.js";
import { writeToneWav } from "../helpers/audio.js";

const dir = mkdtempSync(join(tmpdir(), "sipmock-scenario-media-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function engine(text: string, file = join(dir, "s.yaml"), allowFiles = true): ScenarioEngine {
  const r = parseScenario(text, file, {}, { allowFiles });
  if (!r.ok) throw new Error(r.problems.map(formatProblem).join("\n"));
  return new ScenarioEngine([r.source]);
}

function problems(text: string, allowFiles = true): string[] {
  const r = parseScenario(text, join(dir, "bad.yaml"), {}, { allowFiles });
  return r.ok ? [] : r.problems.map(formatProblem).map((p) => p.replace(`${dir}/`, ""));
}

function invite(user: string, dtmf?: string, trigger?: "dtmf"): RequestFacts {
  const raw = `INVITE sip:${user}@h SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:${user}@h>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`;
  const p = parseDatagram(Buffer.from(raw));
  if (!p.ok || p.message.kind !== "request") throw new Error("bad test request");
  return {
    method: "INVITE",
    requestUser: user,
    transport: "udp",
    sourceAddress: "127.0.0.1",
    sourcePort: 5,
    hasBody: false,
    request: p.message,
    ...(dtmf !== undefined ? { dtmf } : {}),
    ...(trigger ? { trigger } : {}),
  };
}

describe("scenario media", () => {
  it("an action for the whole call, tone presets, early/answered, record with the file's directory, faults", () => {
    writeToneWav(join(dir, "prompt.wav"), 440, 0.1);
    const e = engine(
      [
        "rules:",
        "  - match: { requestUri: { user: echo } }",
        "    respond: 200",
        "    media: echo",
        "  - match: { requestUri: { user: prompt } }",
        "    respond: 200",
        "    media:",
        "      early: { tone: ringback }",
        "      answered: { play: prompt.wav, loop: true }",
        '      record: "call-{callId}.wav"',
        "      faults: { rtpTimeout: 2s, oneWay: no-send, loss: 5, jitter: 30ms, ssrcChangeAfter: 1s }",
        "",
      ].join("\n"),
    );
    const a = e.decide(invite("echo"));
    expect(a.kind === "respond" && a.media).toEqual({ early: { kind: "echo" }, answered: { kind: "echo" } });
    const b = e.decide(invite("prompt"));
    expect(b.kind === "respond" && b.media).toEqual({
      early: { kind: "tone", frequencies: [425], onMs: 1000, offMs: 4000 },
      answered: { kind: "play", file: join(dir, "prompt.wav"), loop: true },
      record: join(dir, "call-{callId}.wav"),
      faults: {
        rtpTimeoutMs: 2000,
        oneWay: "no-send",
        lossPercent: 5,
        jitterMs: 30,
        ssrcChangeAfterMs: 1000,
      },
    });
  });

  it("match: { dtmf } sees the digits so far; a digit re-asks only the rules that look at digits", () => {
    const e = engine(
      [
        "rules:",
        '  - match: { dtmf: "^1" }',
        "    respond: 486",
        "  - match: { method: INVITE }",
        "    steps: [{ send: 183 }]",
        "    then: [{ send: DTMF, digits: '12#' }]",
        "",
      ].join("\n"),
    );
    const first = e.decide(invite("ivr", ""));
    expect(first.kind === "respond" && first.steps.length).toBe(1);
    expect(first.kind === "respond" && first.followUps).toEqual([
      { send: "DTMF", afterMs: 0, digits: "12#" },
    ]);
    expect(e.decide(invite("ivr", "2", "dtmf")).kind).toBe("default");
    const pressed = e.decide(invite("ivr", "1", "dtmf"));
    expect(pressed.kind === "respond" && pressed.final?.status).toBe(486);
  });

  it("refuses a missing WAV file, media files in inline scenarios, then: DTMF without digits, bad presets", () => {
    expect(problems("rules:\n  - respond: 200\n    media: { play: nope.wav }\n")).toEqual([
      expect.stringMatching(/^bad\.yaml:3:20: WAV file nope\.wav does not exist .*; fix: paths are relative/),
    ]);
    expect(problems('rules:\n  - respond: 200\n    media: { record: "x.wav" }\n', false)).toEqual([
      expect.stringMatching(
        /^inline|bad\.yaml:3:\d+: media files \(play:, record:\) can only be used by scenarios loaded from a file/,
      ),
    ]);
    expect(problems("rules:\n  - respond: 200\n    then: [{ send: DTMF }]\n")).toEqual([
      expect.stringMatching(/bad\.yaml:3:\d+: send: DTMF needs digits:/),
    ]);
    expect(problems("rules:\n  - respond: 200\n    media: { tone: beep }\n")[0]).toMatch(/bad\.yaml:3:/);
  });
});
