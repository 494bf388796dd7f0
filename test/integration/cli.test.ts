/** The `sipmock` binary as a user runs it (built output, `npm test` builds first). */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { freeUdpPort, run, SCENARIOS, start, waitForOutput } from "../helpers/cli.js";
import { header, request, statusOf, udpClient } from "../helpers/wire-client.js";

describe("sipmock CLI", () => {
  it("codes --json lists the catalogue with the documented fields", () => {
    const r = run(["codes", "--json"]);
    expect(r.status).toBe(0);
    const codes = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    const busy = codes.find((c) => c.code === 486)!;
    expect(busy).toMatchObject({ reason: "Busy Here", rfc: "RFC 3261", status: "current" });
    expect(Array.isArray(busy.requiredHeaders)).toBe(true);
    expect(codes.find((c) => c.code === 405)!.requiredHeaders).toContain("Allow");
  });

  it("codes --class 6 prints only 6xx", () => {
    const r = run(["codes", "--class", "6"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("603");
    expect(r.stdout).not.toMatch(/\b486\b/);
  });

  it.each([
    [["respond", "999"], /response code/],
    [["serve", "--listen", "udp:nowhere"], /TRANSPORT:HOST:PORT/],
    [["serve", "--listne", "udp:127.0.0.1:5060"], /unknown option/],
    [["codes", "--class", "9"], /class from 1 to 6/],
    [["respond", "486", "--header", "NoColon"], /Name: value/],
    [["respond", "180", "--method", "OPTIONS"], /RFC 4320/],
    [["respond", "499"], /not in the catalogue: give it a reason phrase, e\.g\. --reason/],
  ])("bad flags %j: one-line error and exit code 2", (args, message) => {
    const r = run(args);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });

  it("respond 503 --header answers INVITE with 503 and the header, prints the banner, exits 0 on SIGTERM", async () => {
    const port = await freeUdpPort();
    const s = await start([
      "respond",
      "503",
      "--header",
      "Retry-After: 120",
      "--listen",
      `udp:127.0.0.1:${port}`,
    ]);
    expect(s.output()).toMatch(/INVITE -> 503/);
    const c = await udpClient({ host: "127.0.0.1", port: s.port });
    await c.send(request("INVITE", "anyone", { host: "127.0.0.1", port: s.port }, { localPort: c.port }));
    const r = await c.waitFor((m) => statusOf(m) >= 200);
    expect(r.text.split("\r\n")[0]).toBe("SIP/2.0 503 Service Unavailable");
    expect(r.text).toContain("\r\nRetry-After: 120\r\n");
    // The rest still gets the built-in behaviour.
    await c.send(request("OPTIONS", "anyone", { host: "127.0.0.1", port: s.port }, { localPort: c.port }));
    await c.waitFor((m) => statusOf(m) === 200);
    await c.close();
    await new Promise((r) => setTimeout(r, 100));
    expect(s.output()).toMatch(/<- udp:127\.0\.0\.1:\d+ INVITE call-/);
    expect(s.output()).toMatch(/-> udp:127\.0\.0\.1:\d+ 503 Service Unavailable call-/);
    const exit = new Promise<number | null>((r) => s.child.on("exit", (code) => r(code)));
    s.child.kill("SIGTERM");
    expect(await exit).toBe(0);
  });

  it("a port in use is an error naming the port", async () => {
    const port = await freeUdpPort();
    const first = await start(["serve", "--listen", `udp:127.0.0.1:${port}`]);
    const r = run(["serve", "--listen", `udp:127.0.0.1:${port}`]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`udp:127.0.0.1:${port}: address already in use`);
    const exit = new Promise((r) => first.child.on("exit", r));
    first.child.kill("SIGINT");
    expect(await exit).toBe(0);
  });

  it("validate: every shipped scenario is valid (exit 0)", () => {
    const r = run(["validate", ...["busy", "default", "faults", "auth"].map((n) => `scenarios/${n}.yaml`)]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("scenarios/busy.yaml: ok (1 rules)");
  });

  it("validate: problems as file:line:col: message; fix, exit 1", () => {
    const r = run([
      "validate",
      "test/fixtures/scenarios/bad-top.yaml",
      "test/fixtures/scenarios/bad-env.yaml",
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split("\n")).toEqual([
      'test/fixtures/scenarios/bad-top.yaml:1:1: missing "rules"; fix: rules: [ ... ]',
      'test/fixtures/scenarios/bad-top.yaml:2:1: unknown key "rulez"; fix: did you mean "rules"?',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the expected message quotes a ${VAR:-default} placeholder
      "test/fixtures/scenarios/bad-env.yaml:4:14: environment variable BUSY_CODE is not set; fix: set it, or give a default: ${BUSY_CODE:-value}",
    ]);
  });

  it("serve refuses to start on an invalid scenario, with the same messages", () => {
    const r = run([
      "serve",
      "--scenario",
      "test/fixtures/scenarios/bad-top.yaml",
      "--listen",
      "udp:127.0.0.1:0",
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      'test/fixtures/scenarios/bad-top.yaml:2:1: unknown key "rulez"; fix: did you mean "rules"?',
    );
  });

  it("serve --scenario busy.yaml answers INVITE 486 and says so in the banner", async () => {
    const port = await freeUdpPort();
    const s = await start([
      "serve",
      "--scenario",
      "scenarios/busy.yaml",
      "--listen",
      `udp:127.0.0.1:${port}`,
    ]);
    expect(s.output()).toContain("scenario: busy");
    expect(s.output()).toContain("1 busy: INVITE -> 486");
    const c = await udpClient({ host: "127.0.0.1", port: s.port });
    await c.send(request("INVITE", "anyone", { host: "127.0.0.1", port: s.port }, { localPort: c.port }));
    expect((await c.waitFor((m) => statusOf(m) >= 200)).text.split("\r\n")[0]).toBe("SIP/2.0 486 Busy Here");
    await c.close();
    const exit = new Promise<number | null>((r) => s.child.on("exit", (code) => r(code)));
    s.child.kill("SIGINT");
    expect(await exit).toBe(0);
  });

  it("serve --min-se lowers the session-timer minimum: 422 with Min-SE below it, 200 above", async () => {
    const port = await freeUdpPort();
    const s = await start(["serve", "--min-se", "2", "--listen", `udp:127.0.0.1:${port}`]);
    const c = await udpClient({ host: "127.0.0.1", port: s.port });
    try {
      const t = { host: "127.0.0.1", port: s.port };
      await c.send(request("INVITE", "alice", t, { localPort: c.port, extra: ["Session-Expires: 1"] }));
      const small = await c.waitFor((m) => statusOf(m) >= 200);
      expect(small.text.split("\r\n")[0]).toBe("SIP/2.0 422 Session Interval Too Small");
      expect(header(small, "Min-SE")).toBe("2");
      // 30 s is below the default 90 s but above --min-se.
      await c.send(request("INVITE", "alice", t, { localPort: c.port, extra: ["Session-Expires: 30"] }));
      const ok = await c.waitFor((m) => statusOf(m) === 200);
      expect(header(ok, "Session-Expires")).toBe("30;refresher=uas");
    } finally {
      await c.close();
      s.child.kill("SIGINT");
    }
  });

  it("serve --ping-interval 300ms sends OPTIONS keep-alives to a registered contact", async () => {
    const port = await freeUdpPort();
    const s = await start(["serve", "--ping-interval", "300ms", "--listen", `udp:127.0.0.1:${port}`]);
    const c = await udpClient({ host: "127.0.0.1", port: s.port });
    try {
      const t = { host: "127.0.0.1", port: s.port };
      await c.send(
        request("REGISTER", "pat", t, {
          localPort: c.port,
          extra: [`Contact: <sip:pat@127.0.0.1:${c.port}>`, "Expires: 600"],
        }),
      );
      await c.waitFor((m) => statusOf(m) === 200);
      const ping = await c.waitFor((m) => m.text.startsWith("OPTIONS "), 2000);
      expect(ping.text.split("\r\n")[0]).toBe(`OPTIONS sip:pat@127.0.0.1:${c.port} SIP/2.0`);
    } finally {
      await c.close();
      s.child.kill("SIGINT");
    }
  });

  it("serve --watch reloads a changed scenario, and keeps the previous one when the change is invalid", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sipmock-watch-"));
    try {
      const file = join(dir, "live.yaml");
      copyFileSync(join(SCENARIOS, "busy.yaml"), file);
      const port = await freeUdpPort();
      const s = await start(["serve", "--scenario", file, "--watch", "--listen", `udp:127.0.0.1:${port}`]);
      const target = { host: "127.0.0.1", port: s.port };
      const c = await udpClient(target);
      const finalTo = async () => {
        const n = c.received.length;
        await c.send(request("INVITE", "anyone", target, { localPort: c.port }));
        return (await c.waitFor((m) => c.received.indexOf(m) >= n && statusOf(m) >= 200)).text.split(
          "\r\n",
        )[0];
      };
      expect(await finalTo()).toBe("SIP/2.0 486 Busy Here");
      copyFileSync(join(SCENARIOS, "decline.yaml"), file);
      await waitForOutput(s.output, /scenario reloaded/);
      expect(await finalTo()).toBe("SIP/2.0 603 Decline");
      writeFileSync(file, "rules:\n  - respnd: 486\n");
      await waitForOutput(s.output, /reload refused/);
      expect(s.output()).toContain(`${file}:2:5: unknown key "respnd"; fix: did you mean "respond"?`);
      expect(await finalTo()).toBe("SIP/2.0 603 Decline");
      await c.close();
      const exit = new Promise<number | null>((r) => s.child.on("exit", (code) => r(code)));
      s.child.kill("SIGTERM");
      expect(await exit).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("serve --listen tls: prints the self-signed certificate's SHA-256 fingerprint", async () => {
    const port = await freeUdpPort();
    const s = await start([
      "serve",
      "--listen",
      `udp:127.0.0.1:${port}`,
      "--listen",
      "tls:127.0.0.1:0",
      "--tls-host",
      "sip.example.test",
    ]);
    expect(s.output()).toMatch(
      /listening on udp:127\.0\.0\.1:\d+, tls:127\.0\.0\.1:\d+\n {2}TLS certificate \(self-signed\): SHA-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}\n/,
    );
    const exit = new Promise<number | null>((r) => s.child.on("exit", (code) => r(code)));
    s.child.kill("SIGTERM");
    expect(await exit).toBe(0);
  });

  it("--cert without --key, or a file that is not a certificate: one line, exit 2", () => {
    const a = run(["serve", "--listen", "tls:127.0.0.1:0", "--cert", "README.md"]);
    expect(a.status).toBe(2);
    expect(a.stderr.trim()).toBe("sipmock: --cert and --key go together");
    const b = run(["serve", "--listen", "tls:127.0.0.1:0", "--cert", "README.md", "--key", "README.md"]);
    expect(b.status).toBe(2);
    expect(b.stderr.trim()).toMatch(/^sipmock: README\.md is not a PEM certificate/);
  });
});
