/**
 * Option-tag lists (RFC 3261 sections 20.32, 20.37, 20.40, 20.29, 25.1):
 *   Require       = "Require" HCOLON option-tag *(COMMA option-tag)
 *   Supported     = ( "Supported" / "k" ) HCOLON [option-tag *(COMMA option-tag)]
 *   Unsupported   = "Unsupported" HCOLON option-tag *(COMMA option-tag)
 *   Proxy-Require = "Proxy-Require" HCOLON option-tag *(COMMA option-tag)
 *   option-tag    = token
 * A list may span several header rows (7.3.1); pass every row (or the rows
 * already split on commas). Empty elements (an empty Supported) are skipped.
 * The rows are scanned in place (someTopLevelPart): only the tags returned
 * are copied, so "timer,,,,..." costs no array as long as the row.
 */
import { isToken, someTopLevelPart } from "../tokens.js";
import { HeaderParseError } from "./errors.js";

/** Every option-tag of the rows, as written; throws when one is not a token. */
export function parseOptionTags(values: readonly string[]): string[] {
  const tags: string[] = [];
  const collect = (value: string) => (from: number, to: number) => {
    if (from === to) return false;
    const tag = value.slice(from, to);
    if (!isToken(tag)) throw new HeaderParseError("option-tag", `option-tag "${tag}" is not a token`);
    tags.push(tag);
    return false;
  };
  for (const value of values) someTopLevelPart(value, 0x2c, collect(value));
  return tags;
}

/**
 * Whether the rows list `tag` (compared case-insensitively). Never throws:
 * an element that is not a token simply is not the tag.
 */
export function listsOptionTag(values: readonly string[], tag: string): boolean {
  const wanted = tag.toLowerCase();
  return values.some((value) =>
    someTopLevelPart(value, 0x2c, (from, to) =>
      from === to ? wanted === "" : value.slice(from, to).toLowerCase() === wanted,
    ),
  );
}
