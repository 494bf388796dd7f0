/**
 * The stream framer reads Content-Length from a head by index instead of
 * splitting it into lines and matching each with a regex: the same length,
 * absence or error (the fatal 400's reason) as the regex version, for
 * examples and generated heads.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseContentLength } from "../../src/sip/headers/scalars.js";
import { contentLengthOf } from "../../src/sip/stream-framer.js";

/** src/sip/stream-framer.ts before the change. */
function regexContentLengthOf(head: string): number | string | undefined {
  const values: string[] = [];
  for (const line of head.split(/\r?\n/)) {
    const m = /^(content-length|l)[ \t]*:(.*)$/i.exec(line);
    if (m) values.push(m[2]!);
  }
  if (values.length === 0) return undefined;
  if (values.length > 1) return "multiple Content-Length header fields";
  try {
    return parseContentLength(values[0]!);
  } catch (e) {
    return (e as Error).message;
  }
}

const EXAMPLES = [
  "INVITE sip:a@b SIP/2.0\r\nContent-Length: 12\r\nVia: x",
  "INVITE sip:a@b SIP/2.0\r\nl:3",
  "INVITE sip:a@b SIP/2.0\nCONTENT-length \t : 7 \nL: 2",
  "INVITE sip:a@b SIP/2.0\r\nContent-Length: 1\r2",
  "INVITE sip:a@b SIP/2.0\r\nContent-Length: 1\r\r\nX: y",
  "INVITE sip:a@b SIP/2.0\r\nContent-Lengthy: 1",
  "INVITE sip:a@b SIP/2.0\r\nContent\rLength: 1",
  "INVITE sip:a@b SIP/2.0\r\nContent-Length: abc",
  "INVITE sip:a@b SIP/2.0\r\nContent-Length: 1234567890",
  "INVITE sip:a@b SIP/2.0\r\nContent-Length:",
  "INVITE sip:a@b SIP/2.0\r\nX: 1\r\n l: 5",
  "Content\u2028Length: 1",
  "",
  "l",
  "l:",
  "\r\nl:4\r",
];

describe("Content-Length of a stream message's head, read in place", () => {
  it.each(EXAMPLES)("%j", (head) => {
    expect(contentLengthOf(head)).toEqual(regexContentLengthOf(head));
  });

  it("generated heads: the same length, absence or reason as the regex version", () => {
    const piece = fc.constantFrom(
      "\r\n",
      "\n",
      "\r",
      "Content-Length",
      "content-LENGTH",
      "Content-Lengt",
      "l",
      "L",
      "Via",
      " ",
      "\t",
      ":",
      "0",
      "12",
      "999999999",
      "x",
      "-",
      "\u00a0",
      "\u0143",
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 16 }), (parts) => {
        const head = parts.join("");
        expect(contentLengthOf(head)).toEqual(regexContentLengthOf(head));
      }),
      { numRuns: 5000 },
    );
  });
});
