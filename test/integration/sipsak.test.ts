/**
 * sipsak (Debian package sipsak) as a second independent peer: OPTIONS pings
 * to dial-a-code users and the built-in answers, read from sipsak's own
 * verbose output.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SipMock, silentLogger, startSipMock } from "../../src/index.js";

let mock: SipMock;
let port: number;

beforeAll(async () => {
  mock = await startSipMock({ listen: ["udp:127.0.0.1:0"], logger: silentLogger });
  port = mock.address("udp").port;
});
afterAll(() => mock.close());

/** Runs sipsak without blocking the event loop: the mock answers from this same process. */
function sipsak(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    execFile("sipsak", args, { encoding: "utf8", timeout: 15_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : null) : 0;
      if (err && typeof err.code === "string") {
        reject(new Error(`sipsak could not run (${err.code}); install it: apt-get install -y sipsak`));
        return;
      }
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

describe("sipsak against sipmock", () => {
  it("OPTIONS to an ordinary user gets 200 OK with Allow", async () => {
    const r = await sipsak(["-vvv", "-s", `sip:bob@127.0.0.1:${port}`]);
    expect(r.out).toContain("SIP/2.0 200 OK");
    expect(r.out).toMatch(
      /Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, PRACK, UPDATE, INFO, MESSAGE, SUBSCRIBE, PUBLISH, REFER/,
    );
    expect(r.code).toBe(0);
  });

  it.each([
    [486, "Busy Here", undefined],
    [503, "Service Unavailable", /Retry-After: \d+/],
    [405, "Method Not Allowed", /Allow: /],
    [302, "Moved Temporarily", /Contact: </],
    [604, "Does Not Exist Anywhere", undefined],
  ])("OPTIONS to sip:%d@ gets %s with its required headers", async (code, reason, hdr) => {
    const r = await sipsak(["-vvv", "-d", "-s", `sip:${code}@127.0.0.1:${port}`]);
    expect(r.out).toContain(`SIP/2.0 ${code} ${reason}`);
    if (hdr) expect(r.out).toMatch(hdr);
    expect(r.out).toMatch(/To: [^\n]*;tag=/);
  });

  it("a REGISTER sent from a file is answered 200 with the binding", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sipmock-sipsak-"));
    const file = join(dir, "register.sip");
    writeFileSync(
      file,
      [
        `REGISTER sip:127.0.0.1:${port} SIP/2.0`,
        "Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK-sipsak-reg;rport",
        "From: <sip:carol@127.0.0.1>;tag=reg1",
        "To: <sip:carol@127.0.0.1>",
        "Call-ID: sipsak-register@127.0.0.1",
        "CSeq: 1 REGISTER",
        "Max-Forwards: 70",
        "Contact: <sip:carol@127.0.0.1:5999>;expires=120",
        "Content-Length: 0",
        "",
        "",
      ].join("\n"),
    );
    const r = await sipsak(["-vvv", "-f", file, "-s", `sip:carol@127.0.0.1:${port}`]).finally(() =>
      rmSync(dir, { recursive: true, force: true }),
    );
    expect(r.out).toContain("SIP/2.0 200 OK");
    expect(r.out).toMatch(/Contact: <sip:carol@127\.0\.0\.1:5999>;expires=1[12][0-9]/);
  });
});
