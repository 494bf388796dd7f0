/**
 * What the mock does not answer, and what it answers before any rule
 * (RFC 3261 8.2), on the deterministic harness: nothing is sent for garbage
 * or a stray response, ever (moved from uas-wire, which waited 100 ms).
 */
import { afterEach, describe, expect, it } from "vitest";
import { createHarness, type Harness, res } from "../harness/harness.js";
import { options, peer, request } from "../harness/messages.js";

let h: Harness;
afterEach(async () => {
  await h?.close();
});

describe("unanswerable input", () => {
  it("garbage and responses are not answered, and the server keeps answering", async () => {
    h = await createHarness();
    await h.send(Buffer.from([0, 1, 2, 255, 13, 10, 13, 10]));
    await h.send("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1\r\n\r\n");
    await h.send(options(peer()));
    expect(res(h.next()).status).toBe(200);
    await h.advance(64 * 500);
    expect(h.sent()).toHaveLength(1);
  });

  it("an ACK that matches nothing gets nothing; an unknown method 501; Require: foo 420 with Unsupported", async () => {
    const p = peer();
    h = await createHarness();
    await h.send(request(p, "ACK", { toTag: "nope" }));
    expect(h.sent()).toEqual([]);
    await h.send(request(p, "FROB", { toTag: null }));
    expect(res(h.next({ method: "FROB" })).status).toBe(501);
    await h.send(request(p, "OPTIONS", { toTag: null, headers: ["Require: foo"] }));
    const bad = res(h.next({ method: "OPTIONS" }));
    expect(bad.status).toBe(420);
    expect(bad.headers.get("Unsupported")).toBe("foo");
  });
});
