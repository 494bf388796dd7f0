/**
 * Media against baresip (a softphone we did not write): it places a call
 * with its audio from a WAV file (ausrc aufile, a 1 kHz tone). With
 * `record:` the mock's recording holds that tone; with `media: echo`
 * baresip's own dump of what it decoded (sndfile) holds it too. Compared by
 * energy at the frequency (Goertzel), never by bytes. The mock's sendDtmf
 * reaches baresip as RFC 4733 events, and --pcap-rtp puts them and the
 * audio in the capture, where tshark decodes them. baresip answers the
 * mock's own call (mock.call with media), and in the bundled ivr it hears
 * the ringback as early media, presses 1 and gets 486.
 */

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { silentLogger, startSipMock } from "../../src/index.js";
import { readWav, rms, toneShare, writeToneWav } from "../helpers/audio.js";
import { startBaresip, writeBaresipConfig } from "../peers/baresip.js";

const dir = mkdtempSync(join(tmpdir(), "sipmock-media-baresip-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** baresip with a 1 kHz 8 kHz-mono WAV as its microphone and a dump of what it plays. */
async function phone(name: string, account = "<sip:caller@127.0.0.1>;regint=0", hz = 1000) {
  const home = join(dir, name);
  mkdirSync(home, { recursive: true });
  const tone = join(home, "tone.wav");
  writeToneWav(tone, hz, 10);
  writeBaresipConfig(home, account, [
    `audio_source aufile,${tone}`,
    "ausrc_srate 8000",
    "ausrc_channels 1",
    "auplay_srate 8000",
    "auplay_channels 1",
    "module aufile.so",
    "module sndfile.so",
    `snd_path ${home}`,
  ]);
  return { home, baresip: await startBaresip(home) };
}

describe("media with baresip", () => {
  it("records the caller's 1 kHz tone (record:) and echoes it back (echo), measured at both ends", async () => {
    await using mock = await startSipMock({ listen: ["udp:127.0.0.1:0"], logger: silentLogger });
    const scenario = join(dir, "media.yaml");
    writeFileSync(
      scenario,
      [
        "name: media",
        "rules:",
        "  - match: { method: INVITE }",
        "    respond: 200",
        '    media: { answered: echo, record: "rec-{callId}.wav" }',
        "",
      ].join("\n"),
    );
    mock.setScenario(scenario);
    const { home, baresip } = await phone("echo");
    try {
      const port = mock.address("udp").port;
      baresip.send(`dial sip:echo@127.0.0.1:${port}`);
      await baresip.waitFor(/Call established/, 0);
      const callId = (await mock.waitFor({ method: "INVITE" })).callId!;
      // Two seconds of audio each way, counted by the mock's receiver.
      await expect
        .poll(() => mock.media(callId)[0]?.stats?.received.packets ?? 0, { timeout: 8000, interval: 100 })
        .toBeGreaterThan(100);
      mock.bye(callId);
      await baresip.waitFor(/session closed|terminated/i, 0);
      await expect.poll(() => mock.media(callId)[0]?.stats?.sent.packets ?? 0).toBeGreaterThan(100);
    } finally {
      await baresip.stop();
    }
    const recording = join(
      dir,
      `rec-${mock.journal.entries({ method: "INVITE" })[0]!.callId!.replace(/[^A-Za-z0-9._-]/g, "_")}.wav`,
    );
    await expect.poll(() => existsSync(recording)).toBe(true);
    const rec = readWav(recording);
    expect(rec.samples.length).toBeGreaterThan(8000);
    expect(rms(rec.samples)).toBeGreaterThan(0.1);
    expect(toneShare(rec.samples, rec.rate, 1000)).toBeGreaterThan(0.5);
    expect(toneShare(rec.samples, rec.rate, 425)).toBeLessThan(0.05);
    // baresip's sndfile dump of what it decoded from the mock: the echo.
    const dec = readdirSync(home).find((f) => /dec\.wav$/.test(f));
    expect(dec, readdirSync(home).join(", ")).toBeDefined();
    const echoed = readWav(join(home, dec!));
    expect(rms(echoed.samples)).toBeGreaterThan(0.05);
    expect(toneShare(echoed.samples, echoed.rate, 1000)).toBeGreaterThan(0.3);
  });

  it('sendDtmf(callId, "1#") reaches baresip as RFC 4733 events; --pcap-rtp puts the call\'s RTP in the capture', async () => {
    const pcap = join(dir, "call.pcap");
    await using mock = await startSipMock({
      listen: ["udp:127.0.0.1:0"],
      logger: silentLogger,
      pcapFile: pcap,
      pcapRtp: true,
    });
    const { baresip } = await phone("dtmf");
    let callId = "";
    try {
      baresip.send(`dial sip:alice@127.0.0.1:${mock.address("udp").port}`);
      await baresip.waitFor(/Call established/, 0);
      callId = (await mock.waitFor({ method: "INVITE" })).callId!;
      await mock.sendDtmf(callId, "1#");
      await baresip.waitFor(/received event: '1' \(end=1\)[\s\S]*received event: '#' \(end=1\)/, 0);
      await expect(mock.sendDtmf(callId, "x")).rejects.toThrow(/DTMF digits/);
      mock.bye(callId);
      await baresip.waitFor(/session closed|terminated/i, 0);
    } finally {
      await baresip.stop();
    }
    await mock.close();
    // tshark decodes the RTP (heuristically, as Wireshark's RTP player does) and the events.
    const out = execFileSync(
      "tshark",
      [
        "-r",
        pcap,
        "-o",
        "rtp.heuristic_rtp:TRUE",
        "-Y",
        "rtp",
        "-T",
        "fields",
        "-e",
        "rtp.p_type",
        "-e",
        "rtpevent.event_id",
      ],
      { encoding: "utf8" },
    );
    const rows = out
      .trim()
      .split("\n")
      .map((l) => l.split("\t"));
    expect(rows.filter((r) => r[0] === "0").length).toBeGreaterThan(20);
    const events = new Set(rows.filter((r) => r[1] !== undefined && r[1] !== "").map((r) => r[1]));
    expect([...events].sort()).toEqual(["1", "11"]);
  });

  it("baresip answers the mock's call (mock.call with media): it hears the mock's 1 kHz tone, the mock records its 600 Hz", async () => {
    await using mock = await startSipMock({ listen: ["udp:127.0.0.1:0"], logger: silentLogger });
    const port = mock.address("udp").port;
    const { home, baresip } = await phone(
      "answer",
      `<sip:bob@127.0.0.1:${port}>;regint=60;answermode=auto`,
      600,
    );
    try {
      await baresip.waitFor(/All 1 useragent registered successfully/, 0);
      const record = join(dir, "mock-called-bob.wav");
      const calling = mock.call("bob", {
        media: { answered: { kind: "tone", frequencies: [1000] }, record },
      });
      const answered = await calling;
      expect(answered.status).toBe(200);
      await expect
        .poll(() => mock.media(answered.callId)[0]?.stats?.received.packets ?? 0, {
          timeout: 8000,
          interval: 100,
        })
        .toBeGreaterThan(75);
      mock.bye(answered.callId);
      await baresip.waitFor(/session closed|terminated/i, 0);
      await expect.poll(() => existsSync(record)).toBe(true);
      const rec = readWav(record);
      expect(toneShare(rec.samples, rec.rate, 600)).toBeGreaterThan(0.5);
      const dec = readdirSync(home).find((f) => /dec\.wav$/.test(f));
      expect(dec, readdirSync(home).join(", ")).toBeDefined();
      const heard = readWav(join(home, dec!));
      expect(toneShare(heard.samples, heard.rate, 1000)).toBeGreaterThan(0.3);
    } finally {
      await baresip.stop();
    }
  });

  it("the bundled ivr: baresip hears the ringback in early media, presses 1 (RFC 4733) and gets 486", async () => {
    await using mock = await startSipMock({
      listen: ["udp:127.0.0.1:0"],
      logger: silentLogger,
      scenario: "ivr",
    });
    const { home, baresip } = await phone("ivr");
    try {
      baresip.send(`dial sip:ivr@127.0.0.1:${mock.address("udp").port}`);
      await baresip.waitFor(/183 Session Progress/, 0);
      const callId = (await mock.waitFor({ method: "INVITE" })).callId!;
      // A second of early media (the ringback's first 1 s tone) before the key press.
      await expect
        .poll(() => mock.media(callId)[0]?.stats?.sent.packets ?? 0, { timeout: 5000, interval: 100 })
        .toBeGreaterThan(50);
      baresip.keys("1");
      await baresip.waitFor(/session closed: 486 Busy Here/, 0);
      expect(mock.dtmf(callId)).toBe("1");
      expect(mock.media(callId)[0]!.digits[0]!.via).toBe("rfc4733");
    } finally {
      await baresip.stop();
    }
    const dec = readdirSync(home).find((f) => /dec\.wav$/.test(f));
    expect(dec, readdirSync(home).join(", ")).toBeDefined();
    const heard = readWav(join(home, dec!));
    expect(toneShare(heard.samples, heard.rate, 425)).toBeGreaterThan(0.3);
  });

  it("play: a 16 kHz WAV prompt (relative to the scenario file) reaches baresip, encoded to its codec", async () => {
    writeToneWav(join(dir, "prompt.wav"), 700, 3, 16000);
    const scenario = join(dir, "prompt.yaml");
    writeFileSync(
      scenario,
      "name: prompt\nrules:\n  - match: { method: INVITE }\n    respond: 200\n    media: { play: prompt.wav, loop: true }\n",
    );
    await using mock = await startSipMock({ listen: ["udp:127.0.0.1:0"], logger: silentLogger, scenario });
    const { home, baresip } = await phone("prompt");
    try {
      baresip.send(`dial sip:prompt@127.0.0.1:${mock.address("udp").port}`);
      await baresip.waitFor(/Call established/, 0);
      const callId = (await mock.waitFor({ method: "INVITE" })).callId!;
      await expect
        .poll(() => mock.media(callId)[0]?.stats?.sent.packets ?? 0, { timeout: 5000, interval: 100 })
        .toBeGreaterThan(75);
      mock.bye(callId);
      await baresip.waitFor(/session closed|terminated/i, 0);
    } finally {
      await baresip.stop();
    }
    const dec = readdirSync(home).find((f) => /dec\.wav$/.test(f));
    const heard = readWav(join(home, dec!));
    expect(toneShare(heard.samples, heard.rate, 700)).toBeGreaterThan(0.3);
  });
});
