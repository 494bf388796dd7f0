/**
 * docker/compose.yaml brought up with podman-compose: sipmock built from
 * docker/Dockerfile beside the softphone under test (baresip, built from
 * docker/softphone), which finds the mock by its service name. Both images
 * are built on the locally made base (NODE_IMAGE, DEBIAN_IMAGE).
 * The compose file publishes 5060 and 127.0.0.1:8080 on the host.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { exec, podman, podmanOk, removeConf, removeImages } from "./podman.js";

const PROJECT = `sipmockcompose${process.pid}`;
const COMPOSE = ["-p", PROJECT, "-f", "docker/compose.yaml"];
const MOCK = `${PROJECT}_sipmock_1`;
const ADMIN = "http://127.0.0.1:8080";

interface Entry {
  direction: "in" | "out";
  method?: string;
  status?: number;
  callId: string;
  raw: string;
}

async function journal(): Promise<Entry[]> {
  const res = await fetch(`${ADMIN}/__admin/journal`);
  expect(res.status).toBe(200);
  return (await res.json()) as Entry[];
}

/** Polls the journal until `test` holds (bounded); the journal is in the error otherwise. */
async function journalUntil(what: string, test: (entries: Entry[]) => boolean, timeoutMs = 60_000) {
  const end = Date.now() + timeoutMs;
  let entries: Entry[] = [];
  for (;;) {
    entries = await journal().catch(() => []);
    if (test(entries)) return entries;
    if (Date.now() > end) {
      const lines = entries.map((e) => `${e.direction} ${e.method ?? e.status} ${e.callId}`).join("\n");
      throw new Error(`${what} within ${timeoutMs} ms; journal:\n${lines}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** "in INVITE", "out 486"... of one call. */
function flow(entries: Entry[], callId: string): string[] {
  return entries.filter((e) => e.callId === callId).map((e) => `${e.direction} ${e.method ?? e.status}`);
}

beforeAll(async () => {
  const base = inject("containerBase");
  // --layers=false: no intermediate images left behind.
  const up = await exec(
    "podman-compose",
    ["--podman-build-args=--layers=false", ...COMPOSE, "up", "-d", "--build"],
    15 * 60_000,
    {
      NODE_IMAGE: base,
      DEBIAN_IMAGE: base,
    },
  );
  expect(up.code, up.stdout.slice(-3000) + up.stderr.slice(-3000)).toBe(0);
  const running = await podmanOk([
    "ps",
    "--filter",
    `label=io.podman.compose.project=${PROJECT}`,
    "--format",
    "{{.Names}}",
  ]);
  expect(running.split("\n").filter(Boolean).sort(), up.stdout.slice(-3000)).toEqual(
    [MOCK, `${PROJECT}_softphone_1`].sort(),
  );
}, 20 * 60_000);

afterAll(async () => {
  await exec("podman-compose", [...COMPOSE, "down", "-t", "0"], 120_000);
  await podman(["network", "rm", "--force", `${PROJECT}_default`]);
  await removeImages(["localhost/sipmock:latest", `localhost/${PROJECT}_softphone:latest`]);
  removeConf();
}, 180_000);

describe("docker/compose.yaml: sipmock beside a softphone under test", () => {
  it("the softphone registers at sipmock by service name and its call to sip:486@sipmock gets 486", async () => {
    const entries = await journalUntil("REGISTER 200 and INVITE 486 ACK", (all) => {
      const registered = all.some(
        (e) => e.direction === "out" && e.status === 200 && /CSeq: \d+ REGISTER/.test(e.raw),
      );
      const invite = all.find((e) => e.direction === "in" && e.method === "INVITE");
      return registered && invite !== undefined && flow(all, invite.callId).includes("in ACK");
    });
    const invite = entries.find((e) => e.direction === "in" && e.method === "INVITE")!;
    expect(invite.raw).toMatch(/^INVITE sip:486@sipmock SIP\/2\.0\r\n/);
    expect(flow(entries, invite.callId).filter((l) => !l.endsWith(" 100"))).toEqual([
      "in INVITE",
      "out 486",
      "in ACK",
    ]);
  });

  it("the mock calls the softphone at the Contact it registered (sipmock ctl call alice) and it answers", async () => {
    const out = await podmanOk(["exec", MOCK, "sipmock", "ctl", "call", "alice", "--hang-up-after", "1s"]);
    expect(out).toMatch(/^alice: .*\b200 /);
    const callId = /Call-ID (\S+)\)/.exec(out)?.[1];
    expect(callId).toBeDefined();
    await journalUntil("the mock's BYE answered", (all) =>
      flow(all, callId!).join(",").includes("out BYE,in 200"),
    );
  });

  it("sipmock's container is healthy", async () => {
    const check = await podman(["healthcheck", "run", MOCK]);
    expect(check.code, check.stdout + check.stderr).toBe(0);
  });
});
