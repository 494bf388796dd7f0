/**
 * Digest authentication (RFC 3261 22, RFC 7616, RFC 8760) on the
 * deterministic harness: the 401 challenge, accepted credentials, a nonce
 * count replayed, and a nonce that is stale after exactly its TTL (the
 * wall-clock version was in test/integration/digest-auth.test.ts).
 */
import { afterEach, describe, expect, it } from "vitest";
import type { AuthConfig } from "../../src/ua/auth/authenticator.js";
import { createHarness, type Harness, res } from "../harness/harness.js";
import { invite, type Peer, peer, register } from "../harness/messages.js";
import { authorize } from "../helpers/digest-client.js";

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const AUTH = {
  realm: "example.test",
  users: { alice: "secret" },
  algorithms: ["SHA-512-256", "SHA-256", "MD5"] as const,
  nonceTtlMs: 30_000,
} satisfies AuthConfig;

const URI = "sip:127.0.0.1:5060";

async function registerWith(p: Peer, authorization?: string) {
  await h.send(register(p, 600, authorization ? { headers: [`Authorization: ${authorization}`] } : {}));
  return h.next({ method: "REGISTER" });
}

const challenges = (s: ReturnType<Harness["next"]>) => res(s).headers.getRows("WWW-Authenticate");

describe("digest authentication", () => {
  it("401 with one challenge per algorithm in preference order; the right answer gets 200; a replayed nc 401", async () => {
    h = await createHarness({ auth: AUTH });
    const p = peer({ user: "alice" });
    const challenge = await registerWith(p);
    expect(res(challenge).status).toBe(401);
    const rows = challenges(challenge);
    expect(rows.map((l) => /algorithm=([^,]+)/.exec(l)![1])).toEqual(["SHA-512-256", "SHA-256", "MD5"]);
    expect(rows[0]).toMatch(
      /^Digest realm="example\.test", nonce="[^"]+", opaque="[0-9a-f]+", algorithm=SHA-512-256, qop="auth"$/,
    );
    expect(res(await registerWith(p, authorize(rows[0]!, "REGISTER", URI))).status).toBe(200);
    // The same nonce count again is a replay (RFC 7616 3.4.5): a fresh challenge.
    const replay = await registerWith(p, authorize(rows[0]!, "REGISTER", URI));
    expect(res(replay).status).toBe(401);
    expect(res(replay).headers.get("Warning")).toMatch(/nonce count replayed/);
    // A higher count on the same nonce is fine.
    expect(res(await registerWith(p, authorize(rows[1]!, "REGISTER", URI, { nc: "00000002" }))).status).toBe(
      200,
    );
    expect(h.mock.registrations()).toHaveLength(1);
  });

  it("a right answer is accepted until exactly the nonce TTL; after it, 401 with stale=true (RFC 7616 3.3)", async () => {
    h = await createHarness({ auth: AUTH });
    const p = peer({ user: "alice" });
    const [row] = challenges(await registerWith(p));
    await h.advance(30_000);
    expect(res(await registerWith(p, authorize(row!, "REGISTER", URI, { nc: "00000001" }))).status).toBe(200);
    await h.advance(1);
    const stale = await registerWith(p, authorize(row!, "REGISTER", URI, { nc: "00000002" }));
    expect(res(stale).status).toBe(401);
    expect(stale.text).toMatch(/\r\nWWW-Authenticate: Digest [^\r]*, stale=true\r\n/);
    // The fresh nonce of that challenge works.
    const fresh = challenges(stale)[0]!;
    expect(res(await registerWith(p, authorize(fresh, "REGISTER", URI))).status).toBe(200);
  });

  it("a wrong password gets 403; an unknown scheme a challenge", async () => {
    h = await createHarness({ auth: AUTH });
    const p = peer({ user: "alice" });
    const [row] = challenges(await registerWith(p));
    expect(
      res(await registerWith(p, authorize(row!, "REGISTER", URI, { nc: "00000001", password: "wrong" })))
        .status,
    ).toBe(403);
    const other = await registerWith(p, "NewAuthScheme param1=val1, param2=val2");
    expect(res(other).status).toBe(401);
    expect(other.text).toMatch(/\r\nWWW-Authenticate: Digest /);
  });

  it("a proxy challenges INVITE with 407 and reads Proxy-Authorization; ACK of the 407 is not challenged", async () => {
    h = await createHarness({
      auth: { ...AUTH, algorithms: ["MD5"] as const, proxy: true, methods: ["INVITE"] },
    });
    const p = peer({ user: "alice" });
    await h.send(invite(p, { to: "486" }).text);
    const challenge = h.next({ status: 407 });
    expect(challenge.text.split("\r\n", 1)[0]).toBe("SIP/2.0 407 Proxy Authentication Required");
    const row = res(challenge).headers.get("Proxy-Authenticate")!;
    await h.send(
      invite(p, {
        to: "486",
        headers: [`Proxy-Authorization: ${authorize(row, "INVITE", "sip:486@127.0.0.1:5060")}`],
      }).text,
    );
    expect(res(h.next({ status: 486 })).headers.get("CSeq")).toBe("2 INVITE");
  });
});
