/**
 * The RTP port the mock's SDP names: by default the call's real RTP port
 * (ephemeral, or within --rtp-ports); `--media-port` or the scenario's
 * `mediaPort:` switch media off (signalling only) and name that port. SIPp
 * places the call against the real CLI and the answer it receives names
 * the port.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { silentLogger, startSipMock } from "../../src/index.js";
import { run, start } from "../helpers/cli.js";
import { ackFor, header, request, responseTo, statusOf, udpClient } from "../helpers/wire-client.js";
import { answeredCallScenario, runSipp, statusOfText } from "../peers/sipp.js";

const dir = mkdtempSync(join(tmpdir(), "sipmock-media-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The m=audio port of the 200 SIPp received from `sipmock serve ARGS`. */
async function answeredPort(args: string[]): Promise<number> {
  const s = await start(["serve", "--listen", "udp:127.0.0.1:0", ...args]);
  try {
    const r = await runSipp({
      scenarioXml: answeredCallScenario("alice"),
      target: `127.0.0.1:${s.port}`,
      transport: "u1",
    });
    expect(r.exitCode, r.summary).toBe(0);
    const ok = r.parsed.find((m) => m.direction === "received" && statusOfText(m.text) === 200)!;
    const m = /\r?\nm=audio (\d+) RTP\/AVP /.exec(ok.text);
    expect(m, ok.text).not.toBeNull();
    return Number(m![1]);
  } finally {
    const exit = new Promise((r) => s.child.on("exit", r));
    s.child.kill("SIGTERM");
    await exit;
  }
}

function scenarioFile(name: string, mediaPort: number | string): string {
  const file = join(dir, name);
  writeFileSync(file, `name: media\nmediaPort: ${mediaPort}\nrules:\n  - name: uas\n    default: true\n`);
  return file;
}

describe("media port in the SDP answer", () => {
  it("default: a real port (within --rtp-ports); --media-port N; the scenario's mediaPort:; the flag wins over the scenario", async () => {
    const real = await answeredPort(["--rtp-ports", "32000-32099"]);
    expect(real).toBeGreaterThanOrEqual(32000);
    expect(real).toBeLessThanOrEqual(32099);
    expect(await answeredPort(["--media-port", "41000"])).toBe(41000);
    const file = scenarioFile("ok.yaml", 42000);
    expect(await answeredPort(["--scenario", file])).toBe(42000);
    expect(await answeredPort(["--scenario", file, "--media-port", "41000"])).toBe(41000);
  });

  it("--rtp-ports must be a range within 1024-65535: a one-line usage error (exit 2)", () => {
    for (const bad of ["20000", "20000-20000", "80-90", "20000-70000", "a-b"]) {
      const r = run(["serve", "--rtp-ports", bad]);
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(/--rtp-ports.*expected a port range like 20000-20999/);
    }
  });

  it("flags that cannot work together: --pcap-rtp without --pcap, --media-port with --rtp-ports", () => {
    const a = run(["serve", "--pcap-rtp"]);
    expect(a.status).toBe(2);
    expect(a.stderr).toMatch(/--pcap-rtp adds RTP to the --pcap capture: add --pcap FILE/);
    const b = run(["serve", "--media-port", "4000", "--rtp-ports", "20000-20999"]);
    expect(b.status).toBe(2);
    expect(b.stderr).toMatch(/--media-port turns media off/);
  });

  it("--media-port outside 1..65535 is a one-line usage error (exit 2)", () => {
    for (const bad of ["0", "65536", "abc"]) {
      const r = run(["serve", "--media-port", bad]);
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(/--media-port.*expected a port from 1 to 65535/);
    }
  });

  it("a scenario's mediaPort out of range is refused at its line and column", () => {
    const file = scenarioFile("bad.yaml", 70000);
    const r = run(["validate", file]);
    expect(r.status).toBe(1);
    expect(r.stderr + r.stdout).toMatch(/bad\.yaml:2:12: .*65535/);
  });
});

describe("startSipMock({ mediaPort })", () => {
  const audioPort = (text: string) => Number(/\r\nm=audio (\d+) /.exec(text)?.[1]);

  it("names the port in its answer and in its own re-INVITE offer; the scenario key applies without the option", async () => {
    await using mock = await startSipMock({
      listen: ["udp:127.0.0.1:0"],
      logger: silentLogger,
      mediaPort: 43000,
    });
    const udp = mock.address("udp");
    const c = await udpClient(udp);
    try {
      const call = async (callId: string) => {
        await c.send(
          request("INVITE", "alice", udp, {
            localPort: c.port,
            callId,
            extra: [`Contact: <sip:caller@127.0.0.1:${c.port}>`],
          }),
        );
        const ok = await c.waitFor((r) => statusOf(r) === 200 && header(r, "Call-ID") === callId);
        await c.send(ackFor(ok, udp, { localPort: c.port }));
        await expect.poll(() => mock.dialogs().find((d) => d.callId === callId)?.confirmed).toBe(true);
        const pending = mock.reinvite(callId, "sendonly");
        const offer = await c.waitFor((r) => r.text.startsWith("INVITE ") && header(r, "Call-ID") === callId);
        await c.send(responseTo(offer, 200, "OK"));
        await pending;
        mock.bye(callId);
        return [audioPort(ok.text), audioPort(offer.text)];
      };
      expect(await call(`media-a-${process.pid}`)).toEqual([43000, 43000]);
    } finally {
      await c.close();
    }
    await expect(startSipMock({ listen: ["udp:127.0.0.1:0"], mediaPort: 0 })).rejects.toThrow(/1 to 65535/);
  });

  it("the scenario's mediaPort: when no option is given", async () => {
    await using mock = await startSipMock({ listen: ["udp:127.0.0.1:0"], logger: silentLogger });
    mock.setScenario("name: m\nmediaPort: 44000\nrules:\n  - default: true\n");
    const udp = mock.address("udp");
    const c = await udpClient(udp);
    try {
      await c.send(request("INVITE", "alice", udp, { localPort: c.port }));
      const ok = await c.waitFor((r) => statusOf(r) === 200);
      expect(audioPort(ok.text)).toBe(44000);
      await c.send(ackFor(ok, udp, { localPort: c.port }));
    } finally {
      await c.close();
    }
  });
});
