/**
 * Where the CompletedStore keeps its final responses' octets: copied one
 * after the other into shared 64 KiB chunks (a Buffer each costs ~200
 * octets of objects, and the serializer's one keeps its written head and,
 * through sliced strings, the whole request's text), and without what they
 * share with a recent response. Responses of one kind differ in a few
 * header values only (Via, From, To, Call-ID, CSeq, RFC 3261 8.2.6.2); their
 * start line and the UAS's own headers (Server, Allow, Accept, Supported,
 * Content-Length) are the same. So a response is kept as: how many octets
 * it shares at its start and at its end with a template (a recent response
 * kept whole), and its middle.
 */

/** Octets per chunk; a chunk lives while a stored response (or a template) lies in it. */
const CHUNK = 64 * 1024;
/** A response sharing fewer octets than this with every template is kept whole and becomes one. */
const MIN_SHARED = 64;
/** Templates tried for each response, the most recent first. */
const TEMPLATES = 4;

/** How one response is kept: `template`'s first `prefix` octets, the middle in `chunk` at `offset`, its last `suffix`. */
export interface KeptParts {
  chunk: Buffer;
  offset: number;
  template: Buffer | undefined;
  prefix: number;
  suffix: number;
}

export class ResponseArena {
  private chunk: Buffer = Buffer.allocUnsafeSlow(CHUNK);
  private used = 0;
  private readonly templates: Buffer[] = [];
  /** What keep() found (one object, reused: no allocation per response). */
  readonly kept: KeptParts = { chunk: this.chunk, offset: 0, template: undefined, prefix: 0, suffix: 0 };

  /** Keeps `response`; where its parts are is in `kept` until the next call. */
  keep(response: Buffer): KeptParts {
    const k = this.kept;
    const t = this.bestTemplate(response);
    if (t === undefined) {
      this.write(response, 0, response.length);
      k.template = undefined;
      k.prefix = 0;
      k.suffix = 0;
      // Its copy in the arena is the new template (a view of the chunk, not another copy).
      this.addTemplate(k.chunk.subarray(k.offset, k.offset + response.length));
      return k;
    }
    const { prefix, suffix } = this.shared;
    this.write(response, prefix, response.length - suffix);
    k.template = t;
    k.prefix = prefix;
    k.suffix = suffix;
    return k;
  }

  private readonly shared = { prefix: 0, suffix: 0 };

  /** The template sharing the most octets with `r` (at least MIN_SHARED), its counts in `shared`. */
  private bestTemplate(r: Buffer): Buffer | undefined {
    let best: Buffer | undefined;
    let most = MIN_SHARED - 1;
    for (let n = 0; n < this.templates.length; n++) {
      const t = this.templates[n]!;
      const max = Math.min(r.length, t.length);
      let p = 0;
      while (p < max && r[p] === t[p]) p++;
      let s = 0;
      const rl = r.length - 1;
      const tl = t.length - 1;
      while (s < max - p && r[rl - s] === t[tl - s]) s++;
      if (p + s > most) {
        most = p + s;
        best = t;
        this.shared.prefix = p;
        this.shared.suffix = s;
      }
    }
    if (best !== undefined && best !== this.templates[0]) this.promote(best);
    return best;
  }

  private promote(t: Buffer): void {
    const list = this.templates;
    list.splice(list.indexOf(t), 1);
    list.unshift(t);
  }

  private addTemplate(t: Buffer): void {
    this.templates.unshift(t);
    if (this.templates.length > TEMPLATES) this.templates.pop();
  }

  /** Copies `src[from, to)` into the arena (a piece bigger than a quarter chunk: a buffer of its own). */
  private write(src: Buffer, from: number, to: number): void {
    const n = to - from;
    const k = this.kept;
    if (n > CHUNK / 4) {
      k.chunk = Buffer.allocUnsafeSlow(n);
      k.offset = 0;
      src.copy(k.chunk, 0, from, to);
      return;
    }
    if (this.used + n > CHUNK) {
      this.chunk = Buffer.allocUnsafeSlow(CHUNK);
      this.used = 0;
    }
    src.copy(this.chunk, this.used, from, to);
    k.chunk = this.chunk;
    k.offset = this.used;
    this.used += n;
  }
}

/** A response kept by ResponseArena.keep, `length` octets, in a Buffer of its own. */
export function assemble(
  chunk: Buffer,
  offset: number,
  template: Buffer | undefined,
  prefix: number,
  suffix: number,
  length: number,
): Buffer {
  const out = Buffer.allocUnsafeSlow(length);
  const middle = length - prefix - suffix;
  if (template !== undefined) {
    template.copy(out, 0, 0, prefix);
    template.copy(out, length - suffix, template.length - suffix, template.length);
  }
  chunk.copy(out, prefix, offset, offset + middle);
  return out;
}
