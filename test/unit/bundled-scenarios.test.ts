/** Bundled scenario lookup through the API: names, paths, and the error for neither. */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { describe, expect, it } from "vitest";
import { bundledScenarios, ScenarioLoadError, silentLogger, startSipMock } from "../../src/index.js";
import { loadScenarioFiles } from "../../src/scenario/load.js";
import { SCENARIOS } from "../helpers/cli.js";

const NAMES = readdirSync(SCENARIOS)
  .filter((f) => f.endsWith(".yaml"))
  .map((f) => basename(f, ".yaml"))
  .sort();

describe("bundled scenarios", () => {
  it("bundledScenarios() lists every scenarios/*.yaml with its file and a one-line description", () => {
    const list = bundledScenarios();
    expect(list.map((s) => s.name)).toEqual(NAMES);
    for (const s of list) {
      expect(s.file).toBe(join(SCENARIOS, `${s.name}.yaml`));
      expect(s.description, s.name).toMatch(/^\S[^\n]{10,119}$/);
    }
  });

  it("a name loads the bundled file; a file of that name wins", () => {
    expect(loadScenarioFiles(["busy"])[0]!.file).toBe(join(SCENARIOS, "busy.yaml"));
    const dir = mkdtempSync(join(tmpdir(), "sipmock-name-"));
    const cwd = process.cwd();
    try {
      writeFileSync(join(dir, "busy"), "name: mine\nrules:\n  - { respond: 603 }\n");
      process.chdir(dir);
      expect(loadScenarioFiles(["busy"])[0]!.definition.name).toBe("mine");
      expect(loadScenarioFiles(["decline"])[0]!.definition.name).toBe("decline");
    } finally {
      process.chdir(cwd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("startSipMock with a name that is neither: ScenarioLoadError listing the bundled names", async () => {
    const started = startSipMock({ scenario: "bussy", listen: ["udp:127.0.0.1:0"], logger: silentLogger });
    await expect(started).rejects.toBeInstanceOf(ScenarioLoadError);
    await expect(started).rejects.toThrow(
      `bussy: no such file, and no bundled scenario named "bussy"; fix: did you mean "busy"? bundled scenarios: ${NAMES.join(", ")} (sipmock scenarios)`,
    );
  });
});
