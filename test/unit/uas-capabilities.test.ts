/**
 * What a 200 to OPTIONS says the mock supports follows the scenario in
 * force, also when the scenario changes between two requests (the
 * narrowed capabilities and their header texts are made once per scenario).
 */
import { afterEach, describe, expect, it } from "vitest";
import { createHarness, type Harness, res } from "../harness/harness.js";
import { invite, options, peer, request } from "../harness/messages.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("OPTIONS capabilities (RFC 3261 11.2) as the scenario narrows them", () => {
  it("Supported drops 100rel under reliableProvisionals: never, and takes it back when the scenario does", async () => {
    h = await createHarness({ scenario: "reliableProvisionals: never\nrules: []\n" });
    const p = peer();
    const supported = async () => {
      await h!.send(options(p));
      return res(h!.next({ status: 200 })).headers.get("Supported");
    };
    expect(await supported()).toBe("timer");
    expect(await supported()).toBe("timer");
    h.mock.setScenario("reliableProvisionals: required\nrules: []\n");
    expect(await supported()).toBe("100rel, timer");
    h.mock.setScenario("reliableProvisionals: never\nrules: []\n");
    expect(await supported()).toBe("timer");
    const allow = res(h.sent({ status: 200 })[0]!).headers.get("Allow");
    expect(allow).toMatch(/^INVITE, ACK, /);
  });
});

describe("what a response takes from the request and the server, through the whole mock", () => {
  it("a 302 names the Request-URI's user and the listener the INVITE came in on", async () => {
    h = await createHarness();
    const p = peer();
    await h.send(invite(p, { to: "302" }).text);
    const moved = h.next({ status: 302 });
    expect(res(moved).headers.get("Contact")).toBe(`<sip:redirected-302@${p.target};transport=udp>`);
  });

  it("a 180 and a 200 to INVITE carry the mock's Contact; a 501 lists what it allows", async () => {
    h = await createHarness();
    const p = peer();
    await h.send(invite(p, { to: "alice" }).text);
    expect(res(h.next({ status: 180 })).headers.get("Contact")).toBe(
      `<sip:sipmock@${p.target};transport=udp>`,
    );
    expect(res(h.next({ status: 200 })).headers.get("Contact")).toBe(
      `<sip:sipmock@${p.target};transport=udp>`,
    );
    await h.send(request(p, "FOO", { to: "alice" }));
    expect(res(h.next({ status: 501 })).headers.get("Allow")).toMatch(/^INVITE, ACK, CANCEL, BYE, OPTIONS, /);
  });
});
