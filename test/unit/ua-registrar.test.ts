/**
 * The registrar (RFC 3261 10.3) on the deterministic harness: bindings
 * listed with their remaining expires, removed at exactly their expiry, 423
 * with Min-Expires, the newest kept per AOR.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createHarness, type Harness, res } from "../harness/harness.js";
import { peer, register } from "../harness/messages.js";

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const contacts = (s: ReturnType<Harness["next"]>) => res(s).headers.getAll("Contact");

describe("registrar", () => {
  it("a binding is listed with what remains of its Expires, and removed at exactly its expiry", async () => {
    h = await createHarness();
    const p = peer({ user: "dave" });
    await h.send(register(p, 600));
    const ok = h.next({ method: "REGISTER" });
    expect(res(ok).status).toBe(200);
    expect(contacts(ok)).toEqual(["<sip:dave@192.0.2.10:5062>;expires=600"]);
    expect(res(ok).headers.getAll("Date")).toHaveLength(1);
    await h.advance(250_000);
    await h.send(register(p, undefined, { noContact: true }));
    expect(contacts(h.next({ method: "REGISTER" }))).toEqual(["<sip:dave@192.0.2.10:5062>;expires=350"]);
    expect(h.mock.registrations()).toEqual([
      { aor: "sip:dave@127.0.0.1", contacts: [{ uri: "sip:dave@192.0.2.10:5062", expires: 350 }] },
    ]);
    await h.advance(349_999);
    expect(h.mock.registrations()).toHaveLength(1);
    await h.advance(1);
    expect(h.mock.registrations()).toEqual([]);
    await h.send(register(p, undefined, { noContact: true }));
    expect(contacts(h.next({ method: "REGISTER" }))).toEqual([]);
  });

  it("a refresh restarts the expiry", async () => {
    h = await createHarness();
    const p = peer({ user: "erin" });
    await h.send(register(p, 60));
    await h.advance(50_000);
    await h.send(register(p, 60));
    await h.advance(59_999);
    expect(h.mock.registrations()).toHaveLength(1);
    await h.advance(1);
    expect(h.mock.registrations()).toEqual([]);
  });

  it("a registration shorter than minExpires gets 423 with Min-Expires (10.3 step 7); the newest bindings are kept", async () => {
    h = await createHarness({ registrar: { minExpires: 300, maxBindingsPerAor: 2 } });
    const p = peer({ user: "dave" });
    await h.send(register(p, undefined, { headers: ["Contact: <sip:dave@192.0.2.1>;expires=120"] }));
    const brief = h.next({ method: "REGISTER" });
    expect(brief.text.split("\r\n", 1)[0]).toBe("SIP/2.0 423 Interval Too Brief");
    expect(res(brief).headers.getRows("Min-Expires")).toEqual(["300"]);
    for (const host of ["192.0.2.1", "192.0.2.2", "192.0.2.3"]) {
      await h.send(register(p, 600, { noContact: true, headers: [`Contact: <sip:dave@${host}>`] }));
      await h.advance(1000);
    }
    const last = h.sent({ method: "REGISTER" }).at(-1)!;
    expect(contacts(last)).toEqual(["<sip:dave@192.0.2.2>;expires=599", "<sip:dave@192.0.2.3>;expires=600"]);
  });
});
