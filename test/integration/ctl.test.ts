/**
 * `sipmock ctl` against a running `sipmock serve --admin`: a person changes
 * the answer without restarting, reads the journal (and follows it), resets.
 */
import { spawn, spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { BIN, freeUdpPort, ROOT, start, waitForOutput } from "../helpers/cli.js";
import { request, statusOf, udpClient } from "../helpers/wire-client.js";

function ctl(admin: string, args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [BIN, "ctl", "--admin", admin, ...args], {
    encoding: "utf8",
    timeout: 10_000,
    cwd: ROOT,
    env: { ...process.env, ...env },
  });
}

async function serveWithAdmin(extra: string[] = []) {
  const port = await freeUdpPort();
  const s = await start(["serve", "--listen", `udp:127.0.0.1:${port}`, "--admin", "0", ...extra]);
  await waitForOutput(s.output, /admin API on http:\/\/127\.0\.0\.1:\d+/);
  const admin = /admin API on (http:\/\/127\.0\.0\.1:\d+)/.exec(s.output())![1]!;
  return { ...s, admin };
}

describe("sipmock ctl", () => {
  it("respond --times 1 changes the next answer only; journal shows it; reset clears", async () => {
    const s = await serveWithAdmin();
    const target = { host: "127.0.0.1", port: s.port };
    const c = await udpClient(target);
    const finalOf = async (user: string) => {
      const n = c.received.length;
      await c.send(request("INVITE", user, target, { localPort: c.port }));
      return statusOf(await c.waitFor((m) => c.received.indexOf(m) >= n && statusOf(m) >= 200));
    };

    const r = ctl(s.admin, ["respond", "486", "--times", "1"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("override o1: INVITE -> 486 (1 time)\n");
    expect(await finalOf("alice")).toBe(486);
    expect(await finalOf("alice")).toBe(200);

    const j = ctl(s.admin, ["journal", "--method", "INVITE"]);
    expect(j.status).toBe(0);
    expect(j.stdout).toMatch(/<- udp:127\.0\.0\.1:\d+ INVITE \S+ \[override rule 1 "override o1"\]\n/);
    expect(j.stdout).toMatch(/-> udp:127\.0\.0\.1:\d+ 486 Busy Here \S+ \[override rule 1 "override o1"\]\n/);
    expect(j.stdout).toMatch(/-> udp:127\.0\.0\.1:\d+ 200 OK \S+ \[dial-a-code rule 2 "built-in UAS"\]\n/);

    expect(ctl(s.admin, ["reset"]).stdout).toBe("journal cleared, overrides removed, scenario reset\n");
    // Only the retransmissions still running (this client never ACKs) come after the reset.
    const after = ctl(s.admin, ["journal"])
      .stdout.split("\n")
      .filter((l) => l !== "");
    expect(after.filter((l) => !l.endsWith("(retransmission)"))).toEqual([]);
    await c.close();
    s.child.kill("SIGTERM");
  });

  it("journal --follow prints new messages as they arrive", async () => {
    const s = await serveWithAdmin();
    const follower = spawn(process.execPath, [BIN, "ctl", "--admin", s.admin, "journal", "--follow"], {
      cwd: ROOT,
    });
    let out = "";
    follower.stdout.on("data", (d) => (out += d));
    const target = { host: "127.0.0.1", port: s.port };
    const c = await udpClient(target);
    await c.send(request("OPTIONS", "bob", target, { localPort: c.port, callId: "follow-me@test" }));
    await waitForOutput(() => out, /-> udp:127\.0\.0\.1:\d+ 200 OK follow-me@test/);
    expect(out).toMatch(/<- udp:127\.0\.0\.1:\d+ OPTIONS follow-me@test/);
    follower.kill();
    await c.close();
    s.child.kill("SIGTERM");
  });

  it("scenario FILE swaps the scenario; an invalid one is refused with its problems", async () => {
    const s = await serveWithAdmin();
    expect(ctl(s.admin, ["scenario", "scenarios/busy.yaml"]).stdout).toBe("scenario now: busy\n");
    const bad = ctl(s.admin, ["scenario", "test/fixtures/scenarios/bad-top.yaml"]);
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim().split("\n")).toEqual([
      'sipmock: PUT /__admin/scenario: Invalid scenario: inline:1:1: missing "rules"; fix: rules: [ ... ]',
      'inline:2:1: unknown key "rulez"; fix: did you mean "rules"?',
    ]);
    s.child.kill("SIGTERM");
  });

  it("a bearer token is required when the server has one", async () => {
    const s = await serveWithAdmin(["--admin-token", "t0ken"]);
    const denied = ctl(s.admin, ["overrides"]);
    expect(denied.status).toBe(1);
    expect(denied.stderr.trim()).toMatch(
      /^sipmock: GET \/__admin\/overrides: Unauthorized: send Authorization: Bearer <token>/,
    );
    expect(ctl(s.admin, ["--token", "t0ken", "overrides"]).status).toBe(0);
    expect(ctl(s.admin, ["overrides"], { SIPMOCK_ADMIN_TOKEN: "t0ken" }).status).toBe(0);
    s.child.kill("SIGTERM");
  });

  it("no server: one line saying how to start one, exit 1", async () => {
    const port = await freeUdpPort();
    const r = ctl(`http://127.0.0.1:${port}`, ["reset"]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split("\n")).toEqual([
      `sipmock: cannot reach the admin API at http://127.0.0.1:${port} (ECONNREFUSED); start the server with --admin PORT`,
    ]);
  });
});
