/**
 * Builds responses the way RFC 3261 8.2.6 says, filling in what the
 * catalogue says each code requires (the RFC that defines the code).
 */
import { lookupCode, reasonPhrase } from "../catalog/index.js";
import type { HeaderRule } from "../catalog/types.js";
import { canonicalHeaderName } from "../sip/header-names.js";
import { rawHasTag } from "../sip/headers/name-addr.js";
import { type CoreHeaders, Headers } from "../sip/message.js";
import {
  type KnownParse,
  type KnownParses,
  type OutgoingMessage,
  sanitizeReasonPhrase,
  serialize,
} from "../sip/serializer.js";
import { quote } from "../sip/tokens.js";
import type { Capabilities, LocalIdentity } from "./local-context.js";
import { localUri } from "./local-context.js";

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
  readonly body?: { readonly contentType: string; readonly data: Buffer };
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

const COPIED = ["Via", "From", "To", "Call-ID", "CSeq"] as const;

export function buildResponse(request: RequestLike, spec: ResponseSpec, ctx: BuildContext): BuiltResponse {
  const { status } = spec;
  const info = lookupCode(status);
  const reason =
    spec.reason === undefined
      ? catalogueReason(status)
      : sanitizeReasonPhrase(spec.reason) || reasonPhrase(status);
  const out = new Headers();
  // Canonical names, so compact forms ("l", "m") name the same headers.
  const removed = spec.removeHeaders?.length
    ? new Set(spec.removeHeaders.map((n) => canonicalHeaderName(n).toLowerCase()))
    : NONE;
  const overridden = spec.headers?.length ? new Set(spec.headers.map(([n]) => canonicalHeaderName(n))) : NONE;

  // 8.2.6.2: "The From field of the response MUST equal the From header
  // field of the request. The Call-ID [...] CSeq [...] Via header field
  // values in the response MUST equal the Via header field values in the
  // request and MUST maintain the same ordering."
  const core = request.core;
  const known: Known | undefined = core ? {} : undefined;
  for (const name of COPIED) {
    let first = true;
    for (const value of request.headers.getRows(name)) {
      let written = value;
      // 8.2.6.2: "if the request contained no tag [in To], the UAS [...] MUST
      // add a tag to the To header field in the response (with the exception
      // of the 100 (Trying) response, in which a tag MAY be present)."
      if (name === "To" && status !== 100 && !(request.hasToTag ?? rawHasTag(value)))
        written = `${value};tag=${ctx.toTag}`;
      out.append(name, written);
      if (known && core && first) noteKnown(known, name, written, written !== value, core, ctx.toTag);
      first = false;
    }
  }
  // 8.2.6.1: a 100 (Trying) MUST copy the Timestamp header of the request.
  if (status === 100) {
    const ts = request.headers.get("Timestamp");
    if (ts !== undefined) out.append("Timestamp", ts);
  }
  const isInvite = request.method === "INVITE";
  // 12.1.1: a response that establishes a dialog copies every Record-Route
  // value of the request, in order.
  if (isInvite && status > 100 && status < 300) {
    for (const rr of request.headers.getRows("Record-Route")) out.append("Record-Route", rr);
  }
  // 12.1.1 / 13.3.1: 18x and 2xx to INVITE carry a Contact of the UAS.
  if (isInvite && status > 100 && status < 300) out.append("Contact", `<${localUri(ctx.local, "sipmock")}>`);

  const fill = (rule: HeaderRule) => substitute(rule.value, request, ctx);
  const omittedRequired: string[] = [];
  if (info) {
    for (const rule of info.required) {
      if (removed.has(rule.name.toLowerCase())) {
        omittedRequired.push(rule.name);
        continue;
      }
      if (!overridden.has(rule.name) && !out.has(rule.name)) out.append(rule.name, fill(rule));
    }
    for (const rule of info.recommended) {
      if (!rule.byDefault || removed.has(rule.name.toLowerCase())) continue;
      if (!overridden.has(rule.name) && !out.has(rule.name)) out.append(rule.name, fill(rule));
    }
  }
  if (spec.warning) out.append("Warning", `399 ${warnAgent(ctx.local)} ${quote(spec.warning)}`);
  if (ctx.server) out.append("Server", ctx.server);
  // The first row a scenario gives for a name replaces the default; more
  // rows of the same name are added (several challenges, RFC 8760 2.4).
  const given = new Set<string>();
  for (const [name, value] of spec.headers ?? []) {
    const key = canonicalHeaderName(name);
    if (out.has(key) && !given.has(key)) out.set(key, value);
    else out.append(key, value);
    given.add(key);
  }
  for (const name of removed) out.delete(name);

  const body = spec.body?.data ?? Buffer.alloc(0);
  if (spec.body && !removed.has("content-type") && !out.has("Content-Type")) {
    out.append("Content-Type", spec.body.contentType);
  }
  if (!removed.has("content-length") && !out.has("Content-Length"))
    out.append("Content-Length", String(body.length));
  const message: OutgoingMessage = { startLine: `SIP/2.0 ${status} ${reason}`, headers: out, body };
  return { status, reason, message, omittedRequired, bytes: serialize(message, known) };
}

const NONE: ReadonlySet<string> = new Set();

/** The catalogue's reason phrase of a code, sanitised once. */
const reasons = new Map<number, string>();
function catalogueReason(status: number): string {
  let r = reasons.get(status);
  if (r === undefined) {
    r = sanitizeReasonPhrase(reasonPhrase(status)) || reasonPhrase(status);
    if (reasons.size < 1000) reasons.set(status, r);
  }
  return r;
}

type Known = { -readonly [K in keyof KnownParses]: KnownParse };

/** What the request's parse says of the first row of a copied header as written (the journal reads the same). */
function noteKnown(
  known: Known,
  name: (typeof COPIED)[number],
  written: string,
  tagAdded: boolean,
  core: CoreHeaders,
  toTag: string,
): void {
  if (name === "Via") known.via = { value: written, param: core.via[0]?.branch };
  else if (name === "From") known.from = { value: written, param: core.from.tag };
  else if (name === "CSeq") known.cseq = { value: written, param: core.cseq.method };
  // A parsed To without any tag parameter, plus a token tag: its tag is ours.
  else if (name === "To" && (!tagAdded || !core.to.params.has("tag")))
    known.to = { value: written, param: tagAdded ? toTag : core.to.tag };
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
        return caps.allow.join(", ");
      case "supported":
        return caps.supported.join(", ");
      case "accept":
        return caps.accept.join(", ");
      case "acceptEncoding":
        return caps.acceptEncoding.join(", ");
      case "acceptLanguage":
        return caps.acceptLanguage.join(", ");
      case "allowEvents":
        // RFC 6665 grammar: Allow-Events needs at least one event-type; with
        // no event package implemented, a reserved-looking token says so.
        return caps.allowEvents.length > 0 ? caps.allowEvents.join(", ") : "x-sipmock-none";
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
