/**
 * `--journal FILE.jsonl`: one JSON object per journal entry (SIP messages,
 * DTMF digits, call media statistics; see `kind`), appended. Writes are
 * batched per event-loop turn and written asynchronously (file-writer.ts); close waits for
 * them, so a clean shutdown loses nothing.
 */
import type { JournalRecord } from "../journal.js";
import { AsyncFileWriter } from "./file-writer.js";

export class JsonlSink {
  private readonly file: AsyncFileWriter;
  /** The lines of this turn's entries. */
  private queue: string[] = [];
  private scheduled = false;
  private closed = false;

  constructor(
    readonly path: string,
    /** A write that failed (a full disk): the mock says so in its log. */
    onError?: (err: Error) => void,
  ) {
    this.file = new AsyncFileWriter(path, "a", onError);
  }

  write(entry: JournalRecord): void {
    if (this.closed) return;
    // Written out now: the recorder hands entries over once their turn is
    // over (a request's entry then carries the rule that answered it), and
    // a journaled message's octets are only its own until then
    // (journal-bytes.ts).
    this.queue.push(`${JSON.stringify(entry)}\n`);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    if (this.queue.length === 0) return;
    const text = this.queue.join("");
    this.queue = [];
    this.file.write(Buffer.from(text, "utf8"));
  }

  /** Waits for the writes in flight and writes the rest; every call gets the same promise (file-writer.ts). */
  close(): Promise<void> {
    if (!this.closed) this.flush();
    this.closed = true;
    return this.file.close();
  }
}
