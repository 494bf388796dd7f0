/**
 * GET /__admin/events: the journal as Server-Sent Events for the web UI.
 * `event: entry` with a journal record for every new message, DTMF digit
 * and call media summary (narrow on `kind`), `event: reset`
 * when the journal is cleared, a comment every 15 s so proxies and the
 * browser keep the stream open. The journal is subscribed to only while a
 * client is connected; a client that does not read (more than
 * maxBufferedBytes waiting) is dropped and reconnects with Last-Event-ID,
 * from where the journal replays what it missed. The replay is written in
 * chunks as the client reads (write() false: wait for 'drain'); live entries
 * meanwhile wait behind it. At most maxClients streams at once (503 beyond).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { HttpProblem } from "./http-problem.js";
import type { Journal, JournalRecord } from "./journal.js";

export interface EventStreamOptions {
  /** Octets a client may leave unread before it is dropped (default 8 MiB). */
  readonly maxBufferedBytes?: number;
  /** Streams open at once; more get 503 with Retry-After (default 32). */
  readonly maxClients?: number;
  /** Comment ping interval in ms (default 15000). */
  readonly pingMs?: number;
  /** Headers every stream response carries (the UI's security headers). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** How long the browser waits before reconnecting (the SSE `retry:` field), ms. */
const RETRY_MS = 1000;
/** Octets of replayed entries per write. */
const REPLAY_CHUNK = 64 * 1024;

/** A client still receiving the replay: live text waits in `tail`. */
interface Replay {
  readonly entries: JournalRecord[];
  next: number;
  tail: string[];
  tailBytes: number;
}

export class EventStream {
  /** Each stream, with its replay while one is in progress. */
  private readonly clients = new Map<ServerResponse, Replay | undefined>();
  private pending: JournalRecord[] = [];
  private detach: (() => void) | undefined;
  private ping: NodeJS.Timeout | undefined;
  private readonly maxBuffered: number;
  private readonly maxClients: number;
  private readonly pingMs: number;
  /** Clients dropped for not reading. */
  dropped = 0;

  constructor(
    private readonly journal: Journal,
    private readonly options: EventStreamOptions = {},
  ) {
    this.maxBuffered = options.maxBufferedBytes ?? 8 * 1024 * 1024;
    this.maxClients = options.maxClients ?? 32;
    this.pingMs = options.pingMs ?? 15_000;
  }

  get size(): number {
    return this.clients.size;
  }

  /**
   * Starts a stream. `after`: replay the journal's entries with a greater id
   * first (Last-Event-ID on a reconnect, or ?sinceId=).
   */
  open(req: IncomingMessage, res: ServerResponse, after: number | undefined): void {
    if (this.clients.size >= this.maxClients)
      throw new HttpProblem(
        503,
        "Service Unavailable",
        `${this.maxClients} event streams are open already; close one (another browser tab) or retry later`,
        {},
        { "retry-after": "5" },
      );
    res.writeHead(200, {
      ...this.options.headers,
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      // Tells nginx and friends not to buffer the stream.
      "x-accel-buffering": "no",
    });
    if (req.method === "HEAD") {
      res.end();
      return;
    }
    res.socket?.setNoDelay(true);
    const entries = after === undefined ? [] : this.journal.records({ sinceId: after });
    res.write(`retry: ${RETRY_MS}\n\n`);
    const replay = entries.length > 0 ? { entries, next: 0, tail: [], tailBytes: 0 } : undefined;
    this.clients.set(res, replay);
    res.once("close", () => this.remove(res));
    if (this.clients.size === 1) this.attach();
    if (replay) this.pump(res, replay);
  }

  /** Writes the replay chunk by chunk while the client takes it, then what arrived meanwhile. */
  private pump(res: ServerResponse, r: Replay): void {
    while (r.next < r.entries.length) {
      if (!this.clients.has(res)) return;
      let chunk = "";
      while (r.next < r.entries.length && chunk.length < REPLAY_CHUNK) chunk += frame(r.entries[r.next++]!);
      if (!res.write(chunk) && r.next < r.entries.length) {
        if (res.writableLength > this.maxBuffered) this.drop(res);
        else res.once("drain", () => this.pump(res, r));
        return;
      }
    }
    if (!this.clients.has(res)) return;
    this.clients.set(res, undefined);
    if (r.tail.length > 0) res.write(r.tail.join(""));
  }

  private drop(res: ServerResponse): void {
    this.dropped++;
    this.clients.delete(res);
    res.destroy();
    if (this.clients.size === 0 && this.detach) this.release();
  }

  /** Ends every stream (the admin server is closing). */
  close(): void {
    for (const res of this.clients.keys()) res.end();
    this.clients.clear();
    this.release();
  }

  private attach(): void {
    const stopEntries = this.journal.subscribe((e) => {
      // After this turn of the event loop: the request's entry then names the rule that answered it.
      if (this.pending.push(e) === 1) setImmediate(this.flush);
    }, true);
    const stopClear = this.journal.onClear(() => {
      this.flush();
      this.broadcast("event: reset\ndata: {}\n\n");
    });
    this.detach = () => {
      stopEntries();
      stopClear();
    };
    this.ping = setInterval(() => this.broadcast(": ping\n\n"), this.pingMs);
    this.ping.unref();
  }

  private release(): void {
    this.detach?.();
    this.detach = undefined;
    clearInterval(this.ping);
    this.ping = undefined;
    this.pending = [];
  }

  private remove(res: ServerResponse): void {
    if (this.clients.delete(res) && this.clients.size === 0) this.release();
  }

  private readonly flush = (): void => {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    // Serialised once for every client.
    this.broadcast(batch.map(frame).join(""));
  };

  private broadcast(text: string): void {
    for (const [res, replay] of this.clients) {
      if (replay) {
        // Still replaying: the live text follows the replay.
        replay.tail.push(text);
        replay.tailBytes += text.length;
        if (replay.tailBytes > this.maxBuffered) this.drop(res);
        continue;
      }
      if (res.writableLength > this.maxBuffered) {
        // It has stopped reading: drop it rather than hold the journal twice over.
        this.drop(res);
        continue;
      }
      res.write(text);
    }
    if (this.clients.size === 0 && this.detach) this.release();
  }
}

function frame(e: JournalRecord): string {
  // JSON.stringify escapes line breaks inside strings: one data line per entry.
  return `id: ${e.id}\nevent: entry\ndata: ${JSON.stringify(e)}\n\n`;
}
