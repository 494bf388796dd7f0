/**
 * The container image of docker/Dockerfile, built and run with podman: a
 * non-root user, every README port published and answering through the port
 * mapping (OPTIONS from sipsak, SIPp's own uac call whose Via has no rport,
 * TLS, WebSocket), --force-rport on by default (and what goes wrong without
 * it), the HEALTHCHECK, `respond CODE` keeping the container defaults.
 * Run by `npm run test:container` (root, podman, debootstrap, runc; CI: .ci/run).
 */
import { spawnSync } from "node:child_process";
import { connect as tlsConnect } from "node:tls";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import WebSocket from "ws";
import { header, request, statusOf, udpClient, type WireClient } from "../helpers/wire-client.js";
import { runSipp } from "../peers/sipp.js";
import {
  buildImage,
  type Container,
  exec,
  podman,
  podmanOk,
  removeConf,
  removeImages,
  runContainer,
} from "./podman.js";

const IMAGE = `localhost/sipmock:test-${process.pid}`;
const PORTS = ["5060/udp", "5060/tcp", "5061/tcp", "8088/tcp", "8089/tcp", "8080/tcp"];
let served: Container | undefined;
let responder: Container | undefined;
const clients: WireClient[] = [];

async function client(target: { host: string; port: number }): Promise<WireClient> {
  const c = await udpClient(target);
  clients.push(c);
  return c;
}

/** The server's command line inside the container (PID 1 after the entrypoint's exec). */
async function commandLine(c: Container): Promise<string[]> {
  const raw = await podmanOk(["exec", c.name, "cat", "/proc/1/cmdline"]);
  return raw.split("\0").filter(Boolean);
}

async function journal(c: Container): Promise<Array<{ method?: string; status?: number; callId: string }>> {
  const admin = await c.mapped("8080/tcp");
  const res = await fetch(`http://127.0.0.1:${admin.port}/__admin/journal`);
  expect(res.status).toBe(200);
  return (await res.json()) as Array<{ method?: string; status?: number; callId: string }>;
}

/** One request over TLS; resolves with the first whole response. */
function overTls(target: { host: string; port: number }, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ ...target, rejectUnauthorized: false }, () => socket.write(text));
    let got = "";
    const timer = setTimeout(() => reject(new Error(`TLS: no answer; got ${JSON.stringify(got)}`)), 5000);
    socket.setEncoding("latin1").on("data", (d: string) => {
      got += d;
      if (got.includes("\r\n\r\n")) {
        clearTimeout(timer);
        socket.destroy();
        resolve(got);
      }
    });
    socket.once("error", reject);
  });
}

/** One request over a WebSocket (subprotocol sip, RFC 7118); resolves with the first message. */
function overWs(url: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, "sip");
    const timer = setTimeout(() => reject(new Error("WebSocket: no answer")), 5000);
    ws.once("open", () => ws.send(text));
    ws.once("message", (data) => {
      clearTimeout(timer);
      ws.close();
      resolve(String(data));
    });
    ws.once("error", reject);
  });
}

beforeAll(async () => {
  await buildImage(IMAGE, inject("containerBase"));
  served = await runContainer(IMAGE, `sipmock-test-${process.pid}-serve`, {
    ports: PORTS,
    ready: /admin API on/,
  });
  responder = await runContainer(IMAGE, `sipmock-test-${process.pid}-respond`, {
    ports: ["5060/udp"],
    env: { SIPMOCK_FORCE_RPORT: "0", SIPMOCK_ADMIN: "" },
    args: ["respond", "486"],
    ready: /listening on/,
  });
}, 20 * 60_000);

afterAll(async () => {
  for (const c of clients) await c.close();
  await served?.remove();
  await responder?.remove();
  await removeImages([IMAGE]);
  removeConf();
}, 120_000);

describe("the image (docker/Dockerfile), default command", () => {
  it("runs as a non-root user, exposes every README port, has a HEALTHCHECK, and serves with --force-rport and --single-threaded-gc", async () => {
    const [config] = JSON.parse(await podmanOk(["image", "inspect", IMAGE])) as Array<{
      Config: { User: string; ExposedPorts: Record<string, unknown> };
      Healthcheck?: { Test: string[] };
    }>;
    expect(config!.Config.User).toBe("sipmock");
    expect(Object.keys(config!.Config.ExposedPorts).sort()).toEqual(
      ["5060/tcp", "5060/udp", "5061/tcp", "8080/tcp", "8088/tcp", "8089/tcp"].sort(),
    );
    expect(config!.Healthcheck?.Test).toEqual(["CMD", "node", "/app/docker/healthcheck.mjs"]);
    expect((await podmanOk(["exec", served!.name, "id", "-u"])).trim()).toBe("10001");
    const args = await commandLine(served!);
    // The server's node flags, as the sipmock executable gives its child (SIPMOCK_NODE_FLAGS).
    expect(args.slice(0, 3)).toEqual(["node", "--single-threaded-gc", "/app/dist/cli/main.js"]);
    expect(args).toContain("--force-rport");
    expect(args.join(" ")).toContain(
      "serve --force-rport --listen udp:0.0.0.0:5060 --listen tcp:0.0.0.0:5060 --listen tls:0.0.0.0:5061 " +
        "--listen ws:0.0.0.0:8088 --listen wss:0.0.0.0:8089 --admin 0.0.0.0:8080 --admin-insecure",
    );
  });

  it("answers sipsak's OPTIONS through the mapped UDP and TCP ports", async () => {
    for (const [port, transport] of [
      ["5060/udp", "udp"],
      ["5060/tcp", "tcp"],
    ] as const) {
      const target = await served!.mapped(port);
      const r = await exec(
        "sipsak",
        ["-vv", `--transport=${transport}`, "-s", `sip:ping@127.0.0.1:${target.port}`],
        15_000,
      );
      expect(r.code, `${transport}: ${r.stdout}${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(/SIP\/2\.0 200 OK/);
    }
  });

  it("completes SIPp's built-in uac call (its Via has no rport) through the mapped UDP and TCP ports", async () => {
    const uac = spawnSync("sipp", ["-sd", "uac"], { encoding: "latin1" }).stdout;
    expect(uac).toMatch(/Via: SIP\/2\.0\/\[transport\] \[local_ip\]:\[local_port\];branch=\[branch\]\n/);
    for (const [port, transport] of [
      ["5060/udp", "u1"],
      ["5060/tcp", "t1"],
    ] as const) {
      const target = await served!.mapped(port);
      const r = await runSipp({ scenarioXml: uac, target: `127.0.0.1:${target.port}`, transport });
      expect(r.exitCode, r.summary).toBe(0);
      expect(r.stats.successful).toBe(1);
    }
    const seen = (await journal(served!)).map((e) => e.method ?? e.status);
    expect(seen).toEqual(expect.arrayContaining(["INVITE", 200, "ACK", "BYE"]));
  });

  it("answers a UDP request at its source port when its Via names another one and no rport (NAT)", async () => {
    const target = await served!.mapped("5060/udp");
    const c = await client(target);
    const elsewhere = await client(target);
    await c.send(request("OPTIONS", "nat", target, { localPort: elsewhere.port, rport: false }));
    const answer = await c.waitFor((r) => statusOf(r) === 200, 5000);
    expect(answer.text).toMatch(/\r\nVia: [^\r\n]*;received=/);
    expect(elsewhere.received).toEqual([]);
  });

  it("answers OPTIONS over TLS and WebSocket through the mapped ports", async () => {
    const tls = await served!.mapped("5061/tcp");
    const overTlsAnswer = await overTls(tls, request("OPTIONS", "tls", tls, { transport: "TLS" }));
    expect(overTlsAnswer).toMatch(/^SIP\/2\.0 200 OK\r\n/);
    const ws = await served!.mapped("8088/tcp");
    const wsRequest = request("OPTIONS", "ws", ws).replace(
      "SIP/2.0/UDP 127.0.0.1:5060",
      "SIP/2.0/WS df7jal23ls0d.invalid",
    );
    const overWsAnswer = await overWs(`ws://127.0.0.1:${ws.port}`, wsRequest);
    expect(overWsAnswer).toMatch(/^SIP\/2\.0 200 OK\r\n/);
  });

  it("is healthy by the admin API, a probe that leaves the journal alone; `sipmock ctl` works inside", async () => {
    const before = (await journal(served!)).length;
    const check = await podman(["healthcheck", "run", served!.name]);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    const direct = await podmanOk(["exec", served!.name, "node", "/app/docker/healthcheck.mjs"]);
    expect(direct).toMatch(
      /^healthy: http:\/\/127\.0\.0\.1:8080\/__admin\/health: ok \(udp:5060 tcp:5060 tls:5061 ws:8088 wss:8089\)/,
    );
    expect((await journal(served!)).length).toBe(before);
    const ctl = await podmanOk(["exec", served!.name, "sipmock", "ctl", "journal", "--method", "OPTIONS"]);
    expect(ctl).toMatch(/<- udp:\S+ OPTIONS /);
  });
});

describe("the image with `respond 486`, SIPMOCK_FORCE_RPORT=0 and no admin API", () => {
  it("keeps the container's listeners but not --force-rport", async () => {
    const args = (await commandLine(responder!)).join(" ");
    expect(args).toContain("respond --listen udp:0.0.0.0:5060");
    expect(args).toMatch(/ 486$/);
    expect(args).not.toContain("--force-rport");
    expect(args).not.toContain("--admin");
  });

  it("answers an INVITE through the mapped port with 486", async () => {
    const target = await responder!.mapped("5060/udp");
    const c = await client(target);
    const invite = request("INVITE", "alice", target, { localPort: c.port });
    await c.send(invite);
    const busy = await c.waitFor((r) => statusOf(r) === 486, 5000);
    // The ACK of a non-2xx: the INVITE's branch, the answer's To (RFC 3261 17.1.1.3).
    await c.send(
      invite
        .replace(/^INVITE /, "ACK ")
        .replace("CSeq: 1 INVITE", "CSeq: 1 ACK")
        .replace(/\r\nTo: [^\r\n]*/, `\r\nTo: ${header(busy, "To")}`),
    );
  });

  it("without --force-rport, sends the answer to the Via's port (a NATed client never gets it)", async () => {
    const target = await responder!.mapped("5060/udp");
    const c = await client(target);
    // Bound to every address: the answer goes to the address the request came
    // from (the container network's gateway, this host) at the Via's port.
    const viaPort = await udpClient(target, "0.0.0.0");
    clients.push(viaPort);
    await c.send(request("OPTIONS", "nat", target, { localPort: viaPort.port, rport: false }));
    await viaPort.waitFor((r) => statusOf(r) === 200, 5000);
    expect(c.received).toEqual([]);
  });

  it("is healthy by an OPTIONS to itself when there is no admin API, unhealthy when nothing answers", async () => {
    const check = await podman(["healthcheck", "run", responder!.name]);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    const direct = await podmanOk(["exec", responder!.name, "node", "/app/docker/healthcheck.mjs"]);
    expect(direct).toMatch(/^healthy: OPTIONS sip:127\.0\.0\.1:5060: 200 OK/);
    const dead = await podman([
      "exec",
      "-e",
      "SIPMOCK_HEALTHCHECK_SIP=127.0.0.1:5999",
      responder!.name,
      "node",
      "/app/docker/healthcheck.mjs",
    ]);
    expect(dead.code).toBe(1);
    expect(dead.stdout).toMatch(/^unhealthy: OPTIONS sip:127\.0\.0\.1:5999: no answer/);
  });
});

describe("the image's defaults give way", () => {
  it("to SIPMOCK_LISTEN, to any --listen or --admin of yours; other commands run as given", async () => {
    const fromEnv = await runContainer(IMAGE, `sipmock-test-${process.pid}-env`, {
      ports: [],
      env: { SIPMOCK_LISTEN: "udp:0.0.0.0:5070 tcp:0.0.0.0:5070" },
      args: ["serve", "--admin", "127.0.0.1:9000"],
      ready: /admin API on/,
    });
    try {
      expect((await commandLine(fromEnv)).join(" ")).toMatch(
        / serve --force-rport --listen udp:0\.0\.0\.0:5070 --listen tcp:0\.0\.0\.0:5070 --admin 127\.0\.0\.1:9000$/,
      );
      expect(fromEnv.output()).toContain("listening on udp:0.0.0.0:5070, tcp:0.0.0.0:5070\n");
    } finally {
      await fromEnv.remove();
    }
    const fromArgs = await runContainer(IMAGE, `sipmock-test-${process.pid}-args`, {
      ports: [],
      env: { SIPMOCK_LISTEN: "udp:0.0.0.0:5070" },
      args: ["serve", "--listen=tcp:0.0.0.0:5080"],
      ready: /admin API on/,
    });
    try {
      expect((await commandLine(fromArgs)).join(" ")).toMatch(
        / serve --force-rport --admin 0\.0\.0\.0:8080 --admin-insecure --listen=tcp:0\.0\.0\.0:5080$/,
      );
    } finally {
      await fromArgs.remove();
    }
    const validate = await podman(["run", "--rm", IMAGE, "validate", "/app/scenarios/busy.yaml"]);
    expect(validate.code, validate.stdout + validate.stderr).toBe(0);
    const codes = await podman(["run", "--rm", IMAGE, "codes", "--class", "6"]);
    expect(codes.stdout).toMatch(/\b603\b/);
    expect(codes.stdout).not.toMatch(/\b486\b/);
  });
});
