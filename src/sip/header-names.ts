/**
 * Header field names: compact forms (RFC 3261 section 7.3.3 and the RFCs that
 * registered more) and the canonical spelling the serializer writes.
 * Names are case-insensitive (RFC 3261 section 7.3.1); we key on lower case.
 */

const COMPACT_FORMS: Readonly<Record<string, string>> = {
  a: "Accept-Contact", // RFC 3841
  b: "Referred-By", // RFC 3892
  c: "Content-Type",
  d: "Request-Disposition", // RFC 3841
  e: "Content-Encoding",
  f: "From",
  i: "Call-ID",
  j: "Reject-Contact", // RFC 3841
  k: "Supported",
  l: "Content-Length",
  m: "Contact",
  n: "Identity-Info", // RFC 4474 (obsoleted by RFC 8224, compact form kept)
  o: "Event", // RFC 6665
  r: "Refer-To", // RFC 3515
  s: "Subject",
  t: "To",
  u: "Allow-Events", // RFC 6665
  v: "Via",
  x: "Session-Expires", // RFC 4028
  y: "Identity", // RFC 8224
};

/** Names whose canonical capitalisation is not simple Title-Case. */
const SPECIAL_CASE: Readonly<Record<string, string>> = {
  "call-id": "Call-ID",
  cseq: "CSeq",
  "www-authenticate": "WWW-Authenticate",
  "mime-version": "MIME-Version",
  rseq: "RSeq",
  rack: "RAck",
  "sip-etag": "SIP-ETag",
  "sip-if-match": "SIP-If-Match",
  "min-se": "Min-SE",
  "p-asserted-identity": "P-Asserted-Identity",
  "alertmsg-error": "AlertMsg-Error",
  "recv-info": "Recv-Info",
};

const canonicalCache = new Map<string, string>();

/** Canonical spelling of a header name; expands compact forms. */
export function canonicalHeaderName(name: string): string {
  // A usual name spelt canonically (a literal in the code, mostly): itself,
  // found by identity (string literals are one string each), not by content.
  if (USUAL.has(name)) return name;
  const cached = canonicalCache.get(name);
  if (cached !== undefined) return cached;
  const lower = name.toLowerCase();
  let canonical: string;
  if (lower.length === 1 && COMPACT_FORMS[lower]) canonical = COMPACT_FORMS[lower];
  else if (SPECIAL_CASE[lower]) canonical = SPECIAL_CASE[lower];
  else canonical = lower.replace(/(^|-)([a-z])/g, (_m, dash: string, ch: string) => dash + ch.toUpperCase());
  // The key in a string of its own: `name` is often a slice of a message's
  // head, and a cached slice would keep that whole head alive.
  if (canonicalCache.size < 4096) canonicalCache.set(` ${name}`.slice(1), canonical);
  return canonical;
}

/** Names most messages carry, in their canonical spelling (also with compact forms, either case). */
const USUAL_NAMES = [
  "Via",
  "From",
  "To",
  "Call-ID",
  "CSeq",
  "Contact",
  "Max-Forwards",
  "Content-Type",
  "Content-Length",
  "User-Agent",
  "Server",
  "Allow",
  "Supported",
  "Require",
  "Route",
  "Record-Route",
  "Expires",
  "Accept",
  "Accept-Encoding",
  "Accept-Language",
  "Event",
  "Subject",
  "Date",
  "Authorization",
  "Proxy-Authorization",
  "WWW-Authenticate",
  "Proxy-Authenticate",
  "Session-Expires",
  "Min-SE",
  "RSeq",
  "RAck",
  "Allow-Events",
  "Subscription-State",
  "P-Asserted-Identity",
  "Privacy",
  "Reason",
  "Warning",
];

const USUAL: ReadonlySet<string> = new Set(USUAL_NAMES);

/** The usual spellings (names and compact forms) by their first code unit, for canonicalNameIn. */
const IN_PLACE: string[][] = Array.from({ length: 128 }, () => []);
/** The canonical name of each of IN_PLACE's spellings, at the same place. */
const IN_PLACE_CANONICAL: string[][] = Array.from({ length: 128 }, () => []);
for (const text of [...USUAL_NAMES, ...Object.keys(COMPACT_FORMS).flatMap((c) => [c, c.toUpperCase()])]) {
  IN_PLACE[text.charCodeAt(0)]!.push(text);
  IN_PLACE_CANONICAL[text.charCodeAt(0)]!.push(canonicalHeaderName(text));
}

/**
 * canonicalHeaderName(text.slice(from, to)), without copying the name when it
 * is spelt as one of the usual names or a compact form.
 */
export function canonicalNameIn(text: string, from: number, to: number): string {
  const first = text.charCodeAt(from);
  if (first < 128) {
    const spellings = IN_PLACE[first]!;
    const length = to - from;
    for (let i = 0; i < spellings.length; i++) {
      const spelling = spellings[i]!;
      if (spelling.length === length && text.startsWith(spelling, from))
        return IN_PLACE_CANONICAL[first]![i]!;
    }
  }
  return canonicalHeaderName(text.slice(from, to));
}

/**
 * Headers whose grammar is a comma-separated list (RFC 3261 section 7.3.1: "it
 * MUST be possible to combine the multiple header field rows into one
 * "field-name: field-value" pair"). Only these may be split on top-level commas.
 */
export const LIST_HEADERS: ReadonlySet<string> = new Set(
  [
    "Via",
    "Contact",
    "Route",
    "Record-Route",
    "Path",
    "Allow",
    "Supported",
    "Require",
    "Proxy-Require",
    "Unsupported",
    "Accept",
    "Accept-Encoding",
    "Accept-Language",
    "Allow-Events",
    "Content-Encoding",
    "Content-Language",
    "In-Reply-To",
    "Warning",
    "Alert-Info",
    "Call-Info",
    "Error-Info",
    "Path",
    "Service-Route",
    "Reason",
    "Security-Client",
    "Security-Server",
    "Security-Verify",
    "Recv-Info",
    "Permission-Missing",
    "Accept-Resource-Priority",
    "Resource-Priority",
    "History-Info",
    "P-Asserted-Identity",
  ].map((n) => n.toLowerCase()),
);

const listCache = new Map<string, boolean>();

export function isListHeader(canonicalName: string): boolean {
  const cached = listCache.get(canonicalName);
  if (cached !== undefined) return cached;
  const list = LIST_HEADERS.has(canonicalName.toLowerCase());
  if (listCache.size < 4096) listCache.set(canonicalName, list);
  return list;
}
