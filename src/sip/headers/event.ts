/**
 * SIP events (RFC 6665 section 8.2.1, 8.4):
 *   Event          = ( "Event" / "o" ) HCOLON event-type *( SEMI event-param )
 *   event-type     = event-package *( "." event-template )
 *   event-package  = token-nodot
 *   event-template = token-nodot
 *   token-nodot    = 1*( alphanum / "-" / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" )
 *   event-param    = generic-param / ( "id" EQUAL token )
 *   Subscription-State = "Subscription-State" HCOLON substate-value *( SEMI subexp-params )
 *   substate-value     = "active" / "pending" / "terminated" / extension-substate
 *   extension-substate = token
 *   subexp-params      = ("reason" EQUAL event-reason-value) / ("expires" EQUAL delta-seconds)
 *                        / ("retry-after" EQUAL delta-seconds) / generic-param
 * Event packages compare case-insensitively (8.2.1: "by a case-insensitive
 * byte-by-byte comparison"): the package is returned lower-cased.
 */
import { isToken, isTokenChar } from "../tokens.js";
import { HeaderParseError } from "./errors.js";
import { splitValueParams } from "./params.js";
import { parseDeltaSeconds } from "./scalars.js";

export interface EventHeader {
  /** The event-type (package and templates, e.g. "presence.winfo"), lower-cased. */
  readonly package: string;
  /** The id parameter, as written. */
  readonly id?: string;
}

export function parseEvent(value: string): EventHeader {
  const { head, params } = splitValueParams("Event", value);
  if (!isEventType(head)) throw new HeaderParseError("Event", `malformed event-type "${head}"`);
  const id = params.get("id");
  if (id === null || (id !== undefined && !isToken(id))) {
    throw new HeaderParseError("Event", "the Event id parameter must be a token");
  }
  return id === undefined ? { package: head.toLowerCase() } : { package: head.toLowerCase(), id };
}

/**
 * event-type = token-nodot *( "." token-nodot ), read in place: non-empty,
 * every character a token one ("." is one), no "." first, last or after
 * another ".".
 */
function isEventType(head: string): boolean {
  const last = head.length - 1;
  if (last < 0 || head.charCodeAt(0) === 0x2e || head.charCodeAt(last) === 0x2e) return false;
  for (let i = 0; i <= last; i++) {
    const c = head.charCodeAt(i);
    if (!isTokenChar(c) || (c === 0x2e && head.charCodeAt(i - 1) === 0x2e)) return false;
  }
  return true;
}

export interface SubscriptionState {
  /** active, pending, terminated or an extension token; lower-cased. */
  readonly state: string;
  readonly expires?: number;
  readonly reason?: string;
}

export function parseSubscriptionState(value: string): SubscriptionState {
  const { head, params } = splitValueParams("Subscription-State", value);
  if (!isToken(head)) throw new HeaderParseError("Subscription-State", `malformed substate-value "${head}"`);
  const out: { state: string; expires?: number; reason?: string } = { state: head.toLowerCase() };
  const expires = params.get("expires");
  if (expires !== undefined) out.expires = parseDeltaSeconds("Subscription-State", expires ?? "");
  const retry = params.get("retry-after");
  if (retry !== undefined) parseDeltaSeconds("Subscription-State", retry ?? "");
  const reason = params.get("reason");
  if (reason !== undefined) {
    if (reason === null || !isToken(reason))
      throw new HeaderParseError("Subscription-State", "the reason parameter must be a token");
    out.reason = reason.toLowerCase();
  }
  return out;
}
