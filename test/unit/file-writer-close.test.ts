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
import type { JournalEntry } from "../../src/control/journal-types.js";

/** Writes handed to the kernel by the writer, waiting for the test to complete them. */
const held: Array<() => void> = [];
const errors: Error[] = [];
/**
 * What the next writes (async or sync) do, one item each: a number writes
 * only that many octets, as a full disk or a signal may; "full" fails with
 * ENOSPC, writing nothing; "all" (or none left) writes everything.
 */
const plan: Array<number | "full" | "all"> = [];

function writeSome(fs: typeof import("node:fs"), fd: number, buffers: Buffer[], position: number): number {
  const next = plan.shift();
  if (next === "full")
    throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
  if (next === undefined || next === "all") return fs.writevSync(fd, buffers, position);
  const part = Buffer.concat(buffers).subarray(0, next);
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
const { PcapWriter } = await import("../../src/control/capture/pcap.js");

/** A SIP request as the journal hands it to a capture. */
const message = (n: number): JournalEntry => ({
  id: n,
  time: new Date(1_700_000_000_000 + n).toISOString(),
  direction: "in",
  transport: "udp",
  local: { address: "127.0.0.1", port: 5060 },
  remote: { address: "127.0.0.1", port: 5062 },
  raw: `OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nCall-ID: c${n}\r\nContent-Length: 0\r\n\r\n`,
  kind: "request",
  method: "OPTIONS",
  retransmission: false,
});

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
    plan.push(4); // "abcd" of the batch, then the rest from "e" on
    await completeAll();
    w.write(Buffer.from("ijk"));
    w.write(Buffer.from("lmn\n"));
    plan.push(2); // close() writes this batch itself, in two writes
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
    plan.push(0);
    // The handler's own failure goes no further.
    expect(() => held.shift()!()).not.toThrow();
    await w.close();
    expect(seen).toEqual([
      `${p}: nothing written; the capture stops here (the file keeps the whole records before)`,
    ]);
  });
});

describe("capture file writer: a write that fails stops the capture and leaves whole records", () => {
  it("cuts the file back to where the failed batch began, also past a later batch that was written", async () => {
    const p = file();
    const seen: string[] = [];
    const w = new AsyncFileWriter(p, "w", (e) => seen.push(e.message));
    w.write(Buffer.from("one\n"));
    await turn();
    w.write(Buffer.from("two\n"));
    await turn();
    w.write(Buffer.from("three\n"));
    await turn();
    expect(held).toHaveLength(3);
    held.shift()!(); // "one" written
    plan.push(2);
    held.shift()!(); // "tw" of "two": the rest is a write of its own, held last
    plan.push("full");
    held.pop()!(); // the rest of "two" fails: the disk is full
    await turn();
    // Written after the failure: dropped, no write begins.
    w.write(Buffer.from("four\n"));
    await turn();
    expect(held).toHaveLength(1);
    held.shift()!(); // "three" lands after the hole
    await turn();
    await turn();
    // No write in flight any more: the file is cut back at once, before close().
    expect(readFileSync(p, "utf8")).toBe("one\n");
    await w.close();
    expect(readFileSync(p, "utf8")).toBe("one\n");
    expect(seen).toEqual([
      "ENOSPC: no space left on device, write; the capture stops here (the file keeps the whole records before)",
    ]);
  });

  it("an earlier batch failing after a later one failed cuts back to the earlier one's start", async () => {
    const p = file();
    const seen: string[] = [];
    const w = new AsyncFileWriter(p, "w", (e) => seen.push(e.message));
    w.write(Buffer.from("head\n"));
    await turn();
    held.shift()!();
    await turn();
    w.write(Buffer.from("a\n"));
    await turn();
    w.write(Buffer.from("b\n"));
    await turn();
    plan.push("full");
    held.pop()!(); // "b" fails first: the file would end at its start
    await turn();
    plan.push("full");
    held.pop()!(); // then "a" fails, before it
    await w.close();
    expect(readFileSync(p, "utf8")).toBe("head\n");
    // Said once: the capture stopped at the first failure.
    expect(seen).toHaveLength(1);
  });

  it("a synchronous write (the backlog full) that fails cuts back too", async () => {
    const p = file();
    const seen: string[] = [];
    const w = new AsyncFileWriter(p, "w", (e) => seen.push(e.message), 8);
    w.write(Buffer.from("abcdefghij\n")); // past 8 octets: written at once
    plan.push(3, "full");
    w.write(Buffer.from("klmnopqrst\n")); // "klm" written, then the rest fails
    w.write(Buffer.from("uvw\n")); // dropped
    expect(readFileSync(p, "utf8")).toBe("abcdefghij\n");
    await w.close();
    expect(held).toHaveLength(0);
    expect(readFileSync(p, "utf8")).toBe("abcdefghij\n");
    expect(seen).toHaveLength(1);
  });

  it("a pcap whose first batch fails keeps its file header: Wireshark opens it (no records)", async () => {
    const p = file();
    const seen: string[] = [];
    const pcap = new PcapWriter(p, (e) => seen.push(e.message));
    expect(readFileSync(p)).toHaveLength(24);
    pcap.write(message(1));
    await turn();
    plan.push("full");
    held.shift()!();
    await pcap.close();
    expect(readFileSync(p).readUInt32LE(0)).toBe(0xa1b2c3d4);
    expect(readFileSync(p)).toHaveLength(24);
    expect(seen).toHaveLength(1);
  });

  it("an error handler that throws does not keep the file from being cut back and closed", async () => {
    const p = file();
    const w = new AsyncFileWriter(
      p,
      "w",
      () => {
        throw new Error("handler broke");
      },
      8,
    );
    w.write(Buffer.from("abcdefghij\n"));
    plan.push("full");
    w.write(Buffer.from("klmnopqrst\n"));
    expect(readFileSync(p, "utf8")).toBe("abcdefghij\n");
    await w.close();
    expect(readFileSync(p, "utf8")).toBe("abcdefghij\n");
  });

  it("a pcap whose disk fills up ends with its last whole record (every record header frames the rest)", async () => {
    const p = file();
    const seen: string[] = [];
    // A small backlog: each record is written at once, its header and packet in one write.
    const pcap = new PcapWriter(p, (e) => seen.push(e.message), 8);
    pcap.write(message(1)); // the global header and record 1
    // One write succeeds, the next fails: record 2 is written whole (its
    // header and packet in one write), record 3 fails whole.
    plan.push("all", "full");
    pcap.write(message(2));
    pcap.write(message(3));
    pcap.write(message(4)); // dropped
    await pcap.close();
    expect(held).toHaveLength(0);
    const bytes = readFileSync(p);
    // The records tile the file exactly: the global header, then (16-octet header + caplen) each.
    let at = 24;
    let records = 0;
    while (at < bytes.length) {
      at += 16 + bytes.readUInt32LE(at + 8);
      records++;
    }
    expect(at).toBe(bytes.length);
    expect(records).toBe(2);
    expect(bytes.toString("latin1")).toContain("Call-ID: c2");
    expect(seen).toHaveLength(1);
  });
});
