/**
 * vitest globalSetup of the container test: the engine and the peers must be
 * on PATH. Missing ones are installed when we are root; otherwise the run
 * stops with the one command that installs them. The test never skips.
 */
import { spawnSync } from "node:child_process";

/** Executable -> Debian package. */
const NEEDED: Readonly<Record<string, string>> = {
  podman: "podman",
  // crun refuses cgroup v1 hosts with a populated cgroup2 mount; runc runs there and on cgroup v2.
  runc: "runc",
  debootstrap: "debootstrap",
  sipp: "sip-tester",
  sipsak: "sipsak",
};

function missing(): string[] {
  return Object.entries(NEEDED)
    .filter(([command]) => spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status !== 0)
    .map(([, pkg]) => pkg);
}

export default function setup(): void {
  let absent = missing();
  if (absent.length === 0) return;
  const install = `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${absent.join(" ")}`;
  if (process.getuid?.() === 0) {
    spawnSync("sh", ["-c", install], { stdio: "inherit" });
    absent = missing();
    if (absent.length === 0) return;
  }
  throw new Error(`the container test needs root and: ${install}`);
}
