/** The `sipmock` binary as a user runs it (built output, `npm test` builds first). */
import { mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { freeUdpPort, run, start, waitForOutput } from "../helpers/cli.js";
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

  it("serve --watch follows atomic saves, in-place writes, a delete and re-create; an invalid save keeps the old scenario", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sipmock-watch-"));
    try {
      const file = join(dir, "live.yaml");
      const answering = (code: number) =>
        `name: answer ${code}\nrules:\n  - match: { method: INVITE }\n    respond: ${code}\n`;
      writeFileSync(file, answering(486));
      const port = await freeUdpPort();
      const s = await start(["serve", "--scenario", file, "--watch", "--listen", `udp:127.0.0.1:${port}`]);
      const target = { host: "127.0.0.1", port: s.port };
      const c = await udpClient(target);
      const finalTo = async () => {
        const n = c.received.length;
        await c.send(request("INVITE", "anyone", target, { localPort: c.port }));
        return statusOf(await c.waitFor((m) => c.received.indexOf(m) >= n && statusOf(m) >= 200));
      };
      /** Waits for the n-th "scenario reloaded" line, then checks the answer. */
      let reloads = 0;
      const reloadedTo = async (code: number) => {
        reloads++;
        await waitForOutput(s.output, new RegExp(`(scenario reloaded[^]*){${reloads}}`));
        expect(await finalTo()).toBe(code);
      };
      expect(await finalTo()).toBe(486);
      // Atomic saves (what sed -i, mv and editors' safe-save do), several in a row.
      let n = 0;
      const atomicSave = (text: string) => {
        const tmp = join(dir, `.live.yaml.${++n}.tmp`);
        writeFileSync(tmp, text);
        renameSync(tmp, file);
      };
      for (const code of [603, 480, 404]) {
        atomicSave(answering(code));
        await reloadedTo(code);
      }
      // In-place write.
      writeFileSync(file, answering(488));
      await reloadedTo(488);
      // Delete, then re-create.
      unlinkSync(file);
      await waitForOutput(s.output, /live\.yaml is gone; still serving the previous scenario/);
      expect(await finalTo()).toBe(488);
      writeFileSync(file, answering(410));
      await reloadedTo(410);
      // An invalid save: said why, the previous scenario keeps answering.
      atomicSave("rules:\n  - respnd: 486\n");
      await waitForOutput(s.output, /reload refused/);
      expect(s.output()).toContain(`${file}:2:5: unknown key "respnd"; fix: did you mean "respond"?`);
      expect(await finalTo()).toBe(410);
      // And the next good save after it still reloads.
      atomicSave(answering(486));
      await reloadedTo(486);
      await c.close();
      const exit = new Promise<number | null>((r) => s.child.on("exit", (code) => r(code)));
      s.child.kill("SIGTERM");
      expect(await exit).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [
      ["serve", "--watch"],
      "sipmock: --watch reloads scenario files: give one with --scenario FILE, or drop --watch",
    ],
    [
      ["respond", "486", "--watch"],
      "sipmock: --watch reloads scenario files: give one with --scenario FILE, or drop --watch",
    ],
    [
      ["serve", "--scenario", "scenarios/busy.yaml", "--junit", "out.xml"],
      "sipmock: --junit writes the verdict of --until-expectations: add --until-expectations, or drop --junit",
    ],
  ])("%j is an error, not a silent no-op (exit 2)", (args, message) => {
    const r = run([...args, "--listen", "udp:127.0.0.1:0"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`${message}\n`);
  });

  it("the banner numbers merged rules once, and prints where it listens even at --log-level error", async () => {
    const port = await freeUdpPort();
    const s = await start(["respond", "486", "--log-level", "error", "--listen", `udp:127.0.0.1:${port}`]);
    try {
      expect(s.output()).toContain(`listening on udp:127.0.0.1:${port}\n`);
      expect(s.output()).toMatch(
        /\n {4}1 respond 486: INVITE -> 486\n {4}2 built-in UAS: any request -> built-in behaviour\n/,
      );
    } finally {
      s.child.kill("SIGTERM");
    }
  });

  it("faults in the console: every one labelled a fault, garbage octets escaped, no control characters", async () => {
    const port = await freeUdpPort();
    const s = await start([
      "serve",
      "--scenario",
      "scenarios/faults.yaml",
      "--verbose",
      "--listen",
      `udp:127.0.0.1:${port}`,
    ]);
    const target = { host: "127.0.0.1", port: s.port };
    const c = await udpClient(target);
    try {
      for (const user of ["garbage", "truncated", "badstart", "duplicate"]) {
        await c.send(request("INVITE", user, target, { localPort: c.port, callId: `${user}@faults` }));
      }
      await waitForOutput(s.output, /duplicate@faults: fault: duplicate/);
      await waitForOutput(s.output, /garbage@faults: fault: garbage/);
      const out = s.output();
      expect(out).toMatch(/ garbage@faults: fault: garbage \(64 random octets instead of the 200\)\n/);
      expect(out).toMatch(/ truncated@faults: fault: truncate \(the 486 cut after 40 octets\)\n/);
      expect(out).toMatch(/ badstart@faults: fault: malformed \(the 486's start-line broken\)\n/);
      expect(out).toMatch(/ duplicate@faults: fault: duplicate \(the 486 sent 2 more time\(s\)\)\n/);
      // --verbose prints the 64 random octets whole: escaped: nothing but printable ASCII, tabs and line breaks.
      expect(out).toMatch(/\\x[0-9a-f]{2}/);
      expect(out).not.toMatch(/[^\x20-\x7e\n\t]/);
    } finally {
      await c.close();
      s.child.kill("SIGTERM");
    }
  });

  it("a missing or directory scenario path is said plainly, without a position", () => {
    const serve = run(["serve", "--scenario", "no-such.yaml", "--listen", "udp:127.0.0.1:0"]);
    expect(serve.status).toBe(1);
    expect(serve.stderr).toBe("no-such.yaml: no such file; fix: check the path\n");
    const validate = run(["validate", "no-such.yaml", "scenarios"]);
    expect(validate.status).toBe(1);
    expect(validate.stderr.trim().split("\n")).toEqual([
      "no-such.yaml: no such file; fix: check the path",
      "scenarios: is a directory, not a scenario file; fix: name a YAML file in it",
    ]);
  });

  it("help texts say what the commands do", () => {
    const flat = (args: string[]) => run([...args, "--help"]).stdout.replace(/\s+/g, " ");
    expect(flat(["validate"])).toContain("every problem is printed as file:line:col: message; fix: hint");
    expect(flat(["respond"])).toContain(
      "every other request gets the built-in UAS (registrar, OPTIONS 200, BYE...) without dial-a-code, or the --scenario files when given",
    );
    const timeout = /--timeout <duration> (.*?) --junit/.exec(flat(["serve"]))![1]!;
    expect(timeout).toBe("with --until-expectations: how long to wait (default: 60s)");
    expect(flat(["serve"])).toMatch(/--watch with --scenario: reload the files on every save/);
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
