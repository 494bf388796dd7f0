/**
 * A capture file written off the hot path: `write()` queues the octets and
 * one asynchronous `writev` per event-loop turn writes the batch (at most one
 * in flight, so the file keeps the order). Memory is bounded: past
 * `maxBacklog` queued octets (a disk slower than the traffic) the batch is
 * written synchronously, which slows the mock down instead of losing
 * messages or growing without bound. `close()` waits for the write in
 * flight and writes the rest: a clean shutdown loses nothing.
 */
import { closeSync, openSync, writev, writevSync } from "node:fs";

export const DEFAULT_CAPTURE_BACKLOG = 16 * 1024 * 1024;

export class AsyncFileWriter {
  private readonly fd: number;
  private queue: Buffer[] = [];
  private queued = 0;
  private scheduled = false;
  private inFlight: Promise<void> | undefined;
  private closed = false;

  constructor(
    readonly path: string,
    flags: "w" | "a",
    private readonly onError: (err: Error) => void = () => {},
    private readonly maxBacklog = DEFAULT_CAPTURE_BACKLOG,
  ) {
    this.fd = openSync(path, flags);
  }

  /** Octets queued and not yet handed to the kernel. */
  get backlog(): number {
    return this.queued;
  }

  write(data: Buffer): void {
    if (this.closed) return;
    this.queue.push(data);
    this.queued += data.length;
    if (this.queued > this.maxBacklog && !this.inFlight) {
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
    if (this.inFlight || this.queue.length === 0) return;
    const batch = this.take();
    this.inFlight = new Promise<void>((resolve) => {
      writev(this.fd, batch, (err) => {
        this.inFlight = undefined;
        if (err) this.onError(err);
        resolve();
        if (this.queue.length > 0 && !this.closed) this.flush();
      });
    });
  }

  private take(): Buffer[] {
    const batch = this.queue;
    this.queue = [];
    this.queued = 0;
    return batch;
  }

  private writeQueuedSync(): void {
    try {
      if (this.queue.length > 0) writevSync(this.fd, this.take());
    } catch (err) {
      this.onError(err as Error);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.inFlight;
    this.writeQueuedSync();
    closeSync(this.fd);
  }
}
