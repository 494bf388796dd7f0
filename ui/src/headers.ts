/**
 * The raw message split into lines for display: start line, header lines
 * (name, value, and the RFC section defining the header), body. Only text
 * comes out; the view puts it in text nodes.
 */
import type { CatalogCode } from "./types.js";

export interface HeaderDoc {
  /** The canonical name. */
  readonly name: string;
  /** "RFC 3261 20.42". */
  readonly rfc: string;
  readonly what: string;
}

const R = (name: string, rfc: string, what: string): HeaderDoc => ({ name, rfc, what });

/** Common SIP headers and where they are defined. */
const DOCS: readonly HeaderDoc[] = [
  R("Accept", "RFC 3261 20.1", "body types the sender accepts"),
  R("Accept-Contact", "RFC 3841 9.2", "caller preferences: feature sets the request wants"),
  R("Accept-Encoding", "RFC 3261 20.2", "content codings the sender accepts"),
  R("Accept-Language", "RFC 3261 20.3", "languages preferred for reason phrases and bodies"),
  R("Alert-Info", "RFC 3261 20.4", "an alternative ring tone"),
  R("Allow", "RFC 3261 20.5", "methods the sender supports"),
  R("Allow-Events", "RFC 6665 8.2.2", "event packages the sender supports"),
  R("Authentication-Info", "RFC 3261 20.6", "mutual authentication after digest"),
  R("Authorization", "RFC 3261 20.7", "the user agent's digest credentials"),
  R("Call-ID", "RFC 3261 20.8", "identifies the call (all messages of a dialog)"),
  R("Call-Info", "RFC 3261 20.9", "more information about the caller or callee"),
  R("Contact", "RFC 3261 20.10", "where the sender can be reached directly"),
  R("Content-Disposition", "RFC 3261 20.11", "how to interpret the body"),
  R("Content-Encoding", "RFC 3261 20.12", "content coding applied to the body"),
  R("Content-Language", "RFC 3261 20.13", "language of the body"),
  R("Content-Length", "RFC 3261 20.14", "body size in octets"),
  R("Content-Type", "RFC 3261 20.15", "media type of the body"),
  R("CSeq", "RFC 3261 20.16", "sequence number and method: orders transactions"),
  R("Date", "RFC 3261 20.17", "date and time the message was sent"),
  R("Error-Info", "RFC 3261 20.18", "pointer to more information about the error"),
  R("Event", "RFC 6665 8.2.1", "the event package of SUBSCRIBE/NOTIFY"),
  R("Expires", "RFC 3261 20.19", "lifetime of the registration, subscription or offer"),
  R("From", "RFC 3261 20.20", "the initiator of the request, with its tag"),
  R("Identity", "RFC 8224 4", "signed assertion of the caller's identity (STIR)"),
  R("In-Reply-To", "RFC 3261 20.21", "Call-IDs this call refers to or returns"),
  R("Max-Breadth", "RFC 5393 5.8", "limits parallel forking"),
  R("Max-Forwards", "RFC 3261 20.22", "hops left before the request is refused (483)"),
  R("Min-Expires", "RFC 3261 20.23", "shortest refresh interval the registrar accepts"),
  R("Min-SE", "RFC 4028 5", "smallest session interval allowed"),
  R("MIME-Version", "RFC 3261 20.24", "MIME protocol version"),
  R("Organization", "RFC 3261 20.25", "the organization of the sender"),
  R("P-Asserted-Identity", "RFC 3325 9.1", "identity asserted within a trust domain"),
  R("P-Preferred-Identity", "RFC 3325 9.2", "identity the user agent prefers to assert"),
  R("Path", "RFC 3327 4", "proxies to route requests to a registered contact through"),
  R("Priority", "RFC 3261 20.26", "urgency of the request"),
  R("Privacy", "RFC 3323 4.2", "privacy the user asks for"),
  R("Proxy-Authenticate", "RFC 3261 20.27", "a proxy's digest challenge (407)"),
  R("Proxy-Authorization", "RFC 3261 20.28", "credentials for a proxy"),
  R("Proxy-Require", "RFC 3261 20.29", "extensions proxies must support"),
  R("RAck", "RFC 3262 7.2", "acknowledges a reliable provisional response (PRACK)"),
  R("Reason", "RFC 3326 2", "why the request (CANCEL, BYE) was sent"),
  R("Record-Route", "RFC 3261 20.30", "proxies that stay on the dialog's path"),
  R("Refer-To", "RFC 3515 2.1", "the target of a REFER (transfer)"),
  R("Referred-By", "RFC 3892 3", "who asked for the transfer"),
  R("Reject-Contact", "RFC 3841 9.3", "caller preferences: feature sets to avoid"),
  R("Replaces", "RFC 3891 6.1", "the dialog this INVITE replaces"),
  R("Reply-To", "RFC 3261 20.31", "where replies should go (not necessarily From)"),
  R("Request-Disposition", "RFC 3841 9.1", "how proxies should handle the request"),
  R("Require", "RFC 3261 20.32", "extensions the recipient must support (else 420)"),
  R("Retry-After", "RFC 3261 20.33", "when to retry"),
  R("Route", "RFC 3261 20.34", "proxies the request must go through"),
  R("RSeq", "RFC 3262 7.1", "sequence number of a reliable provisional response"),
  R("Security-Client", "RFC 3329 2.3.1", "security mechanisms the client supports"),
  R("Security-Server", "RFC 3329 2.3.1", "security mechanisms the server supports"),
  R("Security-Verify", "RFC 3329 2.3.1", "the server's mechanisms echoed back"),
  R("Server", "RFC 3261 20.35", "the software of the server"),
  R("Service-Route", "RFC 3608 5", "route the registrar wants for the user's requests"),
  R("Session-Expires", "RFC 4028 4", "session timer interval and refresher"),
  R("SIP-ETag", "RFC 3903 11.3.1", "entity tag of published state"),
  R("SIP-If-Match", "RFC 3903 11.3.2", "the published state this PUBLISH refreshes"),
  R("Subject", "RFC 3261 20.36", "summary of the call"),
  R("Subscription-State", "RFC 6665 8.2.3", "active, pending or terminated subscription"),
  R("Supported", "RFC 3261 20.37", "extensions the sender supports"),
  R("Timestamp", "RFC 3261 20.38", "when the request was sent (round-trip estimate)"),
  R("To", "RFC 3261 20.39", "the logical recipient, with its tag once in a dialog"),
  R("Unsupported", "RFC 3261 20.40", "extensions the server does not support (420)"),
  R("User-Agent", "RFC 3261 20.41", "the software of the client"),
  R("Via", "RFC 3261 20.42", "the path taken so far; responses go back along it"),
  R("Warning", "RFC 3261 20.43", "more information about the response status"),
  R("WWW-Authenticate", "RFC 3261 20.44", "a server's digest challenge (401)"),
];

/** RFC 3261 7.3.3 and later RFCs: compact forms. */
const COMPACT: Readonly<Record<string, string>> = {
  a: "Accept-Contact",
  b: "Referred-By",
  c: "Content-Type",
  d: "Request-Disposition",
  e: "Content-Encoding",
  f: "From",
  i: "Call-ID",
  j: "Reject-Contact",
  k: "Supported",
  l: "Content-Length",
  m: "Contact",
  o: "Event",
  r: "Refer-To",
  s: "Subject",
  t: "To",
  u: "Allow-Events",
  v: "Via",
  x: "Session-Expires",
  y: "Identity",
};

const BY_NAME = new Map(DOCS.map((d) => [d.name.toLowerCase(), d]));

/** The RFC facts of a header name (long or compact form, any case), if known. */
export function headerDoc(name: string): HeaderDoc | undefined {
  const n = name.trim().toLowerCase();
  return BY_NAME.get((COMPACT[n] ?? n).toLowerCase());
}

/** Tooltip text for a header name. */
export function headerTitle(name: string): string {
  const d = headerDoc(name);
  if (!d) return "extension header (not in sipmock's table)";
  const compact = d.name.toLowerCase() !== name.trim().toLowerCase() ? ` (compact form of ${d.name})` : "";
  return `${d.rfc}: ${d.name}${compact}, ${d.what}`;
}

export type Line =
  | { readonly kind: "start"; readonly text: string; readonly title: string }
  | {
      readonly kind: "header";
      readonly name: string;
      /** The colon and the whitespace around it, as sent. */
      readonly sep: string;
      readonly value: string;
      readonly title: string;
    }
  | { readonly kind: "text"; readonly text: string };

/** Where a status code or method is defined: from the page's catalogue data or sipmock's own. */
export type CodeLookup = (code: number) => CatalogCode | undefined;

const METHODS: Readonly<Record<string, string>> = {
  INVITE: "RFC 3261 13",
  ACK: "RFC 3261 17.1.1.3",
  BYE: "RFC 3261 15",
  CANCEL: "RFC 3261 9",
  OPTIONS: "RFC 3261 11",
  REGISTER: "RFC 3261 10",
  PRACK: "RFC 3262",
  SUBSCRIBE: "RFC 6665",
  NOTIFY: "RFC 6665",
  PUBLISH: "RFC 3903",
  INFO: "RFC 6086",
  REFER: "RFC 3515",
  MESSAGE: "RFC 3428",
  UPDATE: "RFC 3311",
};

export function startLineTitle(line: string, lookup: CodeLookup): string {
  const status = /^SIP\/2\.0 (\d{3})/.exec(line);
  if (status) {
    const code = Number(status[1]);
    const c = lookup(code);
    if (!c) return `status ${code}: not catalogued`;
    const where = [c.rfc, c.section].filter(Boolean).join(" ");
    return `${code} ${c.reason ?? ""}: ${where}${c.description ? `, ${c.description}` : ""}`;
  }
  const method = /^([A-Za-z]+) /.exec(line)?.[1]?.toUpperCase();
  if (method && METHODS[method]) return `${method}: ${METHODS[method]}`;
  return "request line";
}

/** Splits a raw message into display lines; headers folded over lines stay as sent. */
export function tokenizeMessage(raw: string, lookup: CodeLookup): Line[] {
  const split = raw.indexOf("\r\n\r\n");
  const head = split < 0 ? raw : raw.slice(0, split);
  const body = split < 0 ? "" : raw.slice(split + 4);
  const rows = head.split(/\r?\n/);
  const out: Line[] = [];
  const first = rows[0] ?? "";
  out.push({ kind: "start", text: first, title: startLineTitle(first, lookup) });
  for (const row of rows.slice(1)) {
    const m = /^([!-9;-~]+)([ \t]*:[ \t]*)(.*)$/s.exec(row);
    if (m && !/^[ \t]/.test(row)) {
      out.push({ kind: "header", name: m[1]!, sep: m[2]!, value: m[3]!, title: headerTitle(m[1]!) });
    } else out.push({ kind: "text", text: row });
  }
  if (split >= 0) {
    out.push({ kind: "text", text: "" });
    for (const row of body.split(/\r?\n/)) out.push({ kind: "text", text: row });
  }
  return out;
}

/** Control characters other than tab shown as \xNN, so nothing invisible hides in the view. */
export function visible(text: string): string {
  return text.replace(
    /[\x00-\x08\x0b-\x1f\x7f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The journal keeps a message as latin1 text (one character per octet);
 * SIP text is UTF-8 (RFC 3261 7.1), so it is shown decoded when it is valid
 * UTF-8, as the octets otherwise.
 */
export function wireText(latin1: string): string {
  // Plain ASCII is the same either way.
  if (!/[\x80-\xff]/.test(latin1)) return latin1;
  const bytes = new Uint8Array(latin1.length);
  for (let i = 0; i < latin1.length; i++) bytes[i] = latin1.charCodeAt(i) & 0xff;
  try {
    return UTF8.decode(bytes);
  } catch {
    return latin1;
  }
}
