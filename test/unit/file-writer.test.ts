import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AsyncFileWriter } from "../../src/control/capture/file-writer.js";
import { createLogger } from "../../src/control/logger.js";
import { openCaptures } from "../../src/control/mock/recorder.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function path(): string {
  const d = mkdtempSync(join(tmpdir(), "sipmock-writer-"));
  dirs.push(d);
  return join(d, "out.bin");
}

describe("capture file writer", () => {
  it("writes nothing on the caller's turn, then everything in order; close loses nothing", async () => {
    const p = path();
    const w = new AsyncFileWriter(p, "w");
    const expected: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const line = `line ${i}\n`;
      expected.push(line);
      w.write(Buffer.from(line));
      if (i === 0) expect(readFileSync(p, "utf8")).toBe("");
      // Between turns, so several batches are written while one is in flight.
      if (i % 300 === 0) await new Promise((r) => setImmediate(r));
    }
    await w.close();
    expect(readFileSync(p, "utf8")).toBe(expected.join(""));
    w.write(Buffer.from("after close\n"));
    expect(readFileSync(p, "utf8")).toBe(expected.join(""));
  });

  it("holds at most maxBacklog octets: past it the queue is written at once", () => {
    const p = path();
    const w = new AsyncFileWriter(p, "w", undefined, 1000);
    w.write(Buffer.alloc(600, 0x61));
    expect(w.backlog).toBe(600);
    w.write(Buffer.alloc(600, 0x62));
    expect(w.backlog).toBe(0);
    expect(readFileSync(p).length).toBe(1200);
    return w.close();
  });

  it("stays bounded while a write is in flight, and the file keeps the order", async () => {
    const p = path();
    const w = new AsyncFileWriter(p, "w", undefined, 1000);
    w.write(Buffer.alloc(600, 0x61));
    await new Promise((r) => setImmediate(r)); // the first batch is now being written
    w.write(Buffer.alloc(600, 0x62));
    w.write(Buffer.alloc(600, 0x63)); // 1200 queued: written at once, behind the first
    expect(w.backlog).toBe(0);
    await w.close();
    expect(readFileSync(p, "latin1")).toBe(`${"a".repeat(600)}${"b".repeat(600)}${"c".repeat(600)}`);
  });

  it("appends to an existing file with flag a", async () => {
    const p = path();
    const a = new AsyncFileWriter(p, "w");
    a.write(Buffer.from("one\n"));
    await a.close();
    const b = new AsyncFileWriter(p, "a");
    b.write(Buffer.from("two\n"));
    await b.close();
    expect(readFileSync(p, "utf8")).toBe("one\ntwo\n");
  });
});

describe("capture files that cannot be written", () => {
  it("say so in the log once: the capture stops at the first failure (and a device cannot be cut back)", async () => {
    const lines: string[] = [];
    const logger = createLogger("error", false, (line) => lines.push(line));
    // /dev/full refuses every write (ENOSPC).
    const { sinks } = openCaptures({ journalFile: "/dev/full" }, logger);
    const sink = sinks[0]!;
    for (let turn = 0; turn < 3; turn++) {
      sink.write({ id: turn + 1, kind: "dtmf", time: "2026-12-05T12:00:00.000Z" } as never);
      await new Promise((r) => setTimeout(r, 0));
      await new Promise((r) => setImmediate(r));
    }
    await sink.close();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^capture \/dev\/full: write failed: .*ENOSPC.*; the capture stops here/);
    expect(lines[1]).toMatch(
      /^capture \/dev\/full: write failed: \/dev\/full: could not cut the file back to 0 octets/,
    );
  });

  it("a pcap's file header is written when the file opens: a disk that cannot take it is said at once", () => {
    const lines: string[] = [];
    const logger = createLogger("error", false, (line) => lines.push(line));
    openCaptures({ pcapFile: "/dev/full" }, logger);
    expect(lines[0]).toMatch(/^capture \/dev\/full: write failed: .*ENOSPC.*; the capture stops here/);
  });
});
