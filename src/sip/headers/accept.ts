/**
 * Accept (RFC 3261 section 20.1, grammar in 25.1):
 *   Accept      = "Accept" HCOLON [ accept-range *(COMMA accept-range) ]
 *   accept-range = media-range *(SEMI accept-param)
 *   media-range = ( "*" "/" "*" / ( m-type SLASH "*" ) / ( m-type SLASH m-subtype ) )
 *                 *( SEMI m-parameter )
 * "If no Accept header field is present, the server SHOULD assume a default
 * value of application/sdp": absence is the caller's to handle. An Accept
 * with no range accepts nothing. Parameters (q included) do not narrow a
 * range here.
 */
import { isToken, someTopLevelPart } from "../tokens.js";

/** Whether any row of Accept has a range covering type/subtype (case-insensitive). Never throws. */
export function acceptsMediaType(values: readonly string[], type: string, subtype: string): boolean {
  const t = type.toLowerCase();
  const s = subtype.toLowerCase();
  // Each range read in place: an empty one (",,,") covers nothing and is not copied.
  return values.some((value) =>
    someTopLevelPart(value, 0x2c, (from, to) => from < to && rangeCovers(value.slice(from, to), t, s)),
  );
}

/** Whether one accept-range covers t/s (both lower-cased); false when it is not a media-range. */
function rangeCovers(range: string, t: string, s: string): boolean {
  const semi = range.indexOf(";");
  const media = (semi < 0 ? range : range.slice(0, semi)).trim();
  const slash = media.indexOf("/");
  if (slash < 0) return false;
  // SLASH = SWS "/" SWS
  const rt = media.slice(0, slash).trim().toLowerCase();
  const rs = media
    .slice(slash + 1)
    .trim()
    .toLowerCase();
  if (rt === "*" ? rs === "*" : isToken(rt) && (rs === "*" || isToken(rs))) {
    return (rt === "*" || rt === t) && (rs === "*" || rs === s);
  }
  return false;
}
