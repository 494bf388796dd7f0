/**
 * Digest authentication (RFC 3261 22, RFC 7616, RFC 8760) against real
 * clients: SIPp (-au/-ap) and sipsak register through a challenge; a wrong
 * password gets 403; our own client covers SHA-256, SHA-512-256, stale
 * nonces, replayed nonce counts, other schemes and the proxy form (407).
 */
import { execFile } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SipMock, silentLogger, startSipMock } from "../../src/index.js";
import { authorize } from "../helpers/digest-client.js";
import { header, request, statusOf, udpClient, type WireClient } from "../helpers/wire-client.js";
import { registerWithAuthScenario, runSipp } from "../peers/sipp.js";

let md5: SipMock;
let modern: SipMock;

beforeAll(async () => {
  md5 = await startSipMock({
    listen: ["udp:127.0.0.1:0"],
    logger: silentLogger,
    auth: { realm: "example.test", users: { alice: "secret" }, algorithms: ["MD5"] },
  });
  modern = await startSipMock({
    listen: ["udp:127.0.0.1:0"],
    logger: silentLogger,
    auth: {
      realm: "example.test",
      users: { alice: "secret" },
      algorithms: ["SHA-512-256", "SHA-256", "MD5"],
      nonceTtlMs: 300,
    },
  });
});
afterAll(async () => {
  await md5.close();
  await modern.close();
});

describe("real clients", () => {
  it("SIPp registers through a 401 challenge with -au/-ap", async () => {
    const r = await runSipp({
      scenarioXml: registerWithAuthScenario("alice"),
      target: `127.0.0.1:${md5.address("udp").port}`,
      transport: "u1",
      extraArgs: ["-au", "alice", "-ap", "secret"],
    });
    expect(r.exitCode, r.summary).toBe(0);
    expect(md5.journal.entries({ method: "REGISTER", direction: "out" }).map((e) => e.status)).toEqual([
      401, 200,
    ]);
  });

  it("SIPp with a wrong password gets 403 Forbidden", async () => {
    const xml = registerWithAuthScenario("alice")
      .replace('<recv response="200"', '<recv response="403"')
      .replace("200 OK[[:cntrl:]]", "403 Forbidden[[:cntrl:]]");
    md5.journal.clear();
    const r = await runSipp({
      scenarioXml: xml,
      target: `127.0.0.1:${md5.address("udp").port}`,
      transport: "u1",
      extraArgs: ["-au", "alice", "-ap", "wrong"],
    });
    expect(md5.journal.entries({ method: "REGISTER", direction: "out" }).map((e) => e.status)).toEqual([
      401, 403,
    ]);
    expect(
      r.parsed.some((m) => m.direction === "received" && m.text.startsWith("SIP/2.0 403 Forbidden")),
    ).toBe(true);
  });

  it("sipsak registers with -a (usrloc mode)", async () => {
    md5.journal.clear();
    const port = md5.address("udp").port;
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        "sipsak",
        [
          "-U",
          "-C",
          `sip:alice@127.0.0.1:${port + 1}`,
          "-u",
          "alice",
          "-x",
          "120",
          "-a",
          "secret",
          "-vv",
          "-s",
          `sip:alice@127.0.0.1:${port}`,
        ],
        { timeout: 15_000 },
        (err, stdout, stderr) => {
          if (err && typeof err.code === "string") reject(new Error(`sipsak could not run (${err.code})`));
          else resolve(`${stdout}${stderr}`);
        },
      ),
    );
    const statuses = md5.journal.entries({ method: "REGISTER", direction: "out" }).map((e) => e.status);
    expect(statuses[0]).toBe(401);
    expect(statuses).toContain(200);
    expect(out).toMatch(/authorizing/);
  });
});

async function register(c: WireClient, mock: SipMock, extra: string[] = [], cseq = 1) {
  const target = { host: "127.0.0.1", port: mock.address("udp").port };
  const n = c.received.length;
  await c.send(
    request("REGISTER", "alice", target, {
      localPort: c.port,
      cseq,
      callId: "digest-own@test",
      extra: ["Contact: <sip:alice@127.0.0.1:5999>", ...extra],
    }),
  );
  return c.waitFor((m) => c.received.indexOf(m) >= n && statusOf(m) >= 200);
}

describe("our client, byte by byte", () => {
  it("several challenges in preference order (RFC 8760 2.4); the strongest answered is accepted", async () => {
    const c = await udpClient({ host: "127.0.0.1", port: modern.address("udp").port });
    const challenge = await register(c, modern);
    expect(statusOf(challenge)).toBe(401);
    const rows = challenge.text.split("\r\n").filter((l) => l.startsWith("WWW-Authenticate: "));
    expect(rows.map((l) => /algorithm=([^,]+)/.exec(l)![1])).toEqual(["SHA-512-256", "SHA-256", "MD5"]);
    expect(rows[0]).toMatch(
      /^WWW-Authenticate: Digest realm="example\.test", nonce="[^"]+", opaque="[0-9a-f]+", algorithm=SHA-512-256, qop="auth"$/,
    );
    const uri = `sip:alice@127.0.0.1:${modern.address("udp").port}`;
    const ok = await register(
      c,
      modern,
      [`Authorization: ${authorize(rows[0]!.slice(18), "REGISTER", uri)}`],
      2,
    );
    expect(statusOf(ok)).toBe(200);
    // The same nonce count again is a replay (RFC 7616 3.4.5): a fresh challenge.
    const replay = await register(
      c,
      modern,
      [`Authorization: ${authorize(rows[0]!.slice(18), "REGISTER", uri)}`],
      3,
    );
    expect(statusOf(replay)).toBe(401);
    expect(header(replay, "Warning")).toMatch(/nonce count replayed/);
    // A higher count on the same nonce is fine.
    const next = await register(
      c,
      modern,
      [`Authorization: ${authorize(rows[1]!.slice(18), "REGISTER", uri, { nc: "00000002" })}`],
      4,
    );
    expect(statusOf(next)).toBe(200);
    await c.close();
  });

  it("an unknown scheme is challenged, not crashed on (RFC 4475 3.3.13)", async () => {
    const c = await udpClient({ host: "127.0.0.1", port: modern.address("udp").port });
    const r = await register(c, modern, ["Authorization: NewAuthScheme param1=val1, param2=val2"]);
    expect(statusOf(r)).toBe(401);
    expect(r.text).toMatch(/\r\nWWW-Authenticate: Digest /);
    await c.close();
  });

  it("a proxy challenges with 407 and reads Proxy-Authorization", async () => {
    await using proxy = await startSipMock({
      listen: ["udp:127.0.0.1:0"],
      logger: silentLogger,
      auth: { realm: "example.test", users: { alice: "secret" }, proxy: true, methods: ["INVITE"] },
    });
    const target = { host: "127.0.0.1", port: proxy.address("udp").port };
    const c = await udpClient(target);
    await c.send(request("INVITE", "486", target, { localPort: c.port, callId: "proxy-auth@test" }));
    const challenge = await c.waitFor((m) => statusOf(m) === 407);
    expect(challenge.text.split("\r\n")[0]).toBe("SIP/2.0 407 Proxy Authentication Required");
    const row = header(challenge, "Proxy-Authenticate")!;
    await c.send(
      request("INVITE", "486", target, {
        localPort: c.port,
        callId: "proxy-auth@test",
        cseq: 2,
        extra: [`Proxy-Authorization: ${authorize(row, "INVITE", `sip:486@127.0.0.1:${target.port}`)}`],
      }),
    );
    const busy = await c.waitFor((m) => statusOf(m) === 486);
    expect(header(busy, "CSeq")).toBe("2 INVITE");
    // OPTIONS is not among the challenged methods.
    await c.send(request("OPTIONS", "bob", target, { localPort: c.port }));
    expect(statusOf(await c.waitFor((m) => statusOf(m) === 200))).toBe(200);
    await c.close();
  });
});
