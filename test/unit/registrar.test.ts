/**
 * The registrar's lookups (review of issue 10 item 3): an exact AOR and a
 * bare user are found without visiting every AOR, and the user index
 * follows registrations, removals and expiry. Real REGISTER bytes, a
 * manual clock.
 */
import { describe, expect, it, vi } from "vitest";
import { type ParsedRequest, parseDatagram } from "../../src/sip/index.js";
import { Registrar } from "../../src/ua/registrar.js";

function register(user: string, domain: string, expires: number, contact = `<sip:${user}@10.0.0.1:5060>`) {
  const bytes = Buffer.from(
    `REGISTER sip:${domain} SIP/2.0\r
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-${user}-${domain}-${expires}\r
Max-Forwards: 70\r
From: <sip:${user}@${domain}>;tag=f1\r
To: <sip:${user}@${domain}>\r
Call-ID: reg-${user}-${domain}@example.test\r
CSeq: 1 REGISTER\r
Contact: ${contact}\r
Expires: ${expires}\r
Content-Length: 0\r
\r
`,
    "latin1",
  );
  const r = parseDatagram(bytes);
  if (!r.ok || r.message.kind !== "request") throw new Error("bad fixture");
  return r.message as ParsedRequest;
}

const aorsOf = (reg: Registrar, q: string) => reg.lookup(q).map((f) => f.aor);

describe("registrar lookup index", () => {
  const options = { defaultExpires: 3600, minExpires: 60, maxExpires: 86400, maxBindingsPerAor: 10 };

  it("finds an AOR exactly and a bare user's AORs, most recent last, through removals and expiry", () => {
    let now = 0;
    const reg = new Registrar(options, () => now);
    // O(1): a lookup never walks the whole AOR map (it once did, a regex per AOR, on every SUBSCRIBE).
    const walk = vi.spyOn((reg as unknown as { aors: Map<string, unknown> }).aors, "keys");
    expect(reg.register(register("alice", "a.test", 3600)).ok).toBe(true);
    expect(reg.register(register("alice", "b.test", 60)).ok).toBe(true);
    expect(reg.register(register("bob", "a.test", 3600)).ok).toBe(true);
    expect(reg.register(register("alice", "c.test", 3600)).ok).toBe(true);

    expect(aorsOf(reg, "alice")).toEqual(["sip:alice@a.test", "sip:alice@b.test", "sip:alice@c.test"]);
    expect(aorsOf(reg, "sip:alice@B.test")).toEqual(["sip:alice@b.test"]);
    expect(aorsOf(reg, "bob")).toEqual(["sip:bob@a.test"]);
    expect(aorsOf(reg, "sip:carol@a.test")).toEqual([]);
    expect(aorsOf(reg, "carol")).toEqual([]);

    // A refresh makes the AOR the most recent.
    expect(reg.register(register("alice", "a.test", 3600, "<sip:alice@10.0.0.2:5060>")).ok).toBe(true);
    expect(aorsOf(reg, "alice")).toEqual(["sip:alice@b.test", "sip:alice@c.test", "sip:alice@a.test"]);

    // Removal (Expires 0 of its only binding) drops it from the index.
    expect(reg.register(register("alice", "c.test", 0)).ok).toBe(true);
    expect(aorsOf(reg, "alice")).toEqual(["sip:alice@b.test", "sip:alice@a.test"]);
    expect(aorsOf(reg, "sip:alice@c.test")).toEqual([]);

    // Expiry: b.test's 60 s binding lapses; looked up, it is gone for good.
    now += 61_000;
    expect(aorsOf(reg, "alice")).toEqual(["sip:alice@a.test"]);
    expect(aorsOf(reg, "sip:alice@b.test")).toEqual([]);
    expect(reg.size).toBe(2);

    // Registering again after expiry puts it back, last.
    expect(reg.register(register("alice", "b.test", 3600)).ok).toBe(true);
    expect(aorsOf(reg, "alice")).toEqual(["sip:alice@a.test", "sip:alice@b.test"]);

    // Contact: * with Expires: 0 removes every binding of an AOR.
    expect(reg.register(register("bob", "a.test", 0, "*")).ok).toBe(true);
    expect(aorsOf(reg, "bob")).toEqual([]);
    expect(reg.size).toBe(2);
    expect(walk).not.toHaveBeenCalled();
  });
});
