/**
 * `sipmock serve --auth alice:secret --realm lab.test` and nothing else, run
 * as the built CLI, against the clients people have: SIPp 3.6 (-au/-ap)
 * registers and places a call, sipsak (-U -a) registers, baresip 1.0
 * registers. All of them compute MD5 only and give up on a first challenge of
 * another algorithm (SIPp: "createAuthHeader: authentication must use MD5 or
 * AKAv1-MD5"), so the default challenge is MD5 alone, as PBXs send.
 * `--auth-algorithm` opts in to others, in the order given (RFC 8760 2.4); a
 * bad value is a one-line error. Failed logins are warnings, at most one
 * line a second.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digestResponse, parseCredentials } from "../../src/ua/auth/digest.js";
import { run, start, waitForOutput } from "../helpers/cli.js";
import { headerRows, request, statusOf, udpClient } from "../helpers/wire-client.js";
import { startBaresip, writeBaresipConfig } from "../peers/baresip.js";
import {
  inviteWithAuthScenario,
  registerWithAuthScenario,
  runSipp,
  type SippResult,
  statusOfText,
} from "../peers/sipp.js";

type Cli = Awaited<ReturnType<typeof start>>;

async function stop(cli: Cli | undefined): Promise<void> {
  if (!cli || cli.child.exitCode !== null) return;
  const exited = new Promise((r) => cli.child.once("exit", r));
  cli.child.kill("SIGTERM");
  await exited;
}

/** The challenges of the first 401 SIPp received, one entry per WWW-Authenticate row. */
function challengesSippGot(r: SippResult): string[] {
  const challenge = r.parsed.find((m) => m.direction === "received" && statusOfText(m.text) === 401);
  if (!challenge) throw new Error(`SIPp received no 401: ${r.summary}`);
  return [...challenge.text.matchAll(/^WWW-Authenticate:[ \t]*(.*)$/gim)].map((m) => m[1]!.trim());
}

const MD5_ONLY = [
  expect.stringMatching(
    /^Digest realm="lab\.test", nonce="[^"]+", opaque="[0-9a-f]+", algorithm=MD5, qop="auth"$/,
  ),
];

describe("sipmock serve --auth alice:secret --realm lab.test", () => {
  let cli: Cli;
  let target: string;
  /** "-> 401", "<- REGISTER"... the CLI logged after `mark`. */
  const logged = (mark: number) =>
    [
      ...cli
        .output()
        .slice(mark)
        .matchAll(/ (<-|->) udp:127\.0\.0\.1:\d+ (\S+)/g),
    ].map((m) => `${m[1]} ${m[2]}`);

  beforeAll(async () => {
    cli = await start([
      "serve",
      "--listen",
      "udp:127.0.0.1:0",
      "--auth",
      "alice:secret",
      "--realm",
      "lab.test",
    ]);
    target = `127.0.0.1:${cli.port}`;
  });
  afterAll(() => stop(cli));

  it("SIPp -au/-ap registers: one challenge, MD5, then 200", async () => {
    const r = await runSipp({
      scenarioXml: registerWithAuthScenario("alice"),
      target,
      transport: "u1",
      extraArgs: ["-au", "alice", "-ap", "secret"],
    });
    expect(r.exitCode, r.summary).toBe(0);
    expect(challengesSippGot(r)).toEqual(MD5_ONLY);
    const sent = r.parsed.filter((m) => m.direction === "sent");
    expect(sent[1]!.text).toMatch(/\r\nAuthorization: Digest username="alice",realm="lab\.test",/);
    expect(r.parsed.filter((m) => m.direction === "received").map((m) => statusOfText(m.text))).toEqual([
      401, 200,
    ]);
  });

  it("SIPp -au/-ap places a call: INVITE 401, ACK, INVITE with Authorization rings and is answered; BYE 200", async () => {
    const r = await runSipp({
      scenarioXml: inviteWithAuthScenario("bob", 401),
      target,
      transport: "u1",
      extraArgs: ["-au", "alice", "-ap", "secret"],
    });
    expect(r.exitCode, r.summary).toBe(0);
    expect(challengesSippGot(r)).toEqual(MD5_ONLY);
    const invites = r.parsed.filter((m) => m.direction === "sent" && m.text.startsWith("INVITE "));
    expect(invites[1]!.text).toMatch(/\r\nAuthorization: Digest username="alice",realm="lab\.test",/);
    expect(
      r.parsed
        .filter((m) => m.direction === "received")
        .map((m) => statusOfText(m.text))
        .filter((s) => s !== 100),
    ).toEqual([401, 180, 200, 200]);
  });

  it("sipsak -U -a registers through the challenge", async () => {
    const mark = cli.output().length;
    const out = await new Promise<{ code: number | null; text: string }>((resolve, reject) =>
      execFile(
        "sipsak",
        [
          "-U",
          "-C",
          "sip:alice@127.0.0.1:9",
          "-u",
          "alice",
          "-x",
          "120",
          "-a",
          "secret",
          "-vv",
          "-s",
          `sip:alice@${target}`,
        ],
        { timeout: 15_000 },
        (err, stdout, stderr) => {
          if (err && typeof err.code === "string") reject(new Error(`sipsak could not run (${err.code})`));
          else resolve({ code: err ? (err.code as number) : 0, text: `${stdout}${stderr}` });
        },
      ),
    );
    expect(out.text).toMatch(/authorizing/);
    expect(out.text).toMatch(/All usrloc tests completed successful/);
    expect(out.code, out.text).toBe(0);
    await waitForOutput(cli.output, /-> udp:\S+ 200 OK/);
    expect(logged(mark)).toEqual(["<- REGISTER", "-> 401", "<- REGISTER", "-> 200"]);
  });

  it("baresip registers with nothing but auth_pass", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sipmock-auth-baresip-"));
    const mark = cli.output().length;
    writeBaresipConfig(dir, `<sip:alice@${target};transport=udp>;auth_pass=secret;regint=60`);
    const phone = await startBaresip(dir);
    try {
      await phone.waitFor(/All 1 useragent registered successfully/, 0);
      expect(phone.output).toMatch(
        /alice@127\.0\.0\.1: \{0\/UDP\/v4\} 200 OK \(sipmock\/[^)]*\) \[\d+ bindings?\]/,
      );
      await waitForOutput(cli.output, /-> udp:\S+ 200 OK/);
      expect(logged(mark).slice(0, 4)).toEqual(["<- REGISTER", "-> 401", "<- REGISTER", "-> 200"]);
    } finally {
      await phone.stop();
      phone.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Answers a challenge row for REGISTER sip:alice@127.0.0.1:PORT as alice. */
function answer(challenge: string, port: number, password: string, nc = "00000001"): string {
  const c = parseCredentials(challenge)!;
  const algorithm = c.params.get("algorithm")!;
  const nonce = c.params.get("nonce")!;
  const uri = `sip:alice@127.0.0.1:${port}`;
  const response = digestResponse({
    algorithm,
    username: "alice",
    realm: c.params.get("realm")!,
    password,
    method: "REGISTER",
    uri,
    nonce,
    cnonce: "c0ffee",
    nc,
    qop: "auth",
  });
  return `Authorization: Digest username="alice", realm="${c.params.get("realm")}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=${algorithm}, cnonce="c0ffee", nc=${nc}, qop=auth`;
}

describe("--auth-algorithm", () => {
  it("SHA-256,MD5: two challenges in that order; an answer to the first is accepted", async () => {
    const cli = await start([
      "serve",
      ...["--listen", "udp:127.0.0.1:0", "--auth", "alice:secret", "--auth-algorithm", "SHA-256,md5"],
    ]);
    const c = await udpClient({ host: "127.0.0.1", port: cli.port });
    try {
      const to = { host: "127.0.0.1", port: cli.port };
      await c.send(request("REGISTER", "alice", to, { localPort: c.port, callId: "alg@test" }));
      const challenge = await c.waitFor((m) => statusOf(m) === 401);
      const rows = headerRows(challenge, "WWW-Authenticate");
      expect(rows.map((r) => /algorithm=([^,]+)/.exec(r)![1])).toEqual(["SHA-256", "MD5"]);
      expect(rows[0]).toMatch(/^Digest realm="sipmock", /);
      await c.send(
        request("REGISTER", "alice", to, {
          localPort: c.port,
          callId: "alg@test",
          cseq: 2,
          extra: ["Contact: <sip:alice@127.0.0.1:9>", answer(rows[0]!, cli.port, "secret")],
        }),
      );
      expect(statusOf(await c.waitFor((m) => statusOf(m) >= 200 && m.text.includes("CSeq: 2 ")))).toBe(200);
    } finally {
      await c.close();
      await stop(cli);
    }
  });

  it.each([
    [
      ["--auth", "alice:secret", "--auth-algorithm", "SHA-1"],
      /'SHA-1' is invalid\. expected a comma-separated list of SHA-256, SHA-512-256, MD5, SHA-256-sess, SHA-512-256-sess, MD5-sess, e\.g\. --auth-algorithm SHA-256,MD5$/,
    ],
    [
      ["--auth", "alice:secret", "--auth-algorithm", "MD5,,SHA-256"],
      /expected a comma-separated list of SHA-256, /,
    ],
    [
      ["--auth", "alice:secret", "--auth-algorithm", "MD5,md5"],
      /MD5 is named twice; expected a comma-separated list/,
    ],
    [
      ["--auth-algorithm", "MD5"],
      /^sipmock: --auth-algorithm applies to --auth users; add --auth USER:PASSWORD/,
    ],
  ])("bad %j: one-line error naming the valid values, exit code 2", (args, message) => {
    const r = run(["serve", "--listen", "udp:127.0.0.1:0", ...args]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(message);
  });
});

describe("failed logins", () => {
  it("are warnings (seen at --log-level warn), at most one line a second: the first, then a count", async () => {
    const cli = await start([
      "serve",
      ...["--listen", "udp:127.0.0.1:0", "--auth", "alice:secret", "--log-level", "warn"],
    ]);
    const c = await udpClient({ host: "127.0.0.1", port: cli.port });
    try {
      const to = { host: "127.0.0.1", port: cli.port };
      await c.send(request("REGISTER", "alice", to, { localPort: c.port, callId: "guess@test" }));
      const row = headerRows(await c.waitFor((m) => statusOf(m) === 401), "WWW-Authenticate")[0]!;
      // Three guesses at once: one line for the first, one for the two after it.
      for (const [cseq, guess] of [
        [2, "guess1"],
        [3, "guess2"],
        [4, "guess3"],
      ] as const) {
        await c.send(
          request("REGISTER", "alice", to, {
            localPort: c.port,
            callId: "guess@test",
            cseq,
            extra: [answer(row, cli.port, guess)],
          }),
        );
      }
      await c.waitFor((m) => statusOf(m) === 403 && m.text.includes("CSeq: 4 "));
      await waitForOutput(cli.output, /failed Digest logins: /);
      const lines = cli
        .output()
        .split("\n")
        .filter((l) => l.includes("failed Digest"));
      expect(lines).toEqual([
        expect.stringMatching(
          /^\d{4}-\d\d-\d\dT[\d:.]+Z failed Digest login: wrong password for user "alice" \(REGISTER from udp:127\.0\.0\.1:\d+\)$/,
        ),
        expect.stringMatching(
          /^\S+Z failed Digest logins: 2 more in the last 1 s, the last: wrong password for user "alice" \(REGISTER from udp:127\.0\.0\.1:\d+\)$/,
        ),
      ]);
      // --log-level warn: the message lines (info) are not there.
      expect(cli.output()).not.toMatch(/ <- udp:/);
    } finally {
      await c.close();
      await stop(cli);
    }
  });
});
