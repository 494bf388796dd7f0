/**
 * vitest globalSetup of the container tests: the engine and the peers must be
 * on PATH. Missing ones are installed when we are root; otherwise the run
 * stops with the one command that installs them. The tests never skip.
 * Then the base image both test files build on is made once (and removed at
 * the end); SIPMOCK_CONTAINER_BASE names an existing one to reuse instead.
 */
import { spawnSync } from "node:child_process";
import type { TestProject } from "vitest/node";
import { buildBase, removeConf, removeImages } from "./podman.js";

declare module "vitest" {
  export interface ProvidedContext {
    containerBase: string;
  }
}

/** Executable -> Debian package. */
const NEEDED: Readonly<Record<string, string>> = {
  podman: "podman",
  // crun refuses cgroup v1 hosts with a populated cgroup2 mount; runc runs there and on cgroup v2.
  runc: "runc",
  debootstrap: "debootstrap",
  "podman-compose": "podman-compose",
  // podman's name resolution on a network (compose service names).
  "/usr/lib/podman/aardvark-dns": "aardvark-dns",
  sipp: "sip-tester",
  sipsak: "sipsak",
};

function missing(): string[] {
  return Object.entries(NEEDED)
    .filter(([command]) => spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status !== 0)
    .map(([, pkg]) => pkg);
}

function ensurePackages(): void {
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

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  ensurePackages();
  const given = process.env.SIPMOCK_CONTAINER_BASE;
  const base = given || `localhost/sipmock-node-base:test-${process.pid}`;
  if (!given) await buildBase(base);
  project.provide("containerBase", base);
  return async () => {
    if (!given) await removeImages([base]);
    removeConf();
  };
}
