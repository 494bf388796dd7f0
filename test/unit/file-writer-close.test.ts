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
/** When set, the next write (async or sync) writes only this many octets, as a full disk or a signal may. */
let short: number | undefined;

/** Writes at most `short` octets of the buffers once; the count written. */
function writeSome(fs: typeof import("node:fs"), fd: number, buffers: Buffer[], position: number): number {
  if (short === undefined) return fs.writevSync(fd, buffers, position);
  const part = Buffer.concat(buffers).subarray(0, short);
  short = undefined;
  return fs.writeSync(fd, part, 0, part.length, position);
}

vi.mock("node:fs", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs")>();
  return {
    ...fs,
    writev: (
      fd: number,
      buffers: Buffer[],
      position: number,
      cb: (err: NodeJS.ErrnoException | null, written: number) => void,
    ) => {
      held.push(() => {
        let written: number;
        try {
          written = writeSome(fs, fd, buffers, position);
        } catch (err) {
          cb(err as NodeJS.ErrnoException, 0);
          return;
        }
        cb(null, written);
      });
    },
    writevSync: (fd: number, buffers: Buffer[], position: number) => writeSome(fs, fd, buffers, position),
  };
});

const { AsyncFileWriter } = await import("../../src/control/capture/file-writer.js");

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const turn = () => new Promise<void>((r) => setImmediate(r));

function file(): string {
  const d = mkdtempSync(join(tmpdir(), "sipmock-writer-"));
  dirs.push(d);
  return join(d, "out.txt");
}

/** Completes the held writes, a turn apart, until none is left. */
async function completeAll(): Promise<void> {
  while (held.length > 0) {
    held.shift()!();
    await turn();
  }
}

describe("capture file writer: close() with a write in flight", () => {
  it("writes the batch queued behind a write in flight before it closes the file, and starts no write after close()", async () => {
    const p = file();
    const w = new AsyncFileWriter(p, "w", (e) => errors.push(e));
    w.write(Buffer.from("first\n"));
    await turn();
    // The first batch is in flight; the second is queued for the next turn.
    expect(held).toHaveLength(1);
    w.write(Buffer.from("second\n"));
    const closing = w.close();
    // Every close() is the same: a second caller waits for the same end.
    expect(w.close()).toBe(closing);
    // The turn where the queued batch's flush would run comes before the first write completes.
    await turn();
    expect(held).toHaveLength(1);
    await completeAll();
    await closing;
    expect(errors).toEqual([]);
    expect(readFileSync(p, "utf8")).toBe("first\nsecond\n");
  });

  it("a short write goes on with the rest, asynchronous or at close()", async () => {
    const p = file();
    const w = new AsyncFileWriter(p, "w", (e) => errors.push(e));
    w.write(Buffer.from("abc"));
    w.write(Buffer.from("defgh\n"));
    await turn();
    short = 4; // "abcd" of the batch, then the rest from "e" on
    await completeAll();
    w.write(Buffer.from("ijk"));
    w.write(Buffer.from("lmn\n"));
    short = 2; // close() writes this batch itself, in two writes
    await w.close();
    expect(errors).toEqual([]);
    expect(readFileSync(p, "utf8")).toBe("abcdefgh\nijklmn\n");
  });

  it("a write of nothing is an error, and close() ends even when the error handler throws", async () => {
    const p = file();
    const seen: string[] = [];
    const w = new AsyncFileWriter(p, "w", (e) => {
      seen.push(e.message);
      throw new Error("handler broke");
    });
    w.write(Buffer.from("lost\n"));
    await turn();
    short = 0;
    expect(() => held.shift()!()).toThrow("handler broke");
    await w.close();
    expect(seen).toEqual([`${p}: nothing written`]);
  });
});
