/**
 * The WAV recorder's disk safety: it never truncates or follows an existing
 * file (a numeric suffix instead), and a disk that cannot keep up makes it
 * drop audio rather than queue it without bound.
 */
import { existsSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MAX_PENDING_BYTES, WavRecorder } from "../../src/media/recorder.js";
import { readWav } from "../../src/media/wav.js";

describe("WavRecorder", () => {
  it("an existing name is not truncated: the second recording gets name-1.wav, then name-2.wav", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sipmock-rec-"));
    const file = join(dir, "call_x.wav");
    writeFileSync(file, "keep me");
    const errors: Error[] = [];
    const a = new WavRecorder(file, (e) => errors.push(e));
    const b = new WavRecorder(file, (e) => errors.push(e));
    a.writeSilence(160);
    b.writeSilence(320);
    await Promise.all([a.close(), b.close()]);
    expect(errors).toEqual([]);
    expect(readFileSync(file, "latin1")).toBe("keep me");
    const names = [a.actualPath, b.actualPath].sort();
    expect(names).toEqual([join(dir, "call_x-1.wav"), join(dir, "call_x-2.wav")]);
    const lengths = names.map((n) => readWav(readFileSync(n!)).length).sort((x, y) => x - y);
    expect(lengths).toEqual([160, 320]);
  });

  it("a symlink at the name is not followed (its target is untouched)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sipmock-rec-"));
    const target = join(dir, "precious.txt");
    writeFileSync(target, "precious");
    const link = join(dir, "rec.wav");
    symlinkSync(target, link);
    const r = new WavRecorder(link, () => {});
    r.writeSilence(160);
    await r.close();
    expect(readFileSync(target, "latin1")).toBe("precious");
    expect(r.actualPath).toBe(join(dir, "rec-1.wav"));
    expect(readWav(readFileSync(join(dir, "rec-1.wav"))).length).toBe(160);
  });

  it("audio written faster than the disk takes it is dropped beyond the queue bound, counted, reported once", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sipmock-rec-"));
    const file = join(dir, "fast.wav");
    const errors: Error[] = [];
    const r = new WavRecorder(file, (e) => errors.push(e));
    const payload = new Uint8Array(8000).fill(0xff); // 1 s of PCMU: one flush of 16,000 octets
    const flushes = Math.ceil((3 * MAX_PENDING_BYTES) / 16000);
    for (let i = 0; i < flushes; i++) r.writePayload("PCMU", payload); // one tick: no write completes meanwhile
    expect(r.droppedBytes).toBeGreaterThan(MAX_PENDING_BYTES);
    expect(errors.map((e) => e.message)).toEqual([
      `record ${file}: the disk does not keep up; audio is dropped`,
    ]);
    await r.close();
    expect(existsSync(file)).toBe(true);
    const samples = readWav(readFileSync(file)).length;
    expect(samples * 2).toBeLessThanOrEqual(MAX_PENDING_BYTES);
    expect(samples * 2 + r.droppedBytes).toBe(flushes * 16000);
  });
});
