/**
 * The SIP message model (RFC 3261 section 7): a start line, an ordered list of
 * header fields and a body. Header values are kept exactly as received (after
 * unfolding, RFC 3261 section 7.3.1) so that Via, From, To, Call-ID and CSeq can
 * be copied into responses byte for byte (section 8.2.6.2).
 */
import { canonicalHeaderName, isListHeader } from "./header-names.js";
import { splitTopLevel } from "./tokens.js";
import type { Uri } from "./uri.js";

export interface HeaderField {
  /** Canonical name (compact forms expanded). */
  readonly name: string;
  /** Value with folding replaced by a single SP and surrounding whitespace trimmed. */
  readonly value: string;
}

const NO_FIELDS: readonly HeaderField[] = [];

/** The rows Headers.adopt hands to the constructor it calls next (undefined: none). */
let adopting: HeaderField[] | undefined;

/** Ordered, case-insensitive header list that keeps repeated fields as separate rows. */
export class Headers implements Iterable<HeaderField> {
  private fields: HeaderField[];

  constructor(fields: Iterable<HeaderField | [string, string]> = NO_FIELDS) {
    if (adopting !== undefined) {
      this.fields = adopting;
      adopting = undefined;
      return;
    }
    this.fields = [];
    if (fields === NO_FIELDS) return;
    for (const f of fields) {
      if (Array.isArray(f)) this.append(f[0], f[1]);
      else this.fields.push({ name: canonicalHeaderName(f.name), value: f.value });
    }
  }

  /**
   * Headers over `fields`, taken as they are (not copied): for the parser,
   * whose rows already have canonical names and are not shared.
   */
  static adopt(fields: HeaderField[]): Headers {
    adopting = fields; // (taken by the constructor: no array of its own made and dropped)
    return new Headers();
  }

  [Symbol.iterator](): Iterator<HeaderField> {
    return this.fields[Symbol.iterator]();
  }

  /** The rows themselves, in order (not a copy: for readers that index them, not to be changed). */
  rows(): readonly HeaderField[] {
    return this.fields;
  }

  get size(): number {
    return this.fields.length;
  }

  has(name: string): boolean {
    return this.first(name) >= 0;
  }

  /** First field row's value, or undefined. */
  get(name: string): string | undefined {
    const i = this.first(name);
    return i < 0 ? undefined : this.fields[i]!.value;
  }

  /** Every field row's value, rows not split. */
  getRows(name: string): string[] {
    const out: string[] = [];
    const i = this.first(name);
    if (i < 0) return out;
    const key = this.fields[i]!.name;
    for (let j = i; j < this.fields.length; j++)
      if (this.fields[j]!.name === key) out.push(this.fields[j]!.value);
    return out;
  }

  /**
   * The index of the first row of `name`, or -1. Rows have canonical names:
   * a name asked for in its canonical spelling (the usual case) is found
   * without working out its canonical spelling first.
   */
  private first(name: string): number {
    const fields = this.fields;
    for (let i = 0; i < fields.length; i++) if (fields[i]!.name === name) return i;
    const key = canonicalHeaderName(name);
    if (key === name) return -1;
    for (let i = 0; i < fields.length; i++) if (fields[i]!.name === key) return i;
    return -1;
  }

  /**
   * Every value of a list header: rows split on top-level commas (outside
   * quotes and angle brackets). Non-list headers are returned row by row.
   */
  getAll(name: string): string[] {
    const key = canonicalHeaderName(name);
    const rows = this.getRows(key);
    if (!isListHeader(key)) return rows;
    const out: string[] = [];
    for (const row of rows) for (const part of splitTopLevel(row, ",")) if (part !== "") out.push(part);
    return out;
  }

  append(name: string, value: string): this {
    this.fields.push({ name: canonicalHeaderName(name), value });
    return this;
  }

  /** Replaces every row of `name` with one row, keeping the first row's position. */
  set(name: string, value: string): this {
    const key = canonicalHeaderName(name);
    const idx = this.fields.findIndex((f) => f.name === key);
    if (idx < 0) return this.append(key, value);
    this.fields[idx] = { name: key, value };
    for (let i = this.fields.length - 1; i > idx; i--)
      if (this.fields[i]?.name === key) this.fields.splice(i, 1);
    return this;
  }

  /** Replaces the value of the n-th row of `name` (0-based); false when there is no such row. */
  setRow(name: string, index: number, value: string): boolean {
    const key = canonicalHeaderName(name);
    let seen = 0;
    for (let i = 0; i < this.fields.length; i++) {
      if (this.fields[i]?.name !== key) continue;
      if (seen++ === index) {
        this.fields[i] = { name: key, value };
        return true;
      }
    }
    return false;
  }

  delete(name: string): boolean {
    const key = canonicalHeaderName(name);
    const before = this.fields.length;
    for (let i = this.fields.length - 1; i >= 0; i--)
      if (this.fields[i]?.name === key) this.fields.splice(i, 1);
    return this.fields.length !== before;
  }

  clone(): Headers {
    return new Headers(this.fields);
  }

  toArray(): HeaderField[] {
    return [...this.fields];
  }
}

export interface Via {
  /** "SIP/2.0" */
  readonly protocol: string;
  /** Upper-cased transport token: UDP, TCP, TLS, SCTP, WS, WSS or any other token. */
  readonly transport: string;
  readonly host: string;
  readonly port?: number;
  readonly params: ReadonlyMap<string, string | null>;
  /** The branch parameter, if any. */
  readonly branch?: string;
  /** The via-parm as received. */
  readonly raw: string;
}

export interface NameAddr {
  readonly displayName?: string;
  readonly uri: Uri;
  /** Header parameters after the URI (tag, expires, q, ...); names lower-cased. */
  readonly params: ReadonlyMap<string, string | null>;
  readonly tag?: string;
  readonly raw: string;
}

export interface CSeq {
  readonly seq: number;
  readonly method: string;
}

interface MessageBase {
  readonly version: string;
  readonly headers: Headers;
  readonly body: Buffer;
}

export interface SipRequest extends MessageBase {
  readonly kind: "request";
  readonly method: string;
  readonly uri: Uri;
  /** The Request-URI as it appeared on the request line. */
  readonly uriRaw: string;
}

export interface SipResponse extends MessageBase {
  readonly kind: "response";
  readonly status: number;
  readonly reason: string;
}

export type SipMessage = SipRequest | SipResponse;

/**
 * The header fields every transaction-layer decision needs, parsed once by
 * the parser (RFC 3261 section 8.1.1: To, From, CSeq, Call-ID, Max-Forwards
 * and Via are mandatory in requests).
 */
export interface CoreHeaders {
  readonly via: readonly Via[];
  readonly from: NameAddr;
  readonly to: NameAddr;
  readonly callId: string;
  readonly cseq: CSeq;
  /** undefined when absent (tolerated: RFC 3261 section 8.1.1.6 is a SHOULD for UAs). */
  readonly maxForwards?: number;
}

export interface ParsedRequest extends SipRequest {
  readonly core: CoreHeaders;
}

export interface ParsedResponse extends SipResponse {
  readonly core: CoreHeaders;
}

export type ParsedMessage = ParsedRequest | ParsedResponse;
