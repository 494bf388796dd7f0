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
 *
 * A response as long as its template (one client's requests: branch, tags
 * and Call-ID of equal length from call to call) keeps its middle as a
 * patch: only the runs of octets that differ from the template, each after
 * how many equal octets to take from it (for SIPp's OPTIONS 200, 27
 * octets instead of the 163 from its branch to its Call-ID). When
 * 16 responses since the last template had no template of their length
 * (a call counter gained a digit; now and then an odd one, which counts
 * too), the 16th is kept whole and becomes one.
 */

/** Octets per chunk; a chunk lives while a stored response (or a template) lies in it. */
const CHUNK = 64 * 1024;
/** A response sharing fewer octets than this with every template is kept whole and becomes one. */
const MIN_SHARED = 64;
/** Templates tried for each response, the most recent first. */
const TEMPLATES = 4;
/** Equal octets shorter than this inside a differing run are copied with it (a new run costs two octets). */
const MIN_GAP = 4;
/** The how-many-th response since the last new template with no template of its length becomes one. */
const UNMATCHED_FOR_TEMPLATE = 16;

/**
 * How one response is kept: `template`'s first `prefix` octets, the middle
 * in `chunk` at `offset` (as is, or a patch of the template's middle when
 * `patched`), its last `suffix`.
 */
export interface KeptParts {
  chunk: Buffer;
  offset: number;
  template: Buffer | undefined;
  prefix: number;
  suffix: number;
  patched: boolean;
}

export class ResponseArena {
  private chunk: Buffer = Buffer.allocUnsafeSlow(CHUNK);
  private used = 0;
  private readonly templates: Buffer[] = [];
  /** Responses kept with no template of their length since the last template was made. */
  private unmatched = 0;
  /** Octets kept so far (responses' middles and patches, templates; in chunks or, past a quarter chunk, buffers of their own). */
  written = 0;
  /** What keep() found (one object, reused: no allocation per response). */
  readonly kept: KeptParts = {
    chunk: this.chunk,
    offset: 0,
    template: undefined,
    prefix: 0,
    suffix: 0,
    patched: false,
  };

  /** Keeps `response`; where its parts are is in `kept` until the next call. */
  keep(response: Buffer): KeptParts {
    const k = this.kept;
    const t = this.bestTemplate(response);
    if (t === undefined || this.templateWanted(t, response)) {
      this.write(response, 0, response.length);
      k.template = undefined;
      k.prefix = 0;
      k.suffix = 0;
      k.patched = false;
      // Its copy in the arena is the new template (a view of the chunk, not another copy).
      this.addTemplate(k.chunk.subarray(k.offset, k.offset + response.length));
      return k;
    }
    const { prefix, suffix } = this.shared;
    k.template = t;
    k.prefix = prefix;
    k.suffix = suffix;
    k.patched = t.length === response.length && this.patch(response, t, prefix, response.length - suffix);
    if (!k.patched) this.write(response, prefix, response.length - suffix);
    return k;
  }

  private readonly shared = { prefix: 0, suffix: 0 };

  /**
   * The template for `r`, its shared counts in `shared`: the most recent one
   * of r's length sharing at least MIN_SHARED octets (it gives a patch);
   * else, of the other lengths, the one sharing the most (at least
   * MIN_SHARED). Templates of other lengths are compared only when none of
   * r's length will do: comparing each costs about as much as the patch.
   */
  private bestTemplate(r: Buffer): Buffer | undefined {
    const list = this.templates;
    for (const t of list) {
      if (t.length !== r.length || this.compare(r, t) < MIN_SHARED) continue;
      if (t !== list[0]) this.promote(t);
      return t;
    }
    let best: Buffer | undefined;
    let most = MIN_SHARED - 1;
    let prefix = 0;
    let suffix = 0;
    for (const t of list) {
      if (t.length === r.length) continue;
      const shared = this.compare(r, t);
      if (shared > most) {
        most = shared;
        best = t;
        prefix = this.shared.prefix;
        suffix = this.shared.suffix;
      }
    }
    this.shared.prefix = prefix;
    this.shared.suffix = suffix;
    if (best !== undefined && best !== list[0]) this.promote(best);
    return best;
  }

  /** How many octets r shares with t at its start and at its end (at most r's length), in `shared`; their sum. */
  private compare(r: Buffer, t: Buffer): number {
    const max = Math.min(r.length, t.length);
    let p = 0;
    while (p < max && r[p] === t[p]) p++;
    let s = 0;
    const rl = r.length - 1;
    const tl = t.length - 1;
    while (s < max - p && r[rl - s] === t[tl - s]) s++;
    this.shared.prefix = p;
    this.shared.suffix = s;
    return p + s;
  }

  /** Whether `r`, whose best template is `t`, is kept whole as a new template (its length has none, for a while). */
  private templateWanted(t: Buffer, r: Buffer): boolean {
    return t.length !== r.length && ++this.unmatched >= UNMATCHED_FOR_TEMPLATE;
  }

  /**
   * Writes the patch of r's middle [from, to) against t (as long as r):
   * runs of (equal octets to take from t, differing octets given), each
   * count a varint (7 bits an octet). False, with nothing kept, when the
   * patch would not be smaller than the middle itself.
   */
  private patch(r: Buffer, t: Buffer, from: number, to: number): boolean {
    const middle = to - from;
    if (middle + 8 > CHUNK / 4 || middle === 0) return false;
    // At most the middle plus two varints: room for it in this chunk.
    this.reserve(middle + 8);
    const out = this.chunk;
    const start = this.used;
    const limit = start + middle;
    let at = start;
    let i = from;
    while (i < to) {
      const same = i;
      while (i < to && r[i] === t[i]) i++;
      const diff = i;
      i = runEnd(r, t, i, to);
      at = putVarint(out, putVarint(out, at, diff - same), i - diff);
      if (at + (i - diff) >= limit) return false;
      // (A loop: Buffer.copy's checks cost more than the few octets of a run.)
      for (let j = diff; j < i; j++) out[at++] = r[j]!;
    }
    this.kept.chunk = out;
    this.kept.offset = start;
    this.used = at;
    this.written += at - start;
    return true;
  }

  private promote(t: Buffer): void {
    const list = this.templates;
    list.splice(list.indexOf(t), 1);
    list.unshift(t);
  }

  private addTemplate(t: Buffer): void {
    this.unmatched = 0;
    this.templates.unshift(t);
    if (this.templates.length > TEMPLATES) this.templates.pop();
  }

  /** A chunk with `n` octets free from `used` (a new one when this one has not). */
  private reserve(n: number): void {
    if (this.used + n > CHUNK) {
      this.chunk = Buffer.allocUnsafeSlow(CHUNK);
      this.used = 0;
    }
  }

  /** Copies `src[from, to)` into the arena (a piece bigger than a quarter chunk: a buffer of its own). */
  private write(src: Buffer, from: number, to: number): void {
    const n = to - from;
    const k = this.kept;
    this.written += n;
    if (n > CHUNK / 4) {
      k.chunk = Buffer.allocUnsafeSlow(n);
      k.offset = 0;
      src.copy(k.chunk, 0, from, to);
      return;
    }
    this.reserve(n);
    src.copy(this.chunk, this.used, from, to);
    k.chunk = this.chunk;
    k.offset = this.used;
    this.used += n;
  }
}

/**
 * Where the run of differing octets of r (against t) that starts at `from`
 * ends: past its last difference before MIN_GAP equal octets in a row, or
 * before `to`.
 */
function runEnd(r: Buffer, t: Buffer, from: number, to: number): number {
  let end = from;
  let j = from;
  while (j < to) {
    if (r[j] !== t[j]) {
      end = ++j;
      continue;
    }
    const gap = j;
    while (j < to && j - gap < MIN_GAP && r[j] === t[j]) j++;
    if (j - gap >= MIN_GAP || j === to) break;
  }
  return end;
}

/** Writes n as a varint (7 bits an octet, low first) at `at`; the offset after it. */
function putVarint(out: Buffer, at: number, n: number): number {
  let v = n;
  while (v >= 0x80) {
    out[at++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[at] = v;
  return at + 1;
}

/** A response kept by ResponseArena.keep, `length` octets, in a Buffer of its own. */
export function assemble(
  chunk: Buffer,
  offset: number,
  template: Buffer | undefined,
  prefix: number,
  suffix: number,
  length: number,
  patched: boolean,
): Buffer {
  const out = Buffer.allocUnsafeSlow(length);
  const middle = length - prefix - suffix;
  if (template !== undefined) {
    template.copy(out, 0, 0, prefix);
    template.copy(out, length - suffix, template.length - suffix, template.length);
  }
  if (!patched) {
    chunk.copy(out, prefix, offset, offset + middle);
    return out;
  }
  // The patch's runs: equal octets from the template, then differing ones from the chunk.
  const end = length - suffix;
  let at = offset;
  for (let i = prefix; i < end; ) {
    let same = 0;
    let diff = 0;
    for (let shift = 0; ; shift += 7) {
      const o = chunk[at++]!;
      same += (o & 0x7f) * 2 ** shift;
      if (o < 0x80) break;
    }
    for (let shift = 0; ; shift += 7) {
      const o = chunk[at++]!;
      diff += (o & 0x7f) * 2 ** shift;
      if (o < 0x80) break;
    }
    template!.copy(out, i, i, i + same);
    i += same;
    chunk.copy(out, i, at, at + diff);
    at += diff;
    i += diff;
  }
  return out;
}
