/**
 * Header parameter edits (src/sip/headers/params.ts) against a model written
 * the plain way (forEachTopLevel, one edit per pass): the one-pass rport and
 * received annotation of a Via, and ";" found outside <...> and quoted
 * strings without a call per character, give the same text.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fillAndDropParams, fillValuelessParam, withoutHeaderParam } from "../../src/sip/headers/params.js";
import { forEachTopLevel } from "../../src/sip/tokens.js";

/** The edit as the code was before (issue 12): header params found by forEachTopLevel. */
function modelEdit(value: string, edit: (segment: string, name: string, valued: boolean) => string): string {
  const semis: number[] = [];
  forEachTopLevel(value, (i) => {
    if (value[i] === ";") semis.push(i);
  });
  if (semis.length === 0) return value;
  let out = value.slice(0, semis[0]);
  for (let k = 0; k < semis.length; k++) {
    const segment = value.slice(semis[k]!, semis[k + 1] ?? value.length);
    const eq = segment.indexOf("=");
    const name = (eq < 0 ? segment.slice(1) : segment.slice(1, eq)).trim().toLowerCase();
    out += edit(segment, name, eq >= 0);
  }
  return out;
}

const modelWithout = (v: string, name: string) => modelEdit(v, (s, n) => (n === name ? "" : s));
function modelFill(v: string, name: string, value: string): string {
  let done = false;
  return modelEdit(v, (s, n, valued) => {
    if (done || valued || n !== name) return s;
    done = true;
    return `;${name}=${value}${s.slice(s.trimEnd().length)}`;
  });
}

/** Via-like text: params, case, quotes (escaped, unterminated), <...>, spaces. */
const viaLike = fc
  .array(
    fc.constantFrom(
      "SIP/2.0/UDP h",
      ";",
      "=",
      "rport",
      "RPort",
      "received",
      "RECEIVED",
      "branch",
      "1",
      " ",
      '"',
      "\\",
      "<",
      ">",
      ",",
      "x",
      ";received",
      ";rport",
      ";RPORT ",
      ";received=1",
      "<sip:a;rport;received>",
      '"q;received"',
    ),
    { maxLength: 24 },
  )
  .map((parts) => parts.join(""));

describe("header parameter edits", () => {
  it("withoutHeaderParam and fillValuelessParam match the model", () => {
    fc.assert(
      fc.property(viaLike, (v) => {
        expect(withoutHeaderParam(v, "received")).toBe(modelWithout(v, "received"));
        expect(fillValuelessParam(v, "rport", "5060")).toBe(modelFill(v, "rport", "5060"));
      }),
      { numRuns: 3000 },
    );
  });

  it("fillAndDropParams is the fill then the drop, in one pass", () => {
    fc.assert(
      fc.property(viaLike, fc.boolean(), (v, fill) => {
        const expected = modelWithout(fill ? modelFill(v, "rport", "5099") : v, "received");
        expect(fillAndDropParams(v, "rport", fill ? "5099" : undefined, "received")).toBe(expected);
      }),
      { numRuns: 3000 },
    );
  });

  it("examples", () => {
    const via = "SIP/2.0/UDP 10.0.0.1:5061;branch=z9hG4bK-1;rport;Received=1.2.3.4";
    expect(fillAndDropParams(via, "rport", "5061", "received")).toBe(
      "SIP/2.0/UDP 10.0.0.1:5061;branch=z9hG4bK-1;rport=5061",
    );
    // A ";rport" inside a quoted value is not a parameter.
    expect(fillAndDropParams('SIP/2.0/UDP h;x=";rport";rport ', "rport", "7", undefined)).toBe(
      'SIP/2.0/UDP h;x=";rport";rport=7 ',
    );
  });
});
