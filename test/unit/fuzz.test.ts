/**
 * Property tests: the parser never throws, whatever the bytes, and a valid
 * message survives arbitrary header mutations without crashing. Inputs that
 * once crashed are kept in test/corpus/parser/ and replayed first.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseDatagram, StreamFramer } from "../../src/sip/index.js";

const CORPUS = join(import.meta.dirname, "..", "corpus", "parser");
const RFC4475 = join(import.meta.dirname, "..", "fixtures", "rfc4475");

function mustNotThrow(data: Buffer): void {
  const r = parseDatagram(data);
  expect(typeof r.ok).toBe("boolean");
  const framer = new StreamFramer({ maxMessageSize: 4096 });
  framer.push(data);
}

describe("parser fuzzing", () => {
  it("replays the regression corpus", () => {
    const files = readdirSync(CORPUS).filter((f) => f.endsWith(".bin"));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) mustNotThrow(readFileSync(join(CORPUS, f)));
  });

  it("never throws on random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => mustNotThrow(Buffer.from(bytes))),
      { numRuns: 2000 },
    );
  });

  it("never throws on mutated torture messages", () => {
    const seeds = readdirSync(RFC4475)
      .filter((f) => f.endsWith(".dat"))
      .map((f) => readFileSync(join(RFC4475, f)));
    const sipish = fc.constantFrom(...'\r\n:;,<>"\\@ =/[]%\t\0SIPv12'.split(""));
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 8 }), fc.string({ unit: sipish, maxLength: 6 })), {
          maxLength: 6,
        }),
        (seed, edits) => {
          let s = seed.toString("latin1");
          for (const [pos, del, ins] of edits) {
            const at = pos % (s.length + 1);
            s = s.slice(0, at) + ins + s.slice(at + del);
          }
          mustNotThrow(Buffer.from(s, "latin1"));
        },
      ),
      { numRuns: 3000 },
    );
  });
});
