/**
 * The header scans that read a list or parameters in place (no array per
 * character or per element: see input-linearity and headers-fuzz) against a
 * reference reading of the grammar written here, on random and mutated
 * values: option-tag lists and Accept (comma lists, RFC 3261 25.1), the
 * event-type of Event (RFC 6665 8.4), the header-parameter edits of Via and
 * Contact (RFC 3261 20.10, RFC 3581 4) and rawHasTag (a To tag, 8.2.6.2).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fillAndDropParams, fillValuelessParam, withoutHeaderParam } from "../../src/sip/headers/params.js";
import {
  acceptsMediaType,
  HeaderParseError,
  listsOptionTag,
  parseEvent,
  parseOptionTags,
  rawHasTag,
} from "../../src/sip/index.js";

/** quoted-string = DQUOTE *(qdtext / quoted-pair) DQUOTE; unterminated, it runs to the end. */
const QUOTED = String.raw`"(?:[^"\\]|\\[\s\S])*(?:"|\\?$)`;
/** A list element: quoted strings and <...> (which may hold quoted strings) are atoms a "," cannot split. */
const ELEMENT = new RegExp(`(?:${QUOTED}|<(?:${QUOTED}|[^>"])*>?|[^,"<])*`, "y");
/** Header-parameter text: <...> (a DQUOTE inside is plain) and quoted strings are atoms a ";" cannot start in. */
const PARAM_TEXT = new RegExp(`(?:<[^>]*>?|${QUOTED}|[^;<"])*`, "y");

/** The longest run of `re` at `at`. */
function atomsAt(re: RegExp, s: string, at: number): string {
  re.lastIndex = at;
  return re.exec(s)![0];
}

/** A row's list elements (#element, 7.3.1), trimmed, empty ones included. */
function elements(row: string): string[] {
  const out: string[] = [];
  for (let at = 0; ; at++) {
    const e = atomsAt(ELEMENT, row, at);
    out.push(e.trim());
    at += e.length;
    if (at >= row.length) return out;
  }
}

/** A value split before each header parameter: [text before the first ";", ";name[=value]"...]. */
function paramSegments(value: string): string[] {
  const out = [atomsAt(PARAM_TEXT, value, 0)];
  for (let at = out[0]!.length; at < value.length; ) {
    const seg = `;${atomsAt(PARAM_TEXT, value, at + 1)}`;
    out.push(seg);
    at += seg.length;
  }
  return out;
}

const TOKEN = /^[A-Za-z0-9.!%*_+`'~-]+$/;
const TOKEN_NODOT = "[A-Za-z0-9!%*_+`'~-]+";
/** event-type = token-nodot *( "." token-nodot ) (RFC 6665 8.4). */
const EVENT_TYPE = new RegExp(`^${TOKEN_NODOT}(?:\\.${TOKEN_NODOT})*$`);

/** The outcome of a call: what it returns, or the header and message of the HeaderParseError it throws. */
function outcome(f: () => unknown): unknown {
  try {
    return { value: f() };
  } catch (e) {
    if (!(e instanceof HeaderParseError)) throw e;
    return { header: e.header, error: e.message };
  }
}

function refOptionTags(rows: readonly string[]): string[] {
  const tags = rows.flatMap(elements).filter((t) => t !== "");
  const bad = tags.find((t) => !TOKEN.test(t));
  if (bad !== undefined) throw new HeaderParseError("option-tag", `option-tag "${bad}" is not a token`);
  return tags;
}

function refListsOptionTag(rows: readonly string[], tag: string): boolean {
  return rows.flatMap(elements).some((t) => t.toLowerCase() === tag.toLowerCase());
}

/** media-range = ( "*" "/" "*" / m-type SLASH "*" / m-type SLASH m-subtype ) *(SEMI ...); SLASH = SWS "/" SWS. */
function refAccepts(rows: readonly string[], type: string, subtype: string): boolean {
  return rows.flatMap(elements).some((range) => {
    const media = range.split(";")[0]!.trim();
    const slash = media.indexOf("/");
    if (slash < 0) return false;
    const [rt, rs] = [media.slice(0, slash), media.slice(slash + 1)].map((p) => p.trim().toLowerCase());
    const valid = rt === "*" ? rs === "*" : TOKEN.test(rt!) && (rs === "*" || TOKEN.test(rs!));
    return valid && [type, "*"].includes(rt!) && [subtype, "*"].includes(rs!);
  });
}

/** fillAndDropParams read as: drop every `drop` segment, give the first valueless `fill` one the value. */
function refFillAndDrop(value: string, fill: string, fillValue: string | undefined, drop?: string): string {
  const [head, ...segs] = paramSegments(value);
  let filled = fillValue === undefined;
  const kept = segs.flatMap((seg) => {
    const [name, ...valued] = seg.slice(1).split("=");
    const n = name!.trim().toLowerCase();
    if (n === drop?.toLowerCase()) return [];
    if (filled || valued.length > 0 || n !== fill.toLowerCase()) return [seg];
    filled = true;
    return [`;${n}=${fillValue}${seg.slice(seg.trimEnd().length)}`];
  });
  return head + kept.join("");
}

/** rawHasTag read as: with <...> and quoted strings cut out, a ";" part "tag = value", value not blank. */
function refHasTag(value: string): boolean {
  const text = value.replace(new RegExp(`<[^>]*>?|${QUOTED}`, "g"), "");
  return text
    .split(";")
    .slice(1)
    .some((p) => /^\s*tag\s*=[\s\S]*\S/i.test(p));
}

/** Random text over `alphabet`, and `seeds` with a few random edits made of it. */
function texts(alphabet: string, seeds: readonly string[]): fc.Arbitrary<string> {
  const unit = fc.constantFrom(...alphabet);
  const edit = fc.tuple(fc.nat(), fc.nat({ max: 4 }), fc.string({ unit, maxLength: 4 }));
  const mutated = fc.tuple(fc.constantFrom(...seeds), fc.array(edit, { maxLength: 5 })).map(([seed, edits]) =>
    edits.reduce((s, [pos, del, ins]) => {
      const at = pos % (s.length + 1);
      return s.slice(0, at) + ins + s.slice(at + del);
    }, seed),
  );
  return fc.oneof(fc.string({ unit, maxLength: 24 }), mutated, fc.string({ unit: "binary", maxLength: 16 }));
}

const RUNS = { numRuns: 3000 };
const LIST = texts(' \t,;"\\<>/*=.tTiImMeErR1\u00a0@', [
  "100rel, timer, path",
  " timer,,, ,TIMER ",
  '"a,b", <x,y>, timer',
  "application/sdp;level=1, */*;q=0.1",
  "text/* , APPLICATION / SDP",
]);

describe("comma lists read in place", () => {
  it("parseOptionTags returns the tags, or throws the error, of the reference", () => {
    fc.assert(
      fc.property(fc.array(LIST, { maxLength: 3 }), (rows) => {
        expect(outcome(() => parseOptionTags(rows))).toEqual(outcome(() => refOptionTags(rows)));
      }),
      RUNS,
    );
  });

  it("listsOptionTag and acceptsMediaType agree with the reference", () => {
    const tag = fc.constantFrom("timer", "TIMER", "100rel", "", "a,b");
    fc.assert(
      fc.property(fc.array(LIST, { maxLength: 3 }), tag, (rows, t) => {
        expect(listsOptionTag(rows, t)).toBe(refListsOptionTag(rows, t));
        expect(acceptsMediaType(rows, "application", "sdp")).toBe(refAccepts(rows, "application", "sdp"));
        expect(acceptsMediaType(rows, "Text", "Plain")).toBe(refAccepts(rows, "text", "plain"));
      }),
      RUNS,
    );
  });

  it('"timer" then 64k commas is one tag', () => {
    const row = `timer${",".repeat(64_000)}`;
    expect(parseOptionTags([row, row])).toEqual(["timer", "timer"]);
    expect(listsOptionTag([`${",".repeat(64_000)}timer`], "TIMER")).toBe(true);
  });
});

describe("Event's event-type, read in place", () => {
  it("parses exactly the heads event-type matches, else throws the same message", () => {
    const values = texts(" .aZ9-!%*_+`'~@/\"", ["presence", "presence.winfo", "a.b.c", ".x", "x..y", "x."]);
    fc.assert(
      fc.property(values, fc.constantFrom("", ";id=x1"), (head, params) => {
        const h = head.trim();
        if (h.includes(";")) return;
        const expected = EVENT_TYPE.test(h)
          ? { value: { package: h.toLowerCase(), ...(params ? { id: "x1" } : {}) } }
          : { header: "Event", error: `malformed event-type "${h}"` };
        expect(outcome(() => parseEvent(head + params))).toEqual(expected);
      }),
      RUNS,
    );
  });
});

describe("header-parameter edits, read in place", () => {
  const values = texts(' \t;=<>"\\rRpPoOtTeEdxX9', [
    "SIP/2.0/UDP h;rport;branch=z9hG4bK1;received=1",
    'SIP/2.0/UDP h;x=";rport";RPort ;rport',
    '"x;expires=1" <sip:a@h;expires=5>;EXPIRES = 60;q=1',
    "<sip:a@h;rport>;rport=1;rport",
  ]);
  it("fillValuelessParam, withoutHeaderParam and fillAndDropParams agree with the reference", () => {
    fc.assert(
      fc.property(values, (v) => {
        expect(fillValuelessParam(v, "rport", "5060")).toBe(refFillAndDrop(v, "rport", "5060"));
        expect(withoutHeaderParam(v, "Expires")).toBe(refFillAndDrop(v, "x", undefined, "expires"));
        expect(fillAndDropParams(v, "rport", "9", "received")).toBe(
          refFillAndDrop(v, "rport", "9", "received"),
        );
        expect(fillAndDropParams(v, "RPORT", undefined, "rport")).toBe(
          refFillAndDrop(v, "rport", undefined, "rport"),
        );
      }),
      RUNS,
    );
  });
});

describe("rawHasTag, read in place", () => {
  it("agrees with the reference", () => {
    const values = texts(' \t;=<>"\\tTaAgGx\u00a0\u2028', [
      "<sip:b@h>;tag=1",
      '"a;tag=1" <sip:b@h;tag=2>; TAG = x ;tag',
      "sip:b@h;t<x>ag=1",
      'sip:b@h;tag="1"; tag=',
      "<sip:b@h>;tag",
    ]);
    fc.assert(
      fc.property(values, (v) => {
        expect(rawHasTag(v)).toBe(refHasTag(v));
      }),
      RUNS,
    );
  });
});
