/**
 * `--journal FILE.jsonl`: one JSON object per journal entry (SIP messages,
 * DTMF digits, call media statistics; see `kind`), appended. Writes are
 * batched per event-loop turn and flushed synchronously on close, so a
 * clean shutdown loses nothing.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import type { JournalRecord } from "../journal.js";

export class JsonlSink {
  private readonly fd: number;
  private queue: JournalRecord[] = [];
  private scheduled = false;
  private closed = false;

  constructor(readonly path: string) {
    this.fd = openSync(path, "a");
  }

  write(entry: JournalRecord): void {
    if (this.closed) return;
    this.queue.push(entry);
    if (!this.scheduled) {
      this.scheduled = true;
      // After this turn: the request's entry then carries the rule that answered it.
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    if (this.queue.length === 0) return;
    const text = this.queue.map((e) => `${JSON.stringify(e)}\n`).join("");
    this.queue = [];
    writeSync(this.fd, text);
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    closeSync(this.fd);
  }
}
