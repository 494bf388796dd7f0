/**
 * `sipmock respond CODE`: the --method requests (INVITE by default) get
 * CODE; every other request gets the built-in UAS without dial-a-code (an
 * OPTIONS to sip:503@ is a 200, not a 503), or the --scenario files when
 * given. SIPp is the client; the mock is the real CLI.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { run, start } from "../helpers/cli.js";
import { inviteFinalScenario, requestScenario, runSipp } from "../peers/sipp.js";

const dir = mkdtempSync(join(tmpdir(), "sipmock-respond-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function withCli(args: string[], body: (target: string) => Promise<void>): Promise<void> {
  const s = await start([...args, "--listen", "udp:127.0.0.1:0"]);
  try {
    await body(`127.0.0.1:${s.port}`);
  } finally {
    const exit = new Promise((r) => s.child.on("exit", r));
    s.child.kill("SIGTERM");
    await exit;
  }
}

async function sippOk(target: string, scenarioXml: string): Promise<void> {
  const r = await runSipp({ scenarioXml, target, transport: "u1" });
  expect(r.exitCode, r.summary).toBe(0);
}

describe("sipmock respond", () => {
  it("respond 486: INVITE to sip:503@ gets 486; OPTIONS to sip:503@ and REGISTER get the built-in 200 (no dial-a-code)", async () => {
    await withCli(["respond", "486"], async (target) => {
      await sippOk(target, inviteFinalScenario("503", { code: 486, reason: "Busy Here" }));
      await sippOk(
        target,
        requestScenario("OPTIONS", "503", { code: 200, reason: "OK", headers: ["Allow"] }),
      );
      await sippOk(
        target,
        requestScenario("REGISTER", "alice", { code: 200, reason: "OK" }, [
          "Contact: <sip:alice@[local_ip]:[local_port]>",
          "Expires: 60",
        ]),
      );
    });
  });

  it("respond 403 --method REGISTER: REGISTER gets 403; an INVITE to sip:486@ is the built-in answered call, not 486", async () => {
    await withCli(["respond", "403", "--method", "REGISTER"], async (target) => {
      await sippOk(target, requestScenario("REGISTER", "alice", { code: 403, reason: "Forbidden" }));
      await sippOk(target, inviteFinalScenario("486", { code: 200, reason: "OK" }));
    });
  });

  it("with --scenario, the rest is the scenario's (here dial-a-code, which the file asks for)", async () => {
    const file = join(dir, "dial.yaml");
    writeFileSync(
      file,
      [
        "name: mine",
        "rules:",
        "  - name: dial-a-code",
        '    match: { requestUri: { user: "^[1-6][0-9][0-9]$" } }',
        "    dialACode: true",
        "  - name: uas",
        "    default: true",
        "",
      ].join("\n"),
    );
    await withCli(["respond", "486", "--scenario", file], async (target) => {
      await sippOk(target, inviteFinalScenario("503", { code: 486, reason: "Busy Here" }));
      await sippOk(target, requestScenario("OPTIONS", "503", { code: 503, reason: "Service Unavailable" }));
    });
  });

  it("--help says what respond answers and what it leaves to the built-in UAS or the scenario", () => {
    const r = run(["respond", "--help"]);
    expect(r.status).toBe(0);
    expect(r.stdout.replace(/\s+/g, " ")).toContain(
      "answer the --method requests (INVITE by default) with CODE; every other request gets the built-in UAS (registrar, OPTIONS 200, BYE...) without dial-a-code, or the --scenario files when given",
    );
  });
});
