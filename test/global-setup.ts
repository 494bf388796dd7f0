/**
 * vitest globalSetup: the external peers the integration tests drive must be
 * on PATH. Missing ones are installed when we are root; otherwise the run
 * stops with the one command that installs them. Peer tests never skip.
 */
import { spawnSync } from "node:child_process";

/** Executable -> Debian package. */
const PEERS: Readonly<Record<string, string>> = {
  sipp: "sip-tester",
  tshark: "tshark",
  sipsak: "sipsak",
  // The softphone stack test (baresip run headless; -core has no GUI/video dependencies).
  baresip: "baresip-core",
  // The browser softphone test (JsSIP in headless Chromium, driven by playwright-core).
  chromium: "chromium",
  // A stateful proxy in front of the mock (test/integration/kamailio.test.ts).
  kamailio: "kamailio",
};

function onPath(command: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;
}

function missingPackages(): string[] {
  return Object.entries(PEERS)
    .filter(([command]) => !onPath(command))
    .map(([, pkg]) => pkg);
}

export default function setup(): void {
  let missing = missingPackages();
  if (missing.length === 0) return;
  const install = `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${missing.join(" ")}`;
  if (process.getuid?.() === 0) {
    // tshark's postinst asks whether non-root users may capture; answer no.
    spawnSync(
      "sh",
      [
        "-c",
        "echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections",
      ],
      {
        stdio: "inherit",
      },
    );
    spawnSync("sh", ["-c", install], {
      stdio: "inherit",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
    missing = missingPackages();
    if (missing.length === 0) return;
  }
  const prefix = process.getuid?.() === 0 ? "" : "sudo ";
  throw new Error(
    `${prefix}apt-get update && ${prefix}env DEBIAN_FRONTEND=noninteractive apt-get install -y ${missing.join(" ")}`,
  );
}
