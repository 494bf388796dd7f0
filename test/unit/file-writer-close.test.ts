/**
 * close() of a capture file while a batch is in flight and another is
 * queued (src/control/capture/file-writer.ts): the asynchronous writev is
 * held here and completed when the test says, so the order that lost the
 * last batch (close() closed the file under a write that began after it)
 * is played every time, not by chance.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";

/** Writes handed to the kernel by the writer, waiting for the test to complete them. */
const held: Array<() => void> = [];
const errors: Error[] = [];

vi.mock("node:fs", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs")>();
  return {
    ...fs,
    writev: (
      fd: number,
      buffers: Buffer[],
      position: number,
      cb: (err: NodeJS.ErrnoException | null) => void,
    ) => {
      held.push(() => {
        try {
          fs.writevSync(fd, buffers, position);
          cb(null);
        } catch (err) {
          cb(err as NodeJS.ErrnoException);
        }
      });
    },
  };
});

const { AsyncFileWriter } = await import("../../src/control/capture/file-writer.js");

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const turn = () => new Promise<void>((r) => setImmediate(r));

describe("capture file writer: close() with a write in flight", () => {
  it("writes the batch queued behind a write in flight before it closes the file", async () => {
    const d = mkdtempSync(join(tmpdir(), "sipmock-writer-"));
    dirs.push(d);
    const p = join(d, "out.txt");
    const w = new AsyncFileWriter(p, "w", (e) => errors.push(e));
    w.write(Buffer.from("first\n"));
    await turn();
    // The first batch is in flight; the second is queued for the next turn.
    expect(held).toHaveLength(1);
    w.write(Buffer.from("second\n"));
    const closing = w.close();
    // The turn where the queued batch's flush runs comes before the first write completes.
    await turn();
    held.shift()!();
    while (held.length > 0) {
      await turn();
      held.shift()?.();
    }
    await closing;
    expect(errors).toEqual([]);
    expect(readFileSync(p, "utf8")).toBe("first\nsecond\n");
  });
});
