/**
 * The published package, as a user gets it: `npm pack`, the tarball
 * installed into an empty directory outside the repository, then
 * `npx sipmock respond 486` and a consumer module importing `startSipMock`
 * run from there. (`npm test` builds dist/ first; the pack skips prepack so
 * it does not rebuild dist/ under the other tests' feet.)
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, SCENARIOS } from "../helpers/cli.js";
import { request, statusOf, udpClient } from "../helpers/wire-client.js";

const work = mkdtempSync(join(tmpdir(), "sipmock-pack-"));
const consumer = join(work, "consumer");
const installed = join(consumer, "node_modules", "sipmock");
let installOutput = "";

/** npm's own variables from `npm test` (prefix, package, lifecycle) must not leak into the consumer's npm. */
const ENV: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(
    ([k]) => !/^npm_/i.test(k) || /^npm_config_(cache|registry|userconfig)$/i.test(k),
  ),
);
delete ENV.INIT_CWD;

function npm(args: string[], cwd: string) {
  const r = spawnSync("npm", args, { cwd, env: ENV, encoding: "utf8", timeout: 45_000 });
  if (r.status !== 0) throw new Error(`npm ${args.join(" ")}: exit ${r.status}\n${r.stdout}${r.stderr}`);
  return r;
}

beforeAll(() => {
  const packed = npm(["pack", "--ignore-scripts", "--json", "--pack-destination", work], ROOT);
  const tarball = join(work, (JSON.parse(packed.stdout) as Array<{ filename: string }>)[0]!.filename);
  mkdirSync(consumer);
  writeFileSync(
    join(consumer, "package.json"),
    '{ "name": "consumer", "private": true, "type": "module" }\n',
  );
  const r = npm(["install", "--no-audit", "--no-fund", "--prefer-offline", tarball], consumer);
  installOutput = r.stdout + r.stderr;
}, 60_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Starts `npx sipmock ARGS` in the consumer directory; resolves once the banner names the UDP port. */
function npx(args: string[]): Promise<{ child: ChildProcess; port: number; output: () => string }> {
  const child = spawn("npx", ["--no", "sipmock", ...args], {
    cwd: consumer,
    env: ENV,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  return new Promise((resolve, reject) => {
    child.stderr!.on("data", (d) => {
      out += d;
      const m = /listening on udp:127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]), output: () => out });
    });
    child.on("exit", (code) => reject(new Error(`npx sipmock exited ${code}: ${out}`)));
  });
}

describe("the packed package, installed elsewhere", () => {
  it("installs without install-script warnings (no prepare), with LICENSE and no dev files", () => {
    expect(installOutput).not.toMatch(/prepare|install-scripts|install script/i);
    const pkg = JSON.parse(readFileSync(join(installed, "package.json"), "utf8"));
    expect(pkg.scripts.prepare).toBeUndefined();
    expect(pkg.license).toBe("MIT");
    expect(readFileSync(join(installed, "LICENSE"), "utf8")).toMatch(/^MIT License/);
    for (const dev of ["test", "bench", "examples", "docker", ".ci", "tsconfig.json"]) {
      expect(existsSync(join(installed, dev)), dev).toBe(false);
    }
  });

  it("every source map's sources are shipped too", () => {
    const maps = npmFiles().filter((f) => f.endsWith(".map"));
    expect(maps.length).toBeGreaterThan(10);
    for (const map of maps) {
      const { sources } = JSON.parse(readFileSync(join(installed, map), "utf8")) as { sources: string[] };
      for (const s of sources)
        expect(existsSync(resolve(dirname(join(installed, map)), s)), `${map} -> ${s}`).toBe(true);
    }
  });

  it("npx sipmock respond 486 listens and answers an INVITE with 486", async () => {
    const s = await npx(["respond", "486", "--listen", "udp:127.0.0.1:0"]);
    const target = { host: "127.0.0.1", port: s.port };
    const c = await udpClient(target);
    try {
      await c.send(request("INVITE", "bob", target, { localPort: c.port }));
      const final = await c.waitFor((r) => statusOf(r) >= 200);
      expect(final.text.split("\r\n")[0]).toBe("SIP/2.0 486 Busy Here");
    } finally {
      await c.close();
      // The whole group, as a terminal's Ctrl-C would: npx and the sipmock it started.
      const exit = new Promise((r) => s.child.on("exit", r));
      process.kill(-s.child.pid!, "SIGTERM");
      await exit;
    }
  });

  it("npx sipmock scenarios lists the bundled scenarios from the installed package", () => {
    const r = spawnSync("npx", ["--no", "sipmock", "scenarios", "--path", "busy"], {
      cwd: consumer,
      env: ENV,
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${join(installed, "scenarios", "busy.yaml")}\n`);
  });

  it("npx sipmock report finds the web UI's built app in the installed package and inlines it", () => {
    const entry = {
      id: 1,
      time: "2026-01-01T00:00:00.000Z",
      direction: "in",
      transport: "udp",
      local: { address: "127.0.0.1", port: 5060 },
      remote: { address: "127.0.0.1", port: 5070 },
      raw: "OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\nCall-ID: one\r\n\r\n",
      kind: "request",
      method: "OPTIONS",
      callId: "one",
      retransmission: false,
    };
    writeFileSync(join(consumer, "calls.jsonl"), `${JSON.stringify(entry)}\n`);
    const r = spawnSync("npx", ["--no", "sipmock", "report", "calls.jsonl", "-o", "report.html"], {
      cwd: consumer,
      env: ENV,
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(r.stderr).toBe("sipmock: wrote report.html (1 message)\n");
    expect(r.status).toBe(0);
    const html = readFileSync(join(consumer, "report.html"), "utf8");
    expect(html).toContain(
      readFileSync(join(installed, "dist", "ui", "app.css"), "utf8").replace(/<\/(style)/gi, "<\\/$1"),
    );
    expect(html).toMatch(/<script>[\s\S]{1000,}<\/script>/);
  });

  it('a consumer module imports startSipMock, gets 486 from scenario "busy", closes', () => {
    writeFileSync(join(consumer, "consumer.mjs"), CONSUMER);
    const r = spawnSync(process.execPath, ["consumer.mjs"], {
      cwd: consumer,
      env: ENV,
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { status: string; names: string[]; resolved: string; schema: string };
    expect(out.status).toBe("SIP/2.0 486 Busy Here");
    expect(out.names).toContain("busy");
    expect(out.resolved).toBe(join(installed, "scenarios", "busy.yaml"));
    expect(readFileSync(out.resolved, "utf8")).toBe(readFileSync(join(SCENARIOS, "busy.yaml"), "utf8"));
    expect(JSON.parse(readFileSync(out.schema, "utf8")).$schema).toMatch(/json-schema/);
  });

  it("a TypeScript consumer type-checks against the installed declarations (strict, lib check on)", () => {
    writeFileSync(join(consumer, "consumer.ts"), TS_CONSUMER);
    writeFileSync(
      join(consumer, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module: "nodenext",
          target: "es2022",
          strict: true,
          noEmit: true,
          typeRoots: [join(ROOT, "node_modules", "@types")],
          types: ["node"],
        },
        files: ["consumer.ts"],
      }),
    );
    const r = spawnSync(join(ROOT, "node_modules", ".bin", "tsc"), ["-p", "."], {
      cwd: consumer,
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});

const TS_CONSUMER = `import { type BundledScenario, bundledScenarios, type SipMock, startSipMock } from "sipmock";

const mock: SipMock = await startSipMock({ scenario: "busy", listen: ["udp:127.0.0.1:0"] });
const names: string[] = bundledScenarios().map((b: BundledScenario) => b.name);
console.log(mock.uri("udp"), names);
await mock.close();
`;

/** Every file of the installed package, relative to it (as npm would list them). */
function npmFiles(): string[] {
  const r = spawnSync("find", [".", "-type", "f"], { cwd: installed, encoding: "utf8" });
  return r.stdout
    .trim()
    .split("\n")
    .map((f) => f.replace(/^\.\//, ""));
}

/** What a user writes: the README's embedding example, with a raw UDP client standing in for theirs. */
const CONSUMER = `import { createSocket } from "node:dgram";
import { fileURLToPath } from "node:url";
import { bundledScenarios, silentLogger, startSipMock } from "sipmock";

const mock = await startSipMock({ scenario: "busy", listen: ["udp:127.0.0.1:0"], logger: silentLogger });
const { port } = mock.address("udp");
const s = createSocket("udp4");
await new Promise((r) => s.bind(0, "127.0.0.1", r));
const me = s.address().port;
const head = (method, to) =>
  method + " sip:bob@127.0.0.1:" + port + " SIP/2.0\\r\\nVia: SIP/2.0/UDP 127.0.0.1:" + me +
  ";branch=z9hG4bK-consumer\\r\\nMax-Forwards: 70\\r\\nFrom: <sip:alice@127.0.0.1>;tag=c\\r\\nTo: " + to +
  "\\r\\nCall-ID: consumer@127.0.0.1\\r\\nCSeq: 1 " + method + "\\r\\nContent-Length: 0\\r\\n\\r\\n";
const final = new Promise((resolve) =>
  s.on("message", (b) => {
    const text = b.toString("latin1");
    if (/^SIP\\/2\\.0 [2-6]/.test(text)) resolve(text);
  }),
);
s.send(head("INVITE", "<sip:bob@127.0.0.1>"), port, "127.0.0.1");
const response = await final;
s.send(head("ACK", /\\r\\nTo: ([^\\r\\n]+)/.exec(response)[1]), port, "127.0.0.1");
await mock.waitFor({ method: "ACK" }, { timeout: 2000 });
const status = response.split("\\r\\n")[0];
s.close();
mock.verify({ method: "INVITE" }, { times: 1 });
await mock.close();
const resolved = fileURLToPath(import.meta.resolve("sipmock/scenarios/busy.yaml"));
const schema = fileURLToPath(import.meta.resolve("sipmock/schema/scenario.schema.json"));
console.log(JSON.stringify({ status, names: bundledScenarios().map((b) => b.name), resolved, schema }));
`;
