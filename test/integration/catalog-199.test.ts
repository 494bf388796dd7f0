/**
 * 199 Early Dialog Terminated: RFC 6228 7 (UAS) and 8 (proxy) say the 199
 * MUST carry a Reason header field, so the catalogue requires it: the CLI
 * lists it as required, and a scenario cannot quietly drop it.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { run } from "../helpers/cli.js";

describe("199's Reason header", () => {
  it("sipmock codes --json lists Reason as required for 199", () => {
    const r = run(["codes", "--json"]);
    expect(r.status).toBe(0);
    const c199 = (JSON.parse(r.stdout) as Array<Record<string, unknown>>).find((c) => c.code === 199)!;
    expect(c199.requiredHeaders).toEqual(["Reason"]);
    expect(c199.recommendedHeaders).toEqual([]);
  });

  it("sipmock validate refuses removeHeaders: [Reason] on a 199 and names the RFC sections", () => {
    const dir = mkdtempSync(join(tmpdir(), "sipmock-199-"));
    try {
      const file = join(dir, "s.yaml");
      writeFileSync(
        file,
        "name: t\nrules:\n  - match: { method: INVITE }\n    respond: 199\n    removeHeaders: [Reason]\n",
      );
      const r = run(["validate", file]);
      expect(r.status).toBe(1);
      expect(r.stderr + r.stdout).toMatch(
        /s\.yaml:5:\d+: Reason is required in a 199 response \(RFC 6228 7 \(UAS\) and 8 \(proxy\)\)/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
