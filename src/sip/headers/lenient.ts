/**
 * Lenient readings of headers whose strict parsers refuse what peers send
 * anyway: "Expires: 3600;foo", "Session-Expires: 1800abc;refresher=uac",
 * a 12-digit RAck number. The mock answered these before it had strict
 * parsers; it still does, the same way, so a peer sees no change. Use the
 * strict parser first and these only as the fallback.
 */
import { tryParse } from "./errors.js";
import { parseEvent } from "./event.js";
import { parseRAck, type RAck } from "./reliable.js";
import { parseSessionExpires, type SessionExpires } from "./session-timer.js";

/** The delta-seconds at the start of a value (after white space), whatever follows; undefined: none. */
export function leadingDeltaSeconds(value: string): number | undefined {
  let i = 0;
  while (value[i] === " " || value[i] === "\t") i++;
  const start = i;
  while (i < value.length && value.charCodeAt(i) >= 48 && value.charCodeAt(i) <= 57) i++;
  return i > start ? Number(value.slice(start, i)) : undefined;
}

/** Session-Expires (RFC 4028 4) strictly, else its leading seconds and a `;refresher=uac|uas` anywhere after them. */
export function lenientSessionExpires(value: string): SessionExpires | undefined {
  const strict = tryParse(parseSessionExpires, value);
  if (strict?.refresher) return strict;
  const seconds = strict?.seconds ?? leadingDeltaSeconds(value);
  if (seconds === undefined) return undefined;
  const refresher = /;\s*refresher\s*=\s*(uac|uas)/i.exec(value)?.[1]?.toLowerCase() as
    | "uac"
    | "uas"
    | undefined;
  return { seconds, ...(refresher ? { refresher } : {}) };
}

/** RAck (RFC 3262 7.2) strictly, else "rseq cseq method" with numbers of any length. */
export function lenientRAck(value: string): RAck | undefined {
  const strict = tryParse(parseRAck, value);
  if (strict) return strict;
  const m = /^\s*(\d+)\s+(\d+)\s+([A-Za-z]+)\s*$/.exec(value);
  return m ? { rseq: Number(m[1]), cseq: Number(m[2]), method: m[3]! } : undefined;
}

/** The package of an Event header (RFC 6665 8.2.1), else what precedes its first ";" (lower-cased), so a 489 can name it. */
export function lenientEventPackage(value: string): string | undefined {
  const strict = tryParse(parseEvent, value);
  if (strict) return strict.package;
  const head = value.split(";")[0]!.trim().toLowerCase();
  return head === "" ? undefined : head;
}
