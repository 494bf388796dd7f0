/**
 * `sipmock ctl` against a running `sipmock serve --admin`: a person changes
 * the answer without restarting, reads the journal (and follows it), resets.
 */
import { spawn, spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { BIN, ctlAsync, freeUdpPort, ROOT, start, waitForOutput } from "../helpers/cli.js";
import { header, request, responseTo, statusOf, udpClient } from "../helpers/wire-client.js";

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
    // Positions name the file given, not the "inline" text the server was sent.
    expect(bad.stderr.trim().split("\n")).toEqual([
      "sipmock: test/fixtures/scenarios/bad-top.yaml refused; the running scenario stays",
      'test/fixtures/scenarios/bad-top.yaml:1:1: missing "rules"; fix: rules: [ ... ]',
      'test/fixtures/scenarios/bad-top.yaml:2:1: unknown key "rulez"; fix: did you mean "rules"?',
    ]);
    // A missing file or a directory: said plainly, without a made-up position.
    const missing = ctl(s.admin, ["scenario", "no-such.yaml"]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe("sipmock: no-such.yaml: no such file; fix: check the path\n");
    const directory = ctl(s.admin, ["scenario", "scenarios"]);
    expect(directory.status).toBe(1);
    expect(directory.stderr).toBe(
      "sipmock: scenarios: is a directory, not a scenario file; fix: name a YAML file in it\n",
    );
    expect(ctl(s.admin, ["scenario", "scenarios/decline.yaml"]).stdout).toBe("scenario now: decline\n");
    s.child.kill("SIGTERM");
  });

  it("overrides: none is said; one is listed", async () => {
    const s = await serveWithAdmin();
    try {
      expect(ctl(s.admin, ["overrides"])).toMatchObject({ status: 0, stdout: "no overrides\n" });
      ctl(s.admin, ["respond", "486"]);
      expect(ctl(s.admin, ["overrides"]).stdout).toMatch(/^o1 applied 0: \{.*"respond":486.*\}\n$/);
    } finally {
      s.child.kill("SIGTERM");
    }
  });

  it("journal | head -1: ctl ends quietly when the reader goes away (no EPIPE stack trace)", async () => {
    const s = await serveWithAdmin();
    const target = { host: "127.0.0.1", port: s.port };
    const c = await udpClient(target);
    try {
      await c.send(request("OPTIONS", "bob", target, { localPort: c.port, callId: "first@pipe" }));
      await c.waitFor((m) => statusOf(m) === 200);
      const pipeline = spawn(
        "bash",
        [
          "-c",
          `"${process.execPath}" "${BIN}" ctl --admin ${s.admin} journal --follow | head -1; echo "ctl exit \${PIPESTATUS[0]}" >&2`,
        ],
        { cwd: ROOT },
      );
      let stdout = "";
      let stderr = "";
      pipeline.stdout.on("data", (d) => (stdout += d));
      pipeline.stderr.on("data", (d) => (stderr += d));
      let exited = false;
      const exit = new Promise<number | null>((r) =>
        pipeline.on("exit", (code) => {
          exited = true;
          r(code);
        }),
      );
      await waitForOutput(() => stdout, /\n/);
      // head has its line and is gone: ctl's next write (of a new message) meets a closed pipe.
      const deadline = Date.now() + 10_000;
      for (let i = 0; !exited && Date.now() < deadline; i++) {
        await c.send(request("OPTIONS", "bob", target, { localPort: c.port, callId: `more-${i}@pipe` }));
        await Promise.race([exit, new Promise((r) => setTimeout(r, 200))]);
      }
      expect(await exit).toBe(0);
      expect(stdout).toMatch(/^\S+ <- udp:127\.0\.0\.1:\d+ OPTIONS first@pipe \[[^\n]*\]\n$/);
      expect(stderr).toBe("ctl exit 0\n");
    } finally {
      await c.close();
      s.child.kill("SIGTERM");
    }
  });

  it("a bearer token is required when the server has one", async () => {
    const s = await serveWithAdmin(["--admin-token", "t0ken"]);
    const denied = ctl(s.admin, ["overrides"]);
    expect(denied.status).toBe(1);
    // It names ctl's own ways to give the token (ctl has no --admin-token).
    expect(denied.stderr).toBe(
      "sipmock: GET /__admin/overrides: Unauthorized: the server wants its admin token; fix: ctl --token TOKEN, or SIPMOCK_ADMIN_TOKEN=TOKEN\n",
    );
    expect(ctl(s.admin, ["--token", "t0ken", "overrides"]).status).toBe(0);
    expect(ctl(s.admin, ["overrides"], { SIPMOCK_ADMIN_TOKEN: "t0ken" }).status).toBe(0);
    s.child.kill("SIGTERM");
  });

  it("ping, mwi, call, hold, bye: the mock sends the request and ctl prints the client's answer", async () => {
    const s = await serveWithAdmin();
    const target = { host: "127.0.0.1", port: s.port };
    const c = await udpClient(target);
    try {
      await c.send(
        request("REGISTER", "zoe", target, {
          localPort: c.port,
          extra: [`Contact: <sip:zoe@127.0.0.1:${c.port}>`, "Expires: 600"],
        }),
      );
      await c.waitFor((m) => statusOf(m) === 200);
      const isReq = (method: string) => (m: { text: string }) => m.text.startsWith(`${method} `);

      const ping = ctlAsync(s.admin, ["ping", "zoe"]);
      await c.send(responseTo(await c.waitFor(isReq("OPTIONS")), 200, "OK", { toTag: "z1" }));
      expect(await ping).toMatchObject({
        status: 0,
        stdout: `OPTIONS: 200 OK from sip:zoe@127.0.0.1:${c.port}\n`,
      });

      const mwi = ctlAsync(s.admin, ["mwi", "zoe", "yes", "--new", "3"]);
      const notify = await c.waitFor(isReq("NOTIFY"));
      expect(notify.text).toMatch(
        /\r\n\r\nMessages-Waiting: yes\r\nMessage-Account: sip:zoe@example\.test\r\nVoice-Message: 3\/0\r\n$/,
      );
      await c.send(responseTo(notify, 200, "OK", { toTag: "z2" }));
      expect((await mwi).stdout).toBe(`NOTIFY: 200 OK from sip:zoe@127.0.0.1:${c.port}\n`);

      const call = ctlAsync(s.admin, ["call", "zoe", "--from", "voicemail"]);
      const invite = await c.waitFor(isReq("INVITE"));
      expect(header(invite, "From")).toMatch(/^<sip:voicemail@/);
      await c.send(responseTo(invite, 180, "Ringing", { toTag: "z3" }));
      await c.send(
        responseTo(invite, 200, "OK", { toTag: "z3", extra: [`Contact: <sip:zoe@127.0.0.1:${c.port}>`] }),
      );
      const called = await call;
      const callId = header(invite, "Call-ID")!;
      expect(called.stdout).toBe(`zoe: 180, 200 OK from sip:zoe@127.0.0.1:${c.port} (Call-ID ${callId})\n`);
      await c.waitFor(isReq("ACK"));

      const dialogs = await ctlAsync(s.admin, ["dialogs"]);
      expect(dialogs.stdout).toMatch(
        new RegExp(`^${callId.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} local-tag=\\S+ remote-tag=z3\\n$`),
      );
      const registrations = await ctlAsync(s.admin, ["registrations"]);
      expect(registrations.stdout).toMatch(
        new RegExp(`^sip:zoe@example\\.test sip:zoe@127\\.0\\.0\\.1:${c.port} \\(\\d+ s\\)\\n$`),
      );

      const hold = ctlAsync(s.admin, ["hold", callId]);
      const reinvite = await c.waitFor((m) => isReq("INVITE")(m) && m !== invite);
      expect(reinvite.text).toMatch(/\r\na=sendonly\r\n/);
      await c.send(responseTo(reinvite, 200, "OK"));
      expect((await hold).stdout).toBe("REINVITE: 200 OK\n");

      const change = ctlAsync(s.admin, ["reinvite", callId, "--codecs", "PCMA", "--direction", "inactive"]);
      const third = await c.waitFor((m) => isReq("INVITE")(m) && m !== invite && m !== reinvite);
      expect(third.text).toMatch(/\r\nm=audio \d+ RTP\/AVP 8 101\r\n/);
      expect(third.text).toMatch(/\r\na=inactive\r\n/);
      await c.send(responseTo(third, 200, "OK"));
      expect((await change).stdout).toBe("REINVITE: 200 OK\n");

      const bye = ctlAsync(s.admin, ["bye", callId]);
      expect(await bye).toMatchObject({ status: 0, stdout: `BYE sent in 1 dialog(s) of ${callId}\n` });
      await c.send(responseTo(await c.waitFor(isReq("BYE")), 200, "OK"));

      const gone = await ctlAsync(s.admin, ["bye", callId]);
      expect(gone.status).toBe(1);
      expect(gone.stderr.trim().split("\n")).toEqual([
        `sipmock: POST /__admin/calls/${encodeURIComponent(callId)}/bye: Not Found: no dialog with Call-ID ${callId}`,
      ]);
      const nobody = await ctlAsync(s.admin, ["ping", "nobody"]);
      expect(nobody.stderr.trim()).toBe(
        "sipmock: POST /__admin/registrations/nobody/options: Not Found: nobody is not registered",
      );
      const usage = await ctlAsync(s.admin, ["mwi", "zoe", "maybe"]);
      expect(usage.status).toBe(2);
      expect(usage.stderr.trim()).toBe(
        "sipmock: command-argument value 'maybe' is invalid for argument 'waiting'. Allowed choices are yes, no.",
      );
    } finally {
      await c.close();
      s.child.kill("SIGTERM");
    }
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
