import { describe, expect, it } from "vitest";
import { randomBase64url, randomHex } from "../../src/transaction/random-pool.js";
import { newTag } from "../../src/transaction/transaction-layer.js";

describe("random pool", () => {
  it("gives hex of the asked length, never the same value twice across refills", () => {
    const seen = new Set<string>();
    // 6 octets each: 3,000 draws span several 4 KiB refills.
    for (let i = 0; i < 3000; i++) {
      const v = randomHex(6);
      expect(v).toMatch(/^[0-9a-f]{12}$/);
      seen.add(v);
    }
    expect(seen.size).toBe(3000);
  });

  it("uses every octet value (not a constant or a counter)", () => {
    const counts = new Array(256).fill(0);
    for (let i = 0; i < 4000; i++) {
      const hex = randomHex(16);
      for (let j = 0; j < 32; j += 2) counts[Number.parseInt(hex.slice(j, j + 2), 16)]++;
    }
    // 64,000 octets: each of the 256 values expected 250 times.
    expect(Math.min(...counts)).toBeGreaterThan(150);
    expect(Math.max(...counts)).toBeLessThan(350);
  });

  it("base64url and the To tag (RFC 3261 19.3: at least 32 random bits)", () => {
    expect(randomBase64url(9)).toMatch(/^[A-Za-z0-9_-]{12}$/);
    expect(newTag()).toMatch(/^[0-9a-f]{12}$/);
    expect(() => randomHex(5000)).toThrow(RangeError);
  });
});
