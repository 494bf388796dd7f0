/** Digest arithmetic against RFC 7616's own examples, and the authenticator's decisions. */
import { describe, expect, it } from "vitest";
import { parseDatagram } from "../../src/sip/parser.js";
import { Scheduler } from "../../src/transaction/scheduler.js";
import { Authenticator } from "../../src/ua/auth/authenticator.js";
import { digestResponse, parseCredentials } from "../../src/ua/auth/digest.js";
import { type FailedLogin, FailedLoginLog } from "../../src/ua/auth/failed-logins.js";

// RFC 7616 3.9.1: "Mufasa" / "Circle of Life".
const EXAMPLE = {
  username: "Mufasa",
  realm: "http-auth@example.org",
  password: "Circle of Life",
  method: "GET",
  uri: "/dir/index.html",
  nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
  cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
  nc: "00000001",
  qop: "auth",
};

describe("digest responses (RFC 7616 3.9.1)", () => {
  it("MD5", () =>
    expect(digestResponse({ ...EXAMPLE, algorithm: "MD5" })).toBe("8ca523f5e9506fed4657c9700eebdbec"));
  it("SHA-256", () =>
    expect(digestResponse({ ...EXAMPLE, algorithm: "SHA-256" })).toBe(
      "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
    ));
  it("SHA-512-256 is 64 hex digits and differs from SHA-256", () => {
    const r = digestResponse({ ...EXAMPLE, algorithm: "SHA-512-256" });
    expect(r).toMatch(/^[0-9a-f]{64}$/);
    expect(r).not.toBe(digestResponse({ ...EXAMPLE, algorithm: "SHA-256" }));
  });
  it("-sess and auth-int change the answer", () => {
    const base = digestResponse({ ...EXAMPLE, algorithm: "MD5" });
    expect(digestResponse({ ...EXAMPLE, algorithm: "MD5-sess" })).not.toBe(base);
    expect(
      digestResponse({ ...EXAMPLE, algorithm: "MD5", qop: "auth-int", body: Buffer.from("x") }),
    ).not.toBe(base);
  });
});

describe("credentials parsing", () => {
  it("quoted and token values, escapes, case-insensitive names", () => {
    const c = parseCredentials('Digest username="ali\\"ce", Realm="r", nc=00000001, qop=auth')!;
    expect(c.scheme).toBe("Digest");
    expect([...c.params]).toEqual([
      ["username", 'ali"ce'],
      ["realm", "r"],
      ["nc", "00000001"],
      ["qop", "auth"],
    ]);
  });
});

function register(extra: string[] = []) {
  const r = parseDatagram(
    Buffer.from(
      [
        "REGISTER sip:example.test SIP/2.0",
        "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-a1",
        "From: <sip:alice@example.test>;tag=1",
        "To: <sip:alice@example.test>",
        "Call-ID: a1",
        "CSeq: 1 REGISTER",
        ...extra,
        "Content-Length: 0",
        "",
        "",
      ].join("\r\n"),
    ),
  );
  if (!r.ok || r.message.kind !== "request") throw new Error("bad fixture");
  return r.message;
}

describe("the authenticator", () => {
  let now = 1_000_000;
  const auth = new Authenticator(
    { realm: "example.test", users: { alice: "secret" }, algorithms: ["MD5"] },
    () => now,
  );

  const answer = (nonce: string, password = "secret", nc = "00000001") => {
    const response = digestResponse({
      algorithm: "MD5",
      username: "alice",
      realm: "example.test",
      password,
      method: "REGISTER",
      uri: "sip:example.test",
      nonce,
      cnonce: "c",
      nc,
      qop: "auth",
    });
    return `Authorization: Digest username="alice", realm="example.test", nonce="${nonce}", uri="sip:example.test", response="${response}", algorithm=MD5, cnonce="c", nc=${nc}, qop=auth`;
  };
  const nonceOf = (spec: { headers?: ReadonlyArray<readonly [string, string]> }) =>
    parseCredentials(spec.headers![0]![1])!.params.get("nonce")!;

  it("challenges, accepts the right answer, refuses a replay, 403s a wrong password", () => {
    const first = auth.check(register());
    if (first.ok) throw new Error("expected a challenge");
    expect(first.response.status).toBe(401);
    const nonce = nonceOf(first.response);
    expect(auth.check(register([answer(nonce)]))).toEqual({ ok: true, username: "alice" });
    const replay = auth.check(register([answer(nonce)]));
    expect(replay.ok).toBe(false);
    const wrong = auth.check(register([answer(nonce, "guess", "00000002")]));
    expect(!wrong.ok && wrong.response).toMatchObject({
      status: 403,
      warning: "wrong credentials for alice",
    });
  });

  it("a plain challenge is no failed login; refused credentials are, with the reason", () => {
    const first = auth.check(register());
    expect(!first.ok && first.failure).toBeUndefined();
    const nonce = nonceOf(first.ok ? {} : first.response);
    const wrong = auth.check(register([answer(nonce, "guess")]));
    expect(!wrong.ok && wrong.failure).toEqual({ username: "alice", reason: "wrong password" });
    const unknown = auth.check(register([answer(nonce).replace('username="alice"', 'username="mallory"')]));
    expect(!unknown.ok && unknown.failure).toEqual({ username: "mallory", reason: "unknown user" });
    const sha = auth.check(register([answer(nonce).replace("algorithm=MD5", "algorithm=SHA-256")]));
    expect(!sha.ok && sha.failure).toEqual({
      username: "alice",
      reason: "algorithm SHA-256 was not offered",
    });
  });

  it("a nonce we did not issue is challenged; an expired one gets stale=true", () => {
    const foreign = auth.check(register([answer("made-up")]));
    expect(!foreign.ok && foreign.response.status).toBe(401);
    const first = auth.check(register());
    if (first.ok) throw new Error("expected a challenge");
    const nonce = nonceOf(first.response);
    now += 31_000;
    const stale = auth.check(register([answer(nonce)]));
    if (stale.ok) throw new Error("expected a stale challenge");
    expect(stale.response.headers![0]![1]).toMatch(/, stale=true$/);
  });

  it("ACK and CANCEL are never challenged (RFC 3261 22.1)", () => {
    expect(auth.appliesTo("ACK")).toBe(false);
    expect(auth.appliesTo("CANCEL")).toBe(false);
    expect(auth.appliesTo("REGISTER")).toBe(true);
    expect(auth.appliesTo("OPTIONS")).toBe(false);
  });
});

describe("the default challenge", () => {
  it("is MD5 alone, as PBXs send (SIPp 3.6 and baresip 1.0 stop at a SHA-256 first)", () => {
    const auth = new Authenticator({ realm: "lab.test", users: { alice: "secret" } });
    const r = auth.check(register());
    if (r.ok) throw new Error("expected a challenge");
    expect(r.response.headers!.map(([name]) => name)).toEqual(["WWW-Authenticate"]);
    expect(r.response.headers![0]![1]).toMatch(
      /^Digest realm="lab\.test", nonce="[^"]+", opaque="[0-9a-f]+", algorithm=MD5, qop="auth"$/,
    );
  });

  it("several algorithms, when asked for, are offered in the order given (RFC 8760 2.4)", () => {
    const auth = new Authenticator({
      realm: "lab.test",
      users: { alice: "secret" },
      algorithms: ["SHA-256", "MD5"],
    });
    const r = auth.check(register());
    if (r.ok) throw new Error("expected a challenge");
    expect(r.response.headers!.map(([, v]) => /algorithm=([^,]+)/.exec(v)![1])).toEqual(["SHA-256", "MD5"]);
  });
});

describe("failed logins are logged at most once a second", () => {
  function harness() {
    let now = 0;
    const scheduler = new Scheduler({ now: () => now });
    const lines: Array<{ at: number; line: string }> = [];
    const log = new FailedLoginLog({
      warn: (line) => lines.push({ at: now, line }),
      now: () => now,
      schedule: (ms, fn) => scheduler.schedule(ms, fn),
    });
    const advance = (ms: number) => {
      now += ms;
      scheduler.runDue();
    };
    return { log, lines, advance, scheduler };
  }
  const login = (username: string): FailedLogin => ({
    username,
    reason: "wrong password",
    method: "REGISTER",
    peer: "udp:127.0.0.1:5062",
  });

  it("the first at once, the rest of the second summed up in one line when it ends", () => {
    const { log, lines, advance, scheduler } = harness();
    log.record(login("alice"));
    expect(lines).toEqual([
      {
        at: 0,
        line: 'failed Digest login: wrong password for user "alice" (REGISTER from udp:127.0.0.1:5062)',
      },
    ]);
    for (let i = 0; i < 500; i++) {
      advance(1);
      log.record(login(i === 499 ? "mallory" : "bob"));
    }
    expect(lines).toHaveLength(1);
    advance(499);
    expect(lines).toHaveLength(1);
    advance(1);
    expect(lines).toEqual([
      lines[0],
      {
        at: 1000,
        line: 'failed Digest logins: 500 more in the last 1 s, the last: wrong password for user "mallory" (REGISTER from udp:127.0.0.1:5062)',
      },
    ]);
    // A failure within a second of the summary waits for the next one.
    advance(10);
    log.record(login("carol"));
    expect(lines).toHaveLength(2);
    advance(990);
    expect(lines.at(-1)).toMatchObject({
      at: 2000,
      line: expect.stringMatching(/^failed Digest logins: 1 more/),
    });
    // After a quiet second, the next failure is logged at once again; nothing is pending.
    advance(5000);
    expect(scheduler.pending).toBe(0);
    log.record(login("dave"));
    expect(lines.at(-1)).toMatchObject({ at: 7000, line: expect.stringMatching(/user "dave"/) });
    expect(lines).toHaveLength(4);
  });

  it("flush (at shutdown) writes what is held back, once", () => {
    const { log, lines } = harness();
    log.record(login("alice"));
    log.record(login("bob"));
    log.flush();
    log.flush();
    expect(lines.map((l) => l.line)).toEqual([
      expect.stringMatching(/^failed Digest login: .*"alice"/),
      expect.stringMatching(/^failed Digest logins: 1 more .*"bob"/),
    ]);
  });
});
