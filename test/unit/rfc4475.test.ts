/**
 * RFC 4475 torture messages, parser level: one test per file, against the
 * outcome RFC 4475 gives for it (test/fixtures/rfc4475-expectations.ts).
 * What the UAS answers on the wire is in integration/rfc4475-wire.test.ts.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseDatagram } from "../../src/sip/index.js";
import { RFC4475_CASES } from "../fixtures/rfc4475-expectations.js";

const RFC4475_DIR = join(import.meta.dirname, "..", "fixtures", "rfc4475");

/** Codes the parser itself produces; the others (416, 415, 420...) are UAS decisions on a parsed request. */
const PARSER_CODES = new Set([400, 505, 513]);

describe("RFC 4475 corpus", () => {
  it("has an expectation for every file and a file for every expectation", () => {
    const files = readdirSync(RFC4475_DIR)
      .filter((f) => f.endsWith(".dat"))
      .sort();
    expect(files).toHaveLength(49);
    expect(RFC4475_CASES.map((c) => c.file).sort()).toEqual(files);
  });
});

describe.each(RFC4475_CASES)("RFC 4475 $section $file ($title)", (c) => {
  const result = parseDatagram(readFileSync(join(RFC4475_DIR, c.file)));
  const o = c.outcome;

  if (o.kind === "parse-response") {
    it(o.valid ? "parses as a valid response" : "is rejected as an invalid response", () => {
      expect(result.ok).toBe(o.valid);
      if (result.ok) expect(result.message.kind).toBe("response");
    });
  } else if (o.kind === "reject" && PARSER_CODES.has(o.status)) {
    it(`is rejected with ${o.status}, naming ${o.mention}`, () => {
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.error.status).toBe(o.status);
      expect(result.error.detail.toLowerCase()).toContain(o.mention.toLowerCase());
      expect(result.error.partial?.kind).toBe("request");
    });
  } else if (o.kind === "drop") {
    it("is not a request a UAS can answer", () => {
      expect(result.ok && result.message.kind === "request").toBe(false);
    });
  } else {
    it(`parses as a ${c.method ?? "request"}`, () => {
      if (!result.ok) throw new Error(result.error.detail);
      expect(result.message.kind).toBe("request");
      if (c.method && result.message.kind === "request") expect(result.message.method).toBe(c.method);
    });
  }
});
