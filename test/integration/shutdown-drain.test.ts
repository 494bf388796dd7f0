/**
 * SIGINT/SIGTERM while an INVITE is pending: the drain gives it a final
 * answer, 503 Service Unavailable with Retry-After (RFC 3261 21.5.4), so the
 * client is not left to time out. SIPp is the caller; the mock is the CLI.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { silentLogger, startSipMock } from "../../src/index.js";
import { start, waitForOutput } from "../helpers/cli.js";
import { header, request, statusOf, udpClient } from "../helpers/wire-client.js";
import {
  type FinalCheck,
  headerOfText,
  ringThenFinalScenario,
  runSipp,
  statusOfText,
} from "../peers/sipp.js";

const dir = mkdtempSync(join(tmpdir(), "sipmock-drain-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SHUTDOWN_503: FinalCheck = {
  code: 503,
  reason: "Service Unavailable",
  headers: ["Retry-After", "Warning"],
};

/**
 * `sipmock serve ARGS`; SIPp calls sip:USER@ and, once the 180 went out,
 * the CLI gets `signal`. Resolves with SIPp's result and the CLI's exit code.
 */
async function callThenSignal(args: string[], user: string, final: FinalCheck, signal: NodeJS.Signals) {
  const s = await start(["serve", "--listen", "udp:127.0.0.1:0", "--log-level", "info", ...args]);
  const exit = new Promise<number | null>((r) => s.child.on("exit", (code) => r(code)));
  const sipp = runSipp({
    scenarioXml: ringThenFinalScenario(user, { code: 180, reason: "Ringing" }, final),
    target: `127.0.0.1:${s.port}`,
    transport: "u1",
  });
  try {
    await waitForOutput(s.output, /-> udp:\S+ 180 Ringing/);
  } catch (e) {
    s.child.kill("SIGKILL");
    throw e;
  }
  s.child.kill(signal);
  const r = await sipp;
  return { r, code: await exit, output: s.output() };
}

function finalOf(r: Awaited<ReturnType<typeof runSipp>>): string {
  return r.parsed.find((m) => m.direction === "received" && statusOfText(m.text) >= 200)?.text ?? "";
}

describe("shutdown drain answers pending INVITEs", () => {
  it("SIGINT while sip:180@ rings: SIPp gets 503 with Retry-After: 5 and a Warning, ACKs it; the CLI exits 0", async () => {
    const { r, code, output } = await callThenSignal([], "180", SHUTDOWN_503, "SIGINT");
    expect(r.exitCode, `${r.summary}\n${output}`).toBe(0);
    const final = finalOf(r);
    expect(headerOfText(final, "Retry-After")).toBe("5");
    expect(headerOfText(final, "Warning")).toMatch(/^399 \S+ "sipmock is shutting down"$/);
    expect(code).toBe(0);
    // The 503 was acknowledged within the drain: the ACK reached the mock.
    expect(output).toMatch(/<- udp:\S+ ACK /);
  });

  it("SIGTERM with a planned answer longer than --drain-timeout: 503 at the drain's end", async () => {
    const file = join(dir, "slow.yaml");
    writeFileSync(
      file,
      "name: slow\nrules:\n  - match: { method: INVITE }\n    steps: [{ send: 180 }, { wait: 20s }, { respond: 486 }]\n  - default: true\n",
    );
    const { r, code, output } = await callThenSignal(
      ["--scenario", file, "--drain-timeout", "300"],
      "bob",
      SHUTDOWN_503,
      "SIGTERM",
    );
    expect(r.exitCode, `${r.summary}\n${output}`).toBe(0);
    expect(code).toBe(0);
  });

  it("a planned answer that comes within the drain is sent as planned, not replaced", async () => {
    const file = join(dir, "soon.yaml");
    writeFileSync(
      file,
      "name: soon\nrules:\n  - match: { method: INVITE }\n    steps: [{ send: 180 }, { wait: 500ms }, { respond: 486 }]\n  - default: true\n",
    );
    const { r, code, output } = await callThenSignal(
      ["--scenario", file, "--drain-timeout", "5000"],
      "bob",
      { code: 486, reason: "Busy Here" },
      "SIGTERM",
    );
    expect(r.exitCode, `${r.summary}\n${output}`).toBe(0);
    expect(code).toBe(0);
  });
});

describe("mock.close(drainMs)", () => {
  it("close(0) while sip:180@ rings: the 503 goes out before the socket closes", async () => {
    const mock = await startSipMock({ listen: ["udp:127.0.0.1:0"], logger: silentLogger });
    const udp = mock.address("udp");
    const c = await udpClient(udp);
    try {
      await c.send(request("INVITE", "180", udp, { localPort: c.port }));
      await c.waitFor((m) => statusOf(m) === 180);
      await mock.close(0);
      const final = await c.waitFor((m) => statusOf(m) >= 200);
      expect(final.text.split("\r\n")[0]).toBe("SIP/2.0 503 Service Unavailable");
      expect(header(final, "Retry-After")).toBe("5");
    } finally {
      await c.close();
      await mock.close();
    }
  });

  it("during the drain a new OPTIONS gets the stateless 503 with Retry-After; an in-flight INVITE still gets its planned answer", async () => {
    const file = join(dir, "held.yaml");
    writeFileSync(
      file,
      "name: held\nrules:\n  - match: { method: INVITE }\n    steps: [{ send: 180 }, { wait: 1500ms }, { respond: 486 }]\n  - default: true\n",
    );
    const mock = await startSipMock({ listen: ["udp:127.0.0.1:0"], logger: silentLogger, scenario: file });
    const udp = mock.address("udp");
    const c = await udpClient(udp);
    try {
      await c.send(request("INVITE", "bob", udp, { localPort: c.port, callId: "held-invite" }));
      await c.waitFor((m) => statusOf(m) === 180);
      const closed = mock.close(10_000);
      await c.send(request("OPTIONS", "bob", udp, { localPort: c.port, callId: "during-drain" }));
      const refused = await c.waitFor((m) => header(m, "Call-ID") === "during-drain");
      expect(refused.text.split("\r\n")[0]).toBe("SIP/2.0 503 Service Unavailable");
      expect(header(refused, "Retry-After")).toBe("5");
      expect(header(refused, "Warning")).toMatch(/"sipmock is shutting down"$/);
      expect(header(refused, "To")).toMatch(/;tag=[0-9a-f]+/);
      const planned = await c.waitFor((m) => header(m, "Call-ID") === "held-invite" && statusOf(m) >= 200);
      expect(statusOf(planned)).toBe(486);
      await closed;
    } finally {
      await c.close();
      await mock.close();
    }
  });
});
