/**
 * Session timers (RFC 4028 section 4):
 *   Session-Expires = ("Session-Expires" / "x") HCOLON delta-seconds *(SEMI se-params)
 *   se-params       = refresher-param / generic-param
 *   refresher-param = "refresher" EQUAL ("uas" / "uac")
 *   Min-SE          = "Min-SE" HCOLON delta-seconds *(SEMI generic-param)
 * A "refresher" whose value is neither uas nor uac is still a valid
 * generic-param: the header parses, without a refresher.
 */
import { HeaderParseError } from "./errors.js";
import { splitValueParams } from "./params.js";
import { parseDeltaSeconds } from "./scalars.js";

export interface SessionExpires {
  readonly seconds: number;
  /** Lower-cased; absent when the parameter is absent or names neither side. */
  readonly refresher?: "uac" | "uas";
}

export function parseSessionExpires(value: string): SessionExpires {
  const { head, params } = splitValueParams("Session-Expires", value);
  if (head === "") throw new HeaderParseError("Session-Expires", "empty Session-Expires");
  const seconds = parseDeltaSeconds("Session-Expires", head);
  const refresher = params.get("refresher")?.toLowerCase();
  return refresher === "uac" || refresher === "uas" ? { seconds, refresher } : { seconds };
}

export function parseMinSE(value: string): number {
  const { head } = splitValueParams("Min-SE", value);
  if (head === "") throw new HeaderParseError("Min-SE", "empty Min-SE");
  return parseDeltaSeconds("Min-SE", head);
}
