/**
 * Issue 12: the UDP socket's receive and send buffers are sized (default
 * 4 MiB / 1 MiB, --udp-recv-buffer / --udp-send-buffer), what the kernel
 * granted is what `ss` shows on the socket, and a cap by net.core.rmem_max
 * is said in the log.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { run, start } from "../helpers/cli.js";
import { request, statusOf, udpClient } from "../helpers/wire-client.js";

const children: Array<{ kill(): void }> = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill();
});

const rmemMax = Number(readFileSync("/proc/sys/net/core/rmem_max", "utf8").trim());
const wmemMax = Number(readFileSync("/proc/sys/net/core/wmem_max", "utf8").trim());

/** The socket memory `ss -m` reports for a UDP port: rb (receive) and tb (send), as the kernel keeps them. */
function skmem(port: number): { rb: number; tb: number } {
  const out = execFileSync("ss", ["-uanmH", `sport = :${port}`], { encoding: "utf8" });
  const rb = /\brb(\d+)/.exec(out)?.[1];
  const tb = /\btb(\d+)/.exec(out)?.[1];
  if (!rb || !tb) throw new Error(`no socket memory for port ${port} in: ${out}`);
  return { rb: Number(rb), tb: Number(tb) };
}

async function serve(args: string[]) {
  const s = await start(["serve", "--listen", "udp:127.0.0.1:0", "--log-level", "warn", ...args]);
  children.push(s.child);
  return s;
}

describe("UDP socket buffers", () => {
  it("asks 4 MiB / 1 MiB by default; Linux keeps twice what it granted (up to the sysctls)", async () => {
    const s = await serve([]);
    const { rb, tb } = skmem(s.port);
    expect(rb).toBe(2 * Math.min(4 * 1024 * 1024, rmemMax));
    expect(tb).toBe(2 * Math.min(1024 * 1024, wmemMax));
    const client = await udpClient({ host: "127.0.0.1", port: s.port });
    await client.send(
      request("OPTIONS", "x", { host: "127.0.0.1", port: s.port }, { localPort: client.port }),
    );
    const answer = await client.waitFor((r) => statusOf(r) > 0);
    expect(statusOf(answer)).toBe(200);
    await client.close();
  });

  it("--udp-recv-buffer above net.core.rmem_max: the kernel's cap is said once in the log", async () => {
    const asked = rmemMax * 2;
    const s = await serve(["--udp-recv-buffer", String(asked)]);
    expect(skmem(s.port).rb).toBe(2 * rmemMax);
    expect(s.output()).toContain(
      `UDP receive buffer: asked ${asked} octets, the kernel granted ${rmemMax} (capped by net.core.rmem_max; raise it with sysctl -w net.core.rmem_max=${asked})`,
    );
  });

  it("--udp-recv-buffer 256KiB is what the socket gets, without a warning", async () => {
    const s = await serve(["--udp-recv-buffer", "256KiB"]);
    expect(skmem(s.port).rb).toBe(2 * 256 * 1024);
    expect(s.output()).not.toContain("UDP receive buffer");
  });

  it("a bad size is a one-line error with the fix, exit 2", () => {
    const r = run(["serve", "--udp-recv-buffer", "12XB"]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("expected a size such as 212992, 512KiB or 8MiB");
  });
});
