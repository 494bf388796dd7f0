/** The README's node:test example runs as a user would run it (the vitest one runs in this suite directly). */
import { spawnSync } from "node:child_process";
import { expect, it } from "vitest";
import { ROOT } from "../helpers/cli.js";

it("node --test examples/busy.node-test.mjs passes", () => {
  const r = spawnSync(process.execPath, ["--test", "examples/busy.node-test.mjs"], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 30_000,
  });
  expect(r.stdout).toMatch(/# pass 1/);
  expect(r.stdout).toMatch(/# fail 0/);
  expect(r.status).toBe(0);
});
