/**
 * A capture file written off the hot path: `write()` queues the octets and
 * one asynchronous `writev` per event-loop turn writes the batch. Every
 * batch is written at its own file position, handed out in order, so the
 * file keeps the order whichever write completes first. Memory is bounded:
 * past `maxBacklog` queued octets (a disk slower than the traffic) the queue
 * is written synchronously, which slows the mock down instead of losing
 * messages or growing without bound. `close()` waits for the writes in
 * flight and writes the rest: a clean shutdown loses nothing.
 *
 * A write that fails (a full disk) stops the capture: a batch's position
 * was handed out when it was taken, so the file would hold a run of zeros
 * where the batch should be, and in pcap every record after it would be
 * misread. Nothing is written after the failure, and once no write is in
 * flight the file is cut back to where the first failed batch began: it
 * ends with the last whole record before it (a batch holds whole records:
 * `write(a, b)` queues a record's two parts together).
 */
import { closeSync, fstatSync, ftruncateSync, openSync, writeSync, writev, writevSync } from "node:fs";

export const DEFAULT_CAPTURE_BACKLOG = 16 * 1024 * 1024;

export class AsyncFileWriter {
  private readonly fd: number;
  /** Where the next batch goes. */
  private position: number;
  private queue: Buffer[] = [];
  private queued = 0;
  private scheduled = false;
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;
  /** Where the first failed batch began (the file is cut back to it), or -1 while every write succeeded. */
  private failedAt = -1;
  /** Whether the file was cut back (once). */
  private cut = false;

  constructor(
    readonly path: string,
    flags: "w" | "a",
    private readonly onError: (err: Error) => void = () => {},
    private readonly maxBacklog = DEFAULT_CAPTURE_BACKLOG,
    /**
     * Written at once, when the file is opened (a pcap's file header): a
     * disk that cannot take even that is reported now, and a failure later
     * never cuts it away, so the file stays one that readers open.
     */
    header?: Buffer,
  ) {
    // Appending: the file is created if absent and written from its end
    // (not O_APPEND, which would ignore the positions).
    if (flags === "a") closeSync(openSync(path, "a"));
    this.fd = openSync(path, flags === "a" ? "r+" : "w");
    this.position = flags === "a" ? fstatSync(this.fd).size : 0;
    if (header !== undefined) this.writeHeader(header);
  }

  private writeHeader(header: Buffer): void {
    const start = this.position;
    try {
      for (let at = 0; at < header.length; ) {
        const written = writeSync(this.fd, header, at, header.length - at, this.position);
        if (written <= 0) throw new Error(`${this.path}: nothing written`);
        at += written;
        this.position += written;
      }
    } catch (err) {
      this.fail(start, err as Error);
      this.cutBack();
    }
  }

  /** Octets queued and not yet handed to the kernel. */
  get backlog(): number {
    return this.queued;
  }

  /** Queues a record: `data`, and `more` right after it in the same batch (a pcap record's header and packet). */
  write(data: Buffer, more?: Buffer): void {
    if (this.closed || this.failedAt >= 0) return;
    this.queue.push(data);
    this.queued += data.length;
    if (more !== undefined) {
      this.queue.push(more);
      this.queued += more.length;
    }
    if (this.queued > this.maxBacklog) {
      this.writeQueuedSync();
      return;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    // After close() began, close() writes what is queued itself, once the
    // writes in flight are done: a write started now could still be in
    // flight when close() closes the file.
    if (this.closed || this.queue.length === 0) return;
    const { batch, at } = this.take();
    const done = new Promise<void>((resolve) => this.writeAll(batch, at, resolve));
    this.inFlight.add(done);
    void done.then(() => {
      this.inFlight.delete(done);
      this.cutBack();
    });
  }

  /**
   * Writes every octet of a batch at `at`: a short write (a full disk, a
   * signal) goes on with the rest. `start`: where the batch began.
   */
  private writeAll(batch: Buffer[], at: number, done: () => void, start = at): void {
    writev(this.fd, batch, at, (err, written) => {
      const total = lengthOf(batch);
      if (!err && written > 0 && written < total) {
        this.writeAll(rest(batch, written), at + written, done, start);
        return;
      }
      try {
        if (err) this.fail(start, err);
        else if (written < total) this.fail(start, new Error(`${this.path}: nothing written`));
      } finally {
        done(); // whatever onError does, close() does not wait forever
      }
    });
  }

  /**
   * A batch that began at `start` failed: the capture stops; what is queued
   * is dropped. Reported once: the batches still in flight then (failing
   * too, as a full disk does) are part of the same stop.
   */
  private fail(start: number, err: Error): void {
    const first = this.failedAt < 0;
    if (first || start < this.failedAt) this.failedAt = start;
    this.queue = [];
    this.queued = 0;
    if (first)
      this.report(
        new Error(`${err.message}; the capture stops here (the file keeps the whole records before)`),
      );
  }

  /** Tells onError; one that throws changes nothing here (the file is still cut back and closed). */
  private report(err: Error): void {
    try {
      this.onError(err);
    } catch {
      // (the error handler's own failure has nowhere better to go)
    }
  }

  /**
   * After a failure, once no write is in flight: the file ends where the
   * first failed batch began (what later batches wrote after it goes too).
   */
  private cutBack(): void {
    if (this.failedAt < 0 || this.cut || this.inFlight.size > 0) return;
    this.cut = true;
    try {
      ftruncateSync(this.fd, this.failedAt);
    } catch (err) {
      // (a device, /dev/full say, cannot be cut)
      this.report(
        new Error(
          `${this.path}: could not cut the file back to ${this.failedAt} octets: ${(err as Error).message}`,
        ),
      );
    }
  }

  /** The queued octets and the file position they are written at. */
  private take(): { batch: Buffer[]; at: number } {
    const batch = this.queue;
    const at = this.position;
    this.position += this.queued;
    this.queue = [];
    this.queued = 0;
    return { batch, at };
  }

  private writeQueuedSync(): void {
    if (this.queue.length === 0) return;
    let { batch, at } = this.take();
    const start = at;
    try {
      for (let left = lengthOf(batch); left > 0; ) {
        const written = writevSync(this.fd, batch, at);
        if (written <= 0) throw new Error(`${this.path}: nothing written`);
        left -= written;
        at += written;
        if (left > 0) batch = rest(batch, written);
      }
    } catch (err) {
      this.fail(start, err as Error);
      this.cutBack();
    }
  }

  /** Waits for the writes in flight, writes the rest, closes the file; every call gets the same promise. */
  close(): Promise<void> {
    this.closing ??= this.closeNow();
    return this.closing;
  }

  private closing: Promise<void> | undefined;

  private async closeNow(): Promise<void> {
    this.closed = true;
    // No write starts after this (flush() leaves the queue to close()).
    await Promise.all(this.inFlight);
    try {
      this.writeQueuedSync();
      this.cutBack();
    } finally {
      closeSync(this.fd);
    }
  }
}

function lengthOf(batch: readonly Buffer[]): number {
  let n = 0;
  for (const b of batch) n += b.length;
  return n;
}

/** What is left of a batch after its first `written` octets. */
function rest(batch: readonly Buffer[], written: number): Buffer[] {
  let i = 0;
  while (i < batch.length && written >= batch[i]!.length) written -= batch[i++]!.length;
  const left = batch.slice(i);
  if (left.length > 0 && written > 0) left[0] = left[0]!.subarray(written);
  return left;
}
