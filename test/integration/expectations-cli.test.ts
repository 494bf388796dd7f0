/**
 * CI verdicts from the mock itself: `serve --until-expectations` exits 0 once
 * the scenario's expectations hold (SIPp drives the call), 1 with a report
 * at --timeout, and writes JUnit XML either way.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freeUdpPort, run, start } from "../helpers/cli.js";
import { inviteFinalScenario, runSipp } from "../peers/sipp.js";

const dir = mkdtempSync(join(tmpdir(), "sipmock-verdict-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SCENARIO = `
name: busy with verdict
rules:
  - match: { method: INVITE, requestUri: { user: "^486$" } }
    respond: 486
expectations:
  - name: exactly one INVITE to 486
    match: { method: INVITE, requestUri: { user: "^486$" } }
    times: 1
  - name: and its ACK
    match: { method: ACK }
`;

async function verdict(drive: (port: number) => Promise<void>, timeout: string) {
  const file = join(dir, `s-${Math.random().toString(16).slice(2)}.yaml`);
  const junit = `${file}.xml`;
  writeFileSync(file, SCENARIO);
  const port = await freeUdpPort();
  const s = await start([
    "serve",
    "--listen",
    `udp:127.0.0.1:${port}`,
    "--scenario",
    file,
    "--until-expectations",
    "--timeout",
    timeout,
    "--junit",
    junit,
  ]);
  const exit = new Promise<number | null>((r) => s.child.on("exit", (code) => r(code)));
  await drive(port);
  const code = await exit;
  return { code, output: s.output(), junit: readFileSync(junit, "utf8") };
}

describe("serve --until-expectations", () => {
  it("exits 0 once a real client did what was expected", async () => {
    const v = await verdict(async (port) => {
      const r = await runSipp({
        scenarioXml: inviteFinalScenario("486", { code: 486, reason: "Busy Here" }),
        target: `127.0.0.1:${port}`,
        transport: "u1",
      });
      expect(r.exitCode).toBe(0);
    }, "20s");
    expect(v.code).toBe(0);
    expect(v.output).toContain("PASS exactly one INVITE to 486: received 1 (expected exactly 1)");
    expect(v.output).toContain("PASS and its ACK: received 1 (expected at least 1)");
    expect(v.output).toContain("2 of 2 expectations met");
    expect(v.junit).toContain('<testsuite name="busy with verdict" tests="2" failures="0" errors="0"');
  });

  it("exits 1 at the timeout with a report of what is missing", async () => {
    const v = await verdict(async () => {}, "1s");
    expect(v.code).toBe(1);
    expect(v.output).toContain("FAIL exactly one INVITE to 486: expected exactly 1 request(s) matching");
    expect(v.output).toContain("no requests were received at all");
    expect(v.output).toContain("0 of 2 expectations met");
    expect(v.junit).toContain('failures="2"');
    expect(v.junit).toContain('<failure message="received 0, expected exactly 1">');
  });

  it("refuses to wait without expectations (exit 2)", () => {
    const r = run(["serve", "--listen", "udp:127.0.0.1:0", "--until-expectations"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      "sipmock: --until-expectations needs a scenario with expectations: (see README: CI verdicts)",
    );
  });
});
