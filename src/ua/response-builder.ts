/**
 * Builds responses the way RFC 3261 8.2.6 says, filling in what the
 * catalogue says each code requires (the RFC that defines the code).
 */
import { lookupCode, reasonPhrase } from "../catalog/index.js";
import type { ResponseCodeInfo } from "../catalog/types.js";
import { canonicalHeaderName } from "../sip/header-names.js";
import { rawHasTag } from "../sip/headers/name-addr.js";
import type { CoreHeaders, HeaderField, Headers } from "../sip/message.js";
import {
  type KnownParse,
  type KnownParses,
  type OutgoingMessage,
  sanitizeReasonPhrase,
  serializeFields,
} from "../sip/serializer.js";
import { quote } from "../sip/tokens.js";
import type { Capabilities, LocalIdentity } from "./local-context.js";
import { localUri } from "./local-context.js";
import type { SdpOrigin } from "./sdp.js";

/** The parts of a request a response is built from (a fully parsed one, or what a failed parse kept). */
export interface RequestLike {
  readonly method?: string;
  readonly headers: Headers;
  readonly requestUser?: string;
  /** Whether the request's To has a tag, as parsed; when unknown (a failed parse) the raw text decides. */
  readonly hasToTag?: boolean;
  /** The request's core headers, when it parsed: what the journal would otherwise parse again. */
  readonly core?: CoreHeaders;
}

export interface ResponseSpec {
  readonly status: number;
  /** Reason phrase; defaults to the catalogued one. */
  readonly reason?: string;
  /** Headers to add, or to replace when the builder (or catalogue) would write the same name. */
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  /** Headers to leave out even when the catalogue requires them (a deliberate fault). */
  readonly removeHeaders?: readonly string[];
  readonly body?: {
    readonly contentType: string;
    readonly data: Buffer;
    /** Our SDP's o= (RFC 3264 8), for the dialog a 2xx with it makes; not written. */
    readonly origin?: SdpOrigin;
  };
  /** A Warning (RFC 3261 20.43) with code 399 and this text. */
  readonly warning?: string;
}

export interface BuildContext {
  readonly local: LocalIdentity;
  readonly capabilities: Capabilities;
  /** Server header value, or undefined for none. */
  readonly server?: string;
  /** Tag for the To header of this transaction's responses (not used on 100). */
  readonly toTag: string;
  readonly realm: string;
  readonly nonce: () => string;
  readonly opaque: string;
}

export interface BuiltResponse {
  readonly status: number;
  readonly reason: string;
  readonly message: OutgoingMessage;
  /** Catalogue-required headers left out on request (faults), for the log. */
  readonly omittedRequired: readonly string[];
  readonly bytes: Buffer;
}

export function buildResponse(request: RequestLike, spec: ResponseSpec, ctx: BuildContext): BuiltResponse {
  const { status } = spec;
  const line = spec.reason === undefined ? catalogueLine(status) : givenLine(status, spec.reason);
  const reason = line[0];
  const startLine = line[1];
  // Canonical names, so compact forms ("l", "m") name the same headers.
  const removed = spec.removeHeaders?.length
    ? new Set(spec.removeHeaders.map((n) => canonicalHeaderName(n).toLowerCase()))
    : NONE;
  // The rows in order; names canonical (the request's rows are, and so are the catalogue's names).
  const out: HeaderField[] = [];
  const known = copyRequestRows(out, request, status, ctx.toTag);
  // 8.2.6.1: a 100 (Trying) MUST copy the Timestamp header of the request.
  if (status === 100) {
    const ts = request.headers.get("Timestamp");
    if (ts !== undefined) out.push({ name: "Timestamp", value: ts });
  }
  if (request.method === "INVITE" && status > 100 && status < 300) {
    // 12.1.1: a response that establishes a dialog copies every Record-Route
    // value of the request, in order.
    const rows = request.headers.rows();
    for (let i = 0; i < rows.length; i++) if (rows[i]!.name === "Record-Route") out.push(rows[i]!);
    // 12.1.1 / 13.3.1: 18x and 2xx to INVITE carry a Contact of the UAS.
    out.push({ name: "Contact", value: `<${localUri(ctx.local, "sipmock")}>` });
  }
  const info = lookupCode(status);
  const omittedRequired = info ? addCatalogued(out, info, request, spec, ctx, removed) : NO_NAMES;
  if (spec.warning)
    out.push({ name: "Warning", value: `399 ${warnAgent(ctx.local)} ${quote(spec.warning)}` });
  if (ctx.server) out.push({ name: "Server", value: ctx.server });
  if (spec.headers?.length) addGiven(out, spec.headers);
  for (const name of removed) removeRows(out, canonicalHeaderName(name));

  const body = spec.body?.data ?? EMPTY;
  if (spec.body && !removed.has("content-type") && indexOfRow(out, "Content-Type") < 0) {
    out.push({ name: "Content-Type", value: spec.body.contentType });
  }
  if (!removed.has("content-length") && indexOfRow(out, "Content-Length") < 0)
    out.push({ name: "Content-Length", value: String(body.length) });
  const message: OutgoingMessage = { startLine, headers: out, body };
  return { status, reason, message, omittedRequired, bytes: serializeFields(startLine, out, body, known) };
}

const NONE: ReadonlySet<string> = new Set();
const NO_NAMES: readonly string[] = Object.freeze([]);
const EMPTY = Buffer.alloc(0);

/**
 * 8.2.6.2: "The From field of the response MUST equal the From header
 * field of the request. The Call-ID [...] CSeq [...] Via header field
 * values in the response MUST equal the Via header field values in the
 * request and MUST maintain the same ordering." Adds those rows to `out`
 * (Via, From, To, Call-ID, CSeq, each name's rows in the request's order);
 * returns what the request's parse says of their first rows as written.
 */
function copyRequestRows(
  out: HeaderField[],
  request: RequestLike,
  status: number,
  toTag: string,
): KnownParses | undefined {
  const rows = request.headers.rows();
  // One walk finds where each copied name first is and how many rows it has.
  let via = -1;
  let from = -1;
  let to = -1;
  let callId = -1;
  let cseq = -1;
  let vias = 0;
  let froms = 0;
  let tos = 0;
  let callIds = 0;
  let cseqs = 0;
  for (let i = 0; i < rows.length; i++) {
    switch (rows[i]!.name) {
      case "Via":
        if (vias++ === 0) via = i;
        break;
      case "From":
        if (froms++ === 0) from = i;
        break;
      case "To":
        if (tos++ === 0) to = i;
        break;
      case "Call-ID":
        if (callIds++ === 0) callId = i;
        break;
      case "CSeq":
        if (cseqs++ === 0) cseq = i;
        break;
    }
  }
  pushRows(out, rows, "Via", via, vias);
  pushRows(out, rows, "From", from, froms);
  const toKnown = to < 0 ? undefined : copyToRows(out, rows, to, tos, request, status, toTag);
  pushRows(out, rows, "Call-ID", callId, callIds);
  pushRows(out, rows, "CSeq", cseq, cseqs);
  const core = request.core;
  if (!core) return undefined;
  return {
    via: via < 0 ? undefined : { value: rows[via]!.value, param: core.via[0]?.branch },
    from: from < 0 ? undefined : { value: rows[from]!.value, param: core.from.tag },
    to: toKnown,
    cseq: cseq < 0 ? undefined : { value: rows[cseq]!.value, param: core.cseq.method },
  };
}

/** The `count` rows of `name`, the first at `first` (none when it is -1). */
function pushRows(
  out: HeaderField[],
  rows: readonly HeaderField[],
  name: string,
  first: number,
  count: number,
): void {
  if (first < 0) return;
  out.push(rows[first]!);
  for (let i = first + 1, left = count - 1; left > 0 && i < rows.length; i++) {
    if (rows[i]!.name !== name) continue;
    out.push(rows[i]!);
    left--;
  }
}

/**
 * The To rows, the first at `first`: 8.2.6.2 "if the request contained no
 * tag [in To], the UAS [...] MUST add a tag to the To header field in the
 * response (with the exception of the 100 (Trying) response, in which a
 * tag MAY be present)". Returns what the parse says of the first as written.
 */
function copyToRows(
  out: HeaderField[],
  rows: readonly HeaderField[],
  first: number,
  count: number,
  request: RequestLike,
  status: number,
  toTag: string,
): KnownParse | undefined {
  const core = request.core;
  const hasToTag = request.hasToTag;
  let known: KnownParse | undefined;
  for (let i = first, left = count; left > 0 && i < rows.length; i++) {
    const row = rows[i]!;
    if (row.name !== "To") continue;
    left--;
    const tagAdded = status !== 100 && !(hasToTag ?? rawHasTag(row.value));
    const written = tagAdded ? `${row.value};tag=${toTag}` : row.value;
    out.push(tagAdded ? { name: "To", value: written } : row);
    // A parsed To without any tag parameter, plus a token tag: its tag is ours.
    if (core && i === first && (!tagAdded || !core.to.params.has("tag")))
      known = { value: written, param: tagAdded ? toTag : core.to.tag };
  }
  return known;
}

/** The catalogue's required and default headers the response does not carry yet; returns the required ones left out. */
function addCatalogued(
  out: HeaderField[],
  info: ResponseCodeInfo,
  request: RequestLike,
  spec: ResponseSpec,
  ctx: BuildContext,
  removed: ReadonlySet<string>,
): readonly string[] {
  let omitted: string[] | undefined;
  for (const rule of info.required) {
    if (removed.has(rule.name.toLowerCase())) {
      omitted ??= [];
      omitted.push(rule.name);
      continue;
    }
    if (!overrides(spec, rule.name) && indexOfRow(out, rule.name) < 0)
      out.push({ name: rule.name, value: substitute(rule.value, request, ctx) });
  }
  for (const rule of info.recommended) {
    if (!rule.byDefault || removed.has(rule.name.toLowerCase())) continue;
    if (!overrides(spec, rule.name) && indexOfRow(out, rule.name) < 0)
      out.push({ name: rule.name, value: substitute(rule.value, request, ctx) });
  }
  return omitted ?? NO_NAMES;
}

/** Whether the scenario gives a row of `name` (a canonical name) itself. */
function overrides(spec: ResponseSpec, name: string): boolean {
  const given = spec.headers ?? NO_ROWS;
  for (let i = 0; i < given.length; i++) if (canonicalHeaderName(given[i]![0]) === name) return true;
  return false;
}

const NO_ROWS: ReadonlyArray<readonly [string, string]> = [];

/** A row the scenario gave (told from the builder's own rows: the first one given replaces those). */
class GivenRow implements HeaderField {
  constructor(
    readonly name: string,
    readonly value: string,
  ) {}
}

/**
 * The first row a scenario gives for a name replaces the default; more
 * rows of the same name are added (several challenges, RFC 8760 2.4).
 */
function addGiven(out: HeaderField[], given: ReadonlyArray<readonly [string, string]>): void {
  for (let g = 0; g < given.length; g++) {
    const value = given[g]![1];
    const key = canonicalHeaderName(given[g]![0]);
    let at = -1;
    let givenBefore = false;
    for (let i = 0; i < out.length && !givenBefore; i++) {
      if (out[i]!.name !== key) continue;
      if (at < 0) at = i;
      givenBefore = out[i] instanceof GivenRow;
    }
    if (at < 0 || givenBefore) out.push(new GivenRow(key, value));
    else {
      // Headers.set: the first row's place, the others gone.
      out[at] = new GivenRow(key, value);
      for (let i = out.length - 1; i > at; i--) if (out[i]!.name === key) out.splice(i, 1);
    }
  }
}

function indexOfRow(rows: readonly HeaderField[], name: string): number {
  for (let i = 0; i < rows.length; i++) if (rows[i]!.name === name) return i;
  return -1;
}

function removeRows(rows: HeaderField[], name: string): void {
  for (let i = rows.length - 1; i >= 0; i--) if (rows[i]!.name === name) rows.splice(i, 1);
}

/** The catalogue's reason phrase of a code, sanitised once, and the status line, made once. */
const lines = new Map<number, readonly [string, string]>();
function catalogueLine(status: number): readonly [string, string] {
  let line = lines.get(status);
  if (line === undefined) {
    const reason = sanitizeReasonPhrase(reasonPhrase(status)) || reasonPhrase(status);
    line = [reason, `SIP/2.0 ${status} ${reason}`];
    if (lines.size < 1000) lines.set(status, line);
  }
  return line;
}

function givenLine(status: number, text: string): readonly [string, string] {
  const reason = sanitizeReasonPhrase(text) || reasonPhrase(status);
  return [reason, `SIP/2.0 ${status} ${reason}`];
}

/**
 * RFC 3261 8.2.2.3: the option tags of Require the UAS does not understand.
 * When none are (a scripted 420), a placeholder tag keeps the header valid:
 * Unsupported needs at least one option-tag (25.1).
 */
function unsupportedTags(request: RequestLike, caps: Capabilities): string {
  const supported = new Set(caps.supported.map((t) => t.toLowerCase()));
  const tags = request.headers
    .getAll("Require")
    .flatMap((v) => v.split(","))
    .map((t) => t.trim())
    .filter((t) => t !== "" && !supported.has(t.toLowerCase()));
  // Each tag once (option tags compare case-insensitively): a Require that
  // repeats one tag thousands of times gets a short answer that still fits a datagram.
  const seen = new Set<string>();
  const unique = tags.filter((t) => !seen.has(t.toLowerCase()) && seen.add(t.toLowerCase()));
  return unique.length > 0 ? unique.join(", ") : "x-sipmock-unsupported";
}

/**
 * list.join(", "), made once per list: capability lists live as long as
 * the mock or its scenario (and are never changed), and a 200 to OPTIONS
 * writes five of them.
 */
export function listText(list: readonly string[]): string {
  let text = joinedLists.get(list);
  if (text === undefined) {
    text = list.join(", ");
    joinedLists.set(list, text);
  }
  return text;
}

const joinedLists = new WeakMap<readonly string[], string>();

function warnAgent(local: LocalIdentity): string {
  return `${local.host}:${local.port}`;
}

/** Fills the catalogue's {{placeholders}} (see src/catalog/types.ts). */
export function substitute(template: string, request: RequestLike, ctx: BuildContext): string {
  if (!template.includes("{{")) return template;
  const caps = ctx.capabilities;
  return template.replace(/\{\{([A-Za-z]+)\}\}/g, (whole, name: string) => {
    switch (name) {
      case "localUri":
        return localUri(ctx.local);
      case "contactUri":
        return localUri(ctx.local, "sipmock");
      case "requestUser":
        return request.requestUser ?? "";
      case "realm":
        return ctx.realm;
      case "nonce":
        return ctx.nonce();
      case "opaque":
        return ctx.opaque;
      case "allow":
        return listText(caps.allow);
      case "supported":
        return listText(caps.supported);
      case "accept":
        return listText(caps.accept);
      case "acceptEncoding":
        return listText(caps.acceptEncoding);
      case "acceptLanguage":
        return listText(caps.acceptLanguage);
      case "allowEvents":
        // RFC 6665 grammar: Allow-Events needs at least one event-type; with
        // no event package implemented, a reserved-looking token says so.
        return caps.allowEvents.length > 0 ? listText(caps.allowEvents) : "x-sipmock-none";
      case "host":
        return ctx.local.host;
      case "hostport":
        return `${ctx.local.host}:${ctx.local.port}`;
      case "requireTags":
        return unsupportedTags(request, caps);
      case "port":
        return String(ctx.local.port);
      case "transport":
        return ctx.local.transport;
      default:
        return whole;
    }
  });
}
