/**
 * The parser's From and To have their URI and display name checked when the
 * message is parsed but built on first read; a retained request keeps them
 * without building a URI nobody read (leanParsedNameAddr). The checks made
 * in place (no URI built) must agree with parseNameAddr, which builds the
 * URI with the URI parser: the same values, the same errors (so the same 400
 * reasons), on every RFC 4475 torture message, examples, generated values
 * and mutated messages.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  checkNameAddr,
  leanParsedNameAddr,
  parseNameAddr,
  readNameAddr,
} from "../../src/sip/headers/name-addr.js";
import { type NameAddr, parseDatagram } from "../../src/sip/index.js";
import { NO_PARAMS } from "../../src/sip/tokens.js";
import { isLeanUri, parseUri, uriTextIsLean } from "../../src/sip/uri.js";

const RFC4475_DIR = join(import.meta.dirname, "..", "fixtures", "rfc4475");

/** Everything a reader sees of a name-addr, or the error it was refused with. */
function outcome(parse: () => NameAddr): unknown {
  try {
    const n = parse();
    return {
      raw: n.raw,
      tag: n.tag,
      displayName: n.displayName,
      uri: n.uri,
      params: [...n.params],
      noParams: n.params === NO_PARAMS,
    };
  } catch (e) {
    return { error: (e as Error).message, type: (e as Error).constructor.name };
  }
}

function thrown(f: () => void): string | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** The lazy parse and the checks agree with parseNameAddr, which builds the URI with the URI parser. */
function expectSame(header: string, value: string): void {
  const reference = outcome(() => parseNameAddr(header, value));
  expect(outcome(() => readNameAddr(header, value))).toEqual(reference);
  expect(thrown(() => checkNameAddr(header, value))).toBe(thrown(() => parseNameAddr(header, value)));
  // Read in another order: the display name and parameters first, the URI last.
  const lazy = thrown(() => readNameAddr(header, value)) ? undefined : readNameAddr(header, value);
  if (lazy) {
    const eager = parseNameAddr(header, value);
    expect(lazy.displayName).toBe(eager.displayName);
    expect([...lazy.params]).toEqual([...eager.params]);
    expect(lazy.uri).toEqual(eager.uri);
    expect(lazy.uri).toBe(lazy.uri);
  }
}

/** What a retained request kept before: n itself, or a copy without parameters and with a lean URI. */
function expectLean(value: string): void {
  const eager = parseNameAddr("From", value);
  const lean = leanParsedNameAddr(readNameAddr("From", value));
  expect(lean !== undefined).toBe(isLeanUri(eager.uri));
  if (!lean) return;
  expect(lean.params).toBe(NO_PARAMS);
  expect(lean.raw).toBe(eager.raw);
  expect(lean.tag).toBe(eager.tag);
  expect(lean.displayName).toBe(eager.displayName);
  expect(lean.uri).toEqual(eager.uri);
}

const EXAMPLES = [
  '"Alice" <sip:alice@example.test>;tag=f1',
  '"A \\"q\\" \\\\ b" <sip:a@example.test;lr?x=1>;tag=2',
  "Bob Smith <sips:bob:pw@[2001:db8::1]:5061;transport=tls>",
  "<tel:+1-555-0100;phone-context=example.test>;tag=t",
  "<urn:service:sos>",
  "<mailto:a@example.test>;x",
  "sip:a@example.test;tag=1",
  "SIP:A@EXAMPLE.TEST;Tag=X",
  "sip:a;b@example.test",
  "<sip:a;b@example.test;;;>;;",
  "<sip:a@example.test?>",
  "<sip:a@example.test?h=1&i>",
  "<sip:a@example.test;x=1?>",
  "  <sip:a@example.test>  ;  tag = 1 ",
  // Refused, with their reasons.
  "",
  '"unterminated <sip:a@example.test>',
  '"x <sip:a@example.test>',
  "A, B <sip:a@example.test>",
  "<sip:a@example.test",
  "<sip:a@example.test> x",
  "sip:a@example.test?x=1",
  "<sip:a @example.test>",
  "<sip:@example.test>",
  "<sip:a@exa_mple.test>",
  "<sip:a@example.test:99999>",
  "<sip:a@[::1>",
  "<sip:a@example.test;=1>",
  "<tel:>",
  "<1sip:a>",
  "<:a>",
  "<sip:a@example.test>;ta(g=1",
];

describe("From and To URIs and display names built on first read", () => {
  it.each(EXAMPLES)("%j", (value) => {
    expectSame("From", value);
    expectSame("Contact", value);
    if (!thrown(() => parseNameAddr("From", value))) expectLean(value);
  });

  it("every From, To and Contact of the RFC 4475 messages, and the parsed From and To", () => {
    const files = readdirSync(RFC4475_DIR).filter((f) => f.endsWith(".dat"));
    let compared = 0;
    for (const file of files) {
      const bytes = readFileSync(join(RFC4475_DIR, file));
      const r = parseDatagram(bytes);
      const headers = r.ok ? r.message.headers : r.error.partial?.headers;
      for (const name of ["From", "To", "Contact"]) {
        for (const value of headers?.getRows(name) ?? []) {
          expectSame(name, value);
          compared++;
        }
      }
      if (!r.ok) continue;
      const h = r.message.headers;
      expect(
        outcome(() => r.message.core.from),
        file,
      ).toEqual(outcome(() => parseNameAddr("From", h.get("From")!)));
      expect(
        outcome(() => r.message.core.to),
        file,
      ).toEqual(outcome(() => parseNameAddr("To", h.get("To")!)));
      expectLean(h.get("From")!);
    }
    expect(compared).toBeGreaterThan(60);
  });

  const fragment = fc.constantFrom(
    '"',
    '"A b"',
    '"\\""',
    "Al ice",
    "<",
    ">",
    " ",
    "\t",
    ";",
    ",",
    "?",
    "&",
    "=",
    ":",
    "@",
    "[",
    "]",
    "sip:",
    "sips:",
    "SIP:",
    "tel:",
    "urn:",
    "1x:",
    "alice",
    "a;b",
    "example.test",
    "[2001:db8::1]",
    "5060",
    "99999",
    ";lr",
    ";tag=",
    ";TaG =x",
    "tag = ",
    "tag",
    ";transport=udp",
    "?h=1",
    "x_y",
    "%41",
    "\u00a0",
  );
  const nameAddr = fc.array(fragment, { maxLength: 12 }).map((parts) => parts.join(""));
  const wellFormed = fc
    .tuple(
      fc.constantFrom("", '"Alice" ', "Bob ", '"a\\"b" '),
      fc.constantFrom("sip:", "sips:", "SIP:", "tel:", "urn:"),
      fc.constantFrom("", "alice@", "a;b@", "u:pw@"),
      fc.constantFrom("example.test", "[::1]", "192.0.2.1:5060"),
      fc.constantFrom("", ";lr", ";;", ";x=1;y", "?", "?h=1", ";a?b=c"),
      fc.boolean(),
      fc.constantFrom("", ";tag=1", " ; tag = 2 ;x", ";q=0.5"),
    )
    .map(([dn, scheme, user, host, tail, angle, params]) =>
      angle || dn !== "" || tail.includes("?")
        ? `${dn}<${scheme}${user}${host}${tail}>${params}`
        : `${scheme}${user}${host}${tail}${params}`,
    );

  it("generated values: the same values or the same error as the eager parser", () => {
    fc.assert(
      fc.property(fc.oneof(nameAddr, wellFormed), (value) => {
        expectSame("To", value);
        if (!thrown(() => parseNameAddr("To", value))) expectLean(value);
      }),
      { numRuns: 3000 },
    );
  });

  it("mutated RFC 4475 messages: their From, To and Contact rows as the eager parser reads them, and the same 400", () => {
    const seeds = readdirSync(RFC4475_DIR)
      .filter((f) => f.endsWith(".dat"))
      .map((f) => readFileSync(join(RFC4475_DIR, f)).toString("latin1"));
    const sipish = fc.constantFrom(...'\r\n:;,<>"\\@ =/[]%\t\0SIPv12tag'.split(""));
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 8 }), fc.string({ unit: sipish, maxLength: 6 })), {
          maxLength: 6,
        }),
        (seed, edits) => {
          let s = seed;
          for (const [pos, del, ins] of edits) {
            const at = pos % (s.length + 1);
            s = s.slice(0, at) + ins + s.slice(at + del);
          }
          const r = parseDatagram(Buffer.from(s, "latin1"));
          const headers = r.ok ? r.message.headers : r.error.partial?.headers;
          for (const name of ["From", "To", "Contact"]) {
            for (const value of headers?.getRows(name) ?? []) expectSame(name, value);
          }
          if (r.ok) {
            const h = r.message.headers;
            expect(outcome(() => r.message.core.from)).toEqual(
              outcome(() => parseNameAddr("From", h.get("From")!)),
            );
            expect(outcome(() => r.message.core.to)).toEqual(
              outcome(() => parseNameAddr("To", h.get("To")!)),
            );
          } else if (/^(From|To)\b/.test(r.error.detail) && headers) {
            // A refused From or To: the reason the eager parser gives for that row.
            const name = r.error.detail.startsWith("From") ? "From" : "To";
            const reason = thrown(() => parseNameAddr(name, headers.get(name)!));
            if (reason !== undefined)
              expect(r.error.detail).toBe(reason.slice(0, 200) + (reason.length > 200 ? "..." : ""));
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("uriTextIsLean is isLeanUri of the parsed URI, for every valid URI", () => {
    const uri = fc
      .array(
        fc.constantFrom("sip:", "SIPS:", "tel:", "x:", "a", "@", ";", "=", "?", "&", ":5", "b.c", "[::1]"),
        {
          maxLength: 10,
        },
      )
      .map((p) => p.join(""));
    fc.assert(
      fc.property(uri, (raw) => {
        let parsed: ReturnType<typeof parseUri>;
        try {
          parsed = parseUri(raw);
        } catch {
          return;
        }
        expect(uriTextIsLean(`<${raw}>`, 1, raw.length + 1)).toBe(isLeanUri(parsed));
      }),
      { numRuns: 3000 },
    );
  });
});
