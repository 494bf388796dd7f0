/**
 * A Buffer with an ArrayBuffer of its own size. Small Buffers (from the
 * pool: Buffer.from, concat, allocUnsafe under 4 KiB) are slices of a
 * shared 8 KiB slab, and a message kept for long (the journal, a
 * transaction's final response) would keep its whole slab alive, with
 * whatever else was cut from it (RTP packets). Already its own: returned
 * as is.
 */
export function ownBuffer(bytes: Buffer): Buffer {
  if (bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.length) return bytes;
  const copy = Buffer.allocUnsafeSlow(bytes.length);
  bytes.copy(copy);
  return copy;
}
