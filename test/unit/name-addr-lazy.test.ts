/**
 * From, To and Contact header parameters are checked when the message is
 * parsed but built into their map only when first read (the tag is read at
 * once). The lazy map must be what the eager parse gave: the same entries as
 * parseParams over the parameter text, the tag its first "tag" entry, and
 * malformed parameters still a 400 at parse time.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { hasNoParams } from "../../src/sip/headers/name-addr.js";
import { type NameAddr, parseDatagram, parseNameAddr, parseParams } from "../../src/sip/index.js";
import { NO_PARAMS } from "../../src/sip/tokens.js";

const RFC4475_DIR = join(import.meta.dirname, "..", "fixtures", "rfc4475");
const crlf = (s: string) => Buffer.from(s.replace(/\r?\n/g, "\r\n"), "latin1");

/**
 * The parameter text of a name-addr value, found the simple way: after the
 * ">" that closes the URI when there is one outside the display name's
 * quotes, else after the first ";" (RFC 3261 20.10).
 */
function paramText(raw: string): string {
  const dq = raw.startsWith('"') ? raw.indexOf('"', 1) : -1;
  const lt = raw.indexOf("<", dq + 1);
  if (lt >= 0) return raw.slice(raw.indexOf(">", lt) + 1).replace(/^\s*;/, "");
  const semi = raw.indexOf(";");
  return semi < 0 ? "" : raw.slice(semi + 1);
}

/** What the eager parse gave: every parameter, and the tag as params.get("tag") || undefined. */
function expectEager(na: NameAddr): void {
  const params = na.params;
  expect([...params]).toEqual([...parseParams(paramText(na.raw))!]);
  expect(na.tag).toBe(params.get("tag") || undefined);
  expect(na.params).toBe(params);
}

describe("lazily built From and To parameters, every RFC 4475 message", () => {
  const files = readdirSync(RFC4475_DIR).filter((f) => f.endsWith(".dat"));
  const parsed = files.flatMap((file) => {
    const r = parseDatagram(readFileSync(join(RFC4475_DIR, file)));
    return r.ok ? [[file, r.message] as const] : [];
  });

  it("covers the messages that parse", () => {
    expect(parsed.length).toBeGreaterThan(20);
  });

  it.each(parsed)("%s: From and To parameters equal the eager parse", (_file, m) => {
    expectEager(m.core.from);
    expectEager(m.core.to);
  });
});

describe("lazily built parameters, real bytes", () => {
  const message = (from: string, to: string) =>
    crlf(`OPTIONS sip:bob@example.test SIP/2.0
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-lazy
From: ${from}
To: ${to}
Call-ID: lazy@example.test
CSeq: 1 OPTIONS
Max-Forwards: 70
Content-Length: 0

`);

  it.each([
    ['"A; <b>" <sip:a@example.test;lr>;TAG=x1;tag=x2;Expires=60;q="0;5"', "x1"],
    ["sip:a@example.test;tag=;foo", undefined],
    ["<sip:a@example.test> ; tag ; other=1", undefined],
    ["<sip:a@example.test> ; tag = spaced ", "spaced"],
    ["A B <sip:a@example.test>;x;tag=t9", "t9"],
  ])("From: %s", (from, tag) => {
    const r = parseDatagram(message(from, "<sip:bob@example.test>"));
    if (!r.ok) throw new Error(r.error.detail);
    expect(r.message.core.from.tag).toBe(tag);
    expectEager(r.message.core.from);
    expect(r.message.core.to.tag).toBeUndefined();
    expect(r.message.core.to.params.size).toBe(0);
  });

  it("the entries, names lower-cased, the first of a name kept", () => {
    const na = parseNameAddr("Contact", '<sip:a@b>;Expires=60;expires=30;q="0;5";+sip.instance="<urn:x>"');
    expect([...na.params]).toEqual([
      ["expires", "60"],
      ["q", '"0;5"'],
      ["+sip.instance", '"<urn:x>"'],
    ]);
  });

  it.each([
    ["<sip:a@example.test>;ta(g=1", /malformed parameters in From/],
    ["sip:a@example.test;=1", /malformed parameters in From/],
    ["<sip:a@example.test>;tag=1;;x y=2", /malformed parameters in From/],
  ])("malformed parameters are still a 400 at parse time: From: %s", (from, reason) => {
    const r = parseDatagram(message(from, "<sip:bob@example.test>"));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.status).toBe(400);
    expect(r.error.detail).toMatch(reason);
  });
});

describe("hasNoParams: whether the map is the shared empty one, without building it", () => {
  const values = [
    "<sip:a@example.test>",
    "<sip:a@example.test> ;",
    "<sip:a@example.test>;; ",
    "<sip:a@example.test>;x",
    "<sip:a@example.test>;tag=1",
    '"A;b" <sip:a@example.test>',
    '<sip:a@example.test>;x="q;r"',
    "sip:a@example.test",
    "sip:a@example.test;tag=2",
    "sip:a@example.test ; ",
  ];
  it.each(values)("%s", (value) => {
    const fresh = parseNameAddr("From", value);
    const before = hasNoParams(fresh);
    expect(before).toBe(fresh.params === NO_PARAMS);
    // And once built, from the map itself.
    expect(hasNoParams(fresh)).toBe(before);
  });

  it("every From and To of the RFC 4475 messages that parse", () => {
    for (const file of readdirSync(RFC4475_DIR).filter((f) => f.endsWith(".dat"))) {
      const r = parseDatagram(readFileSync(join(RFC4475_DIR, file)));
      if (!r.ok) continue;
      for (const na of [r.message.core.from, r.message.core.to]) {
        const before = hasNoParams(na);
        expect(before, file).toBe(na.params === NO_PARAMS);
      }
    }
  });
});
