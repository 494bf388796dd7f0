/**
 * Bundled scenarios by name: the built `sipmock` run from a directory that
 * holds no scenarios/ (as after `npm install -g sipmock`), on the wire.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BIN, ROOT, SCENARIOS, waitForOutput } from "../helpers/cli.js";
import { request, statusOf, udpClient } from "../helpers/wire-client.js";

const elsewhere = mkdtempSync(join(tmpdir(), "sipmock-bundled-"));
afterAll(() => rmSync(elsewhere, { recursive: true, force: true }));

const NAMES = readdirSync(SCENARIOS)
  .filter((f) => f.endsWith(".yaml"))
  .map((f) => basename(f, ".yaml"))
  .sort();

function run(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: 10_000, cwd: elsewhere });
}

/** Starts `sipmock ARGS` in `elsewhere`; resolves with the UDP port once the banner says it listens. */
function start(args: string[]): Promise<{ child: ChildProcess; port: number; stderr: () => string }> {
  const child = spawn(process.execPath, [BIN, ...args, "--listen", "udp:127.0.0.1:0"], {
    cwd: elsewhere,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  return new Promise((resolve, reject) => {
    child.stderr!.on("data", (d) => {
      err += d;
      const m = /listening on udp:127\.0\.0\.1:(\d+)/.exec(err);
      if (m) resolve({ child, port: Number(m[1]), stderr: () => err });
    });
    child.on("exit", (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
}

async function stop(child: ChildProcess): Promise<number | null> {
  const exit = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  child.kill("SIGTERM");
  return exit;
}

/** The final status the server sends to an INVITE. */
async function inviteStatus(port: number): Promise<number> {
  const target = { host: "127.0.0.1", port };
  const c = await udpClient(target);
  try {
    await c.send(request("INVITE", "bob", target, { localPort: c.port }));
    return statusOf(await c.waitFor((r) => statusOf(r) >= 200));
  } finally {
    await c.close();
  }
}

describe("bundled scenarios by name", () => {
  it("sipmock scenarios lists every scenarios/*.yaml, one line each: name and description", () => {
    const r = run(["scenarios"]);
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines.map((l) => l.split(/\s+/)[0])).toEqual(NAMES);
    for (const l of lines) expect(l).toMatch(/^[a-z-]+ {2,}\S.{10,}$/);
    expect(lines).toContainEqual(expect.stringMatching(/^busy +every INVITE: 486 Busy Here$/));
  });

  it("sipmock scenarios --path prints files that exist; --json the same list", () => {
    const paths = run(["scenarios", "--path"]).stdout.trimEnd().split("\n");
    for (const [i, l] of paths.entries()) {
      const [name, file] = l.split(/\s+/);
      expect(name).toBe(NAMES[i]);
      expect(readFileSync(file!, "utf8")).toBe(readFileSync(join(SCENARIOS, `${name}.yaml`), "utf8"));
    }
    const json = JSON.parse(run(["scenarios", "--json"]).stdout) as Array<{ name: string }>;
    expect(json.map((s) => s.name)).toEqual(NAMES);
    const one = run(["scenarios", "--path", "busy"]);
    expect(readFileSync(one.stdout.trimEnd(), "utf8")).toBe(
      readFileSync(join(SCENARIOS, "busy.yaml"), "utf8"),
    );
  });

  it("sipmock scenarios NAME of no bundled scenario: one line with the names, exit 1", () => {
    const r = run(["scenarios", "bsy"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      `sipmock: no bundled scenario named "bsy"; did you mean "busy"? bundled: ${NAMES.join(", ")}\n`,
    );
  });

  it("serve --scenario busy answers an INVITE 486 from a directory without scenarios/", async () => {
    const s = await start(["serve", "--scenario", "busy"]);
    try {
      expect(await inviteStatus(s.port)).toBe(486);
    } finally {
      expect(await stop(s.child)).toBe(0);
    }
  });

  it("a file that exists wins over the bundled name", async () => {
    writeFileSync(
      join(elsewhere, "busy"),
      "name: mine\nrules:\n  - { match: { method: INVITE }, respond: 603 }\n",
    );
    const s = await start(["serve", "--scenario", "busy"]);
    try {
      expect(await inviteStatus(s.port)).toBe(603);
    } finally {
      await stop(s.child);
      rmSync(join(elsewhere, "busy"));
    }
  });

  it("respond 503 --scenario decline: the code in front, the bundled scenario for the rest", async () => {
    const s = await start(["respond", "503", "--method", "OPTIONS", "--scenario", "decline"]);
    try {
      expect(await inviteStatus(s.port)).toBe(603);
    } finally {
      await stop(s.child);
    }
  });

  it("ctl scenario decline swaps a running server to the bundled scenario", async () => {
    const s = await start(["serve", "--admin", "0"]);
    try {
      await waitForOutput(s.stderr, /admin API on http:\/\/127\.0\.0\.1:\d+/);
      const admin = /admin API on (http:\/\/127\.0\.0\.1:\d+)/.exec(s.stderr())![1]!;
      const r = run(["ctl", "--admin", admin, "scenario", "decline"]);
      expect(r.stderr).toBe("");
      expect(r.stdout).toBe("scenario now: decline\n");
      expect(await inviteStatus(s.port)).toBe(603);
    } finally {
      await stop(s.child);
    }
  });

  it("validate takes names too", () => {
    const r = run(["validate", "busy", "faults"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("busy: ok (1 rules)\nfaults: ok (15 rules)\n");
  });

  it("a name that is neither a file nor bundled: one line listing the bundled names, exit 1", () => {
    const r = run(["serve", "--scenario", "busyy", "--listen", "udp:127.0.0.1:0"]);
    expect(r.status).toBe(1);
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(
      `busyy: no such file, and no bundled scenario named "busyy"; fix: did you mean "busy"? bundled scenarios: ${NAMES.join(", ")} (sipmock scenarios)`,
    );
  });

  it("a missing path is said plainly, without a position", () => {
    const r = run(["validate", "scenarios/busy.yaml"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe("scenarios/busy.yaml: no such file; fix: check the path\n");
  });

  it("the README's table of ready-made scenarios lists exactly the bundled names, with their --scenario name", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const section = readme.split("### Ready-made scenarios")[1]!.split("\n## ")[0]!;
    const rows = [...section.matchAll(/^\| `([a-z-]+)` \| \[`scenarios\/([a-z-]+)\.yaml`\]/gm)];
    expect(rows.map((m) => m[1]).sort()).toEqual(NAMES);
    for (const m of rows) expect(m[2]).toBe(m[1]);
  });
});
