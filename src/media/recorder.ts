/**
 * Recording of what the peer sends: received G.711 payloads (RFC 3551 4.5.14)
 * decoded to an 8 kHz 16-bit mono WAV, streamed to disk in ~1 s writes; the
 * RIFF and data sizes are patched into the header when the call ends.
 */
import { type FileHandle, open } from "node:fs/promises";
import { extname } from "node:path";
import { g711DecodeTable } from "./g711.js";
import type { MediaCodec } from "./types.js";
import { MEDIA_RATE, wavHeader } from "./wav.js";

const FLUSH_BYTES = MEDIA_RATE * 2; // one second
const MAX_DATA = 0xffffffff - 44;
/** A timestamp jump longer than this is a discontinuity (the peer restarted its clock), not a pause. */
const MAX_GAP_SAMPLES = MEDIA_RATE * 10;
/** Octets handed to the disk and not yet written; beyond, audio is dropped (a disk that cannot keep up). */
export const MAX_PENDING_BYTES = 1024 * 1024;
/** Names tried when the file exists: name.wav, name-1.wav ... name-999.wav. */
const MAX_SUFFIX = 999;

export class WavRecorder {
  private readonly file: Promise<FileHandle | undefined>;
  private chunks: Buffer[] = [];
  private chunkBytes = 0;
  private dataBytes = 0;
  private pendingBytes = 0;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  private failed = false;
  /** Audio octets dropped because the write queue was full. */
  droppedBytes = 0;
  /** The file written: `path`, or `path` with a numeric suffix when that name existed. */
  actualPath: string | undefined;

  constructor(
    readonly path: string,
    private readonly onError: (err: Error) => void,
  ) {
    this.file = openNew(path).then(
      async ({ fh, name }) => {
        this.actualPath = name;
        await fh.write(wavHeader(0), 0, 44, 0);
        return fh;
      },
      (err: Error) => {
        onError(new Error(`record ${path}: ${err.message}`));
        return undefined;
      },
    );
  }

  get samples(): number {
    return (this.dataBytes + this.chunkBytes) / 2;
  }

  /** Decodes a G.711 payload and appends it. */
  writePayload(codec: MediaCodec, payload: Uint8Array): void {
    if (this.closed) return;
    const table = g711DecodeTable(codec);
    const out = Buffer.allocUnsafe(payload.length * 2);
    for (let i = 0; i < payload.length; i++) out.writeInt16LE(table[payload[i]!]!, i * 2);
    this.append(out);
  }

  /**
   * Appends n zero samples (lost packets, a pause in the peer's timestamps),
   * at most `atMost` (the time that really passed); a jump over 10 s adds none.
   */
  writeSilence(n: number, atMost = n): void {
    if (this.closed || n <= 0 || n > MAX_GAP_SAMPLES) return;
    const k = Math.min(n, Math.max(0, atMost));
    if (k > 0) this.append(Buffer.alloc(k * 2));
  }

  private append(b: Buffer): void {
    if (this.dataBytes + this.chunkBytes + b.length > MAX_DATA) return;
    this.chunks.push(b);
    this.chunkBytes += b.length;
    if (this.chunkBytes >= FLUSH_BYTES) this.flush();
  }

  private flush(): void {
    if (this.chunkBytes === 0) return;
    const data = Buffer.concat(this.chunks, this.chunkBytes);
    this.chunks = [];
    this.chunkBytes = 0;
    if (this.pendingBytes + data.length > MAX_PENDING_BYTES) {
      if (this.droppedBytes === 0)
        this.onError(new Error(`record ${this.path}: the disk does not keep up; audio is dropped`));
      this.droppedBytes += data.length;
      return;
    }
    const at = 44 + this.dataBytes;
    this.dataBytes += data.length;
    this.pendingBytes += data.length;
    this.chain = this.chain.then(async () => {
      const fh = await this.file;
      if (fh && !this.failed) await fh.write(data, 0, data.length, at).catch((err: Error) => this.fail(err));
      this.pendingBytes -= data.length;
    });
  }

  private fail(err: Error): void {
    if (!this.failed) this.onError(new Error(`record ${this.path}: ${err.message}`));
    this.failed = true;
  }

  /** Writes what is buffered, the final header sizes, and closes the file. */
  async close(): Promise<void> {
    if (this.closed) return this.chain;
    this.flush();
    this.closed = true;
    const dataBytes = this.dataBytes;
    this.chain = this.chain
      .then(async () => {
        const fh = await this.file;
        if (!fh) return;
        try {
          if (!this.failed) await fh.write(wavHeader(dataBytes), 0, 44, 0);
        } finally {
          await fh.close();
        }
      })
      .catch((err: Error) => this.fail(err));
    return this.chain;
  }
}

/**
 * Creates the file, never truncating or following an existing one ("wx":
 * O_CREAT|O_EXCL, a symlink counts as existing): when the name is taken,
 * name-1.wav, name-2.wav... (two calls whose Call-IDs sanitise alike, an
 * earlier run's recording).
 */
async function openNew(path: string): Promise<{ fh: FileHandle; name: string }> {
  const ext = extname(path);
  const stem = path.slice(0, path.length - ext.length);
  for (let i = 0; ; i++) {
    const name = i === 0 ? path : `${stem}-${i}${ext}`;
    try {
      return { fh: await open(name, "wx"), name };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST" || i >= MAX_SUFFIX) throw err;
    }
  }
}
