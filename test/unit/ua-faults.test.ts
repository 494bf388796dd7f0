/**
 * Scenario faults and steps that need time, on the deterministic harness:
 * duplicate, noRetransmit, afterRetransmissions, delay, fromOtherPort, drop
 * (scenarios/faults.yaml with dial-a-code for the control cases), and
 * `steps:` waits. Moved from test/integration/scenario-faults-wire.test.ts,
 * where they were sleeps and wall-clock windows.
 */
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createHarness, type Harness, res } from "../harness/harness.js";
import { invite, options, peer } from "../harness/messages.js";

const SCENARIOS = join(import.meta.dirname, "..", "..", "scenarios");
const FAULTS = [join(SCENARIOS, "faults.yaml"), join(SCENARIOS, "default.yaml")];
const T1 = 500;

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const statuses = () => h.sent({ response: true }).map((s) => `${res(s).status}@${s.at}`);

describe("faults that need time (scenarios/faults.yaml)", () => {
  it("duplicate: the final response three times at once (1 + 2 duplicates), then Timer G", async () => {
    h = await createHarness({ scenario: FAULTS });
    await h.send(invite(peer(), { to: "duplicate" }).text);
    expect(statuses()).toEqual(["100@0", "486@0", "486@0", "486@0"]);
    await h.advance(T1);
    expect(statuses()).toEqual(["100@0", "486@0", "486@0", "486@0", "486@500"]);
  });

  it("noRetransmit: a non-2xx final over UDP is sent once, no Timer G; the control retransmits", async () => {
    h = await createHarness({ scenario: FAULTS });
    await h.send(invite(peer(), { to: "noretransmit" }).text);
    await h.send(invite(peer(), { to: "486" }).text);
    await h.advance(64 * T1);
    const finals = h.sent({ status: 486 });
    const byCall = (s: (typeof finals)[number]) => s.message!.core.callId;
    const [faulty, control] = [...new Set(finals.map(byCall))];
    expect(finals.filter((s) => byCall(s) === faulty)).toHaveLength(1);
    expect(finals.filter((s) => byCall(s) === control).map((s) => s.at)).toEqual([
      0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500,
    ]);
  });

  it("afterRetransmissions: 2: silence until the second retransmission, then 100 and 486", async () => {
    h = await createHarness({ scenario: FAULTS });
    const text = invite(peer(), { to: "late" }).text;
    await h.send(text);
    await h.advance(T1);
    expect(h.sent()).toEqual([]);
    await h.send(text);
    await h.advance(2 * T1);
    expect(h.sent()).toEqual([]);
    await h.send(text);
    expect(statuses()).toEqual(["100@1500", "486@1500"]);
    expect(res(h.next({ status: 486 })).headers.get("CSeq")).toBe("1 INVITE");
  });

  it("delay: the 486 comes 200..400 ms after the 100 Trying, nothing before", async () => {
    h = await createHarness({ scenario: FAULTS });
    await h.send(invite(peer(), { to: "slow" }).text);
    expect(statuses()).toEqual(["100@0"]);
    await h.advance(199);
    expect(h.sent({ status: 486 })).toEqual([]);
    await h.advance(201);
    const final = h.next({ status: 486 });
    expect(final.at).toBeGreaterThanOrEqual(200);
    expect(final.at).toBeLessThanOrEqual(400);
    expect(h.sent({ status: 486 })).toHaveLength(1);
  });

  it("fromOtherPort: the 100 comes from the listener's port, the answer from another", async () => {
    h = await createHarness({ scenario: FAULTS });
    await h.send(invite(peer(), { to: "otherport" }).text);
    const trying = h.next({ status: 100 });
    const busy = h.next({ status: 486 });
    expect(trying.via).toBe("listener");
    expect(trying.flow.localSocket).toBeUndefined();
    expect(busy.via).toBe("other-port");
    expect(busy.flow.localSocket?.port).not.toBe(5060);
    expect(h.mock.journal.entries({ direction: "out" }).map((e) => e.local.port)).toEqual([
      5060,
      busy.flow.localSocket!.port,
    ]);
  });

  it("drop: nothing at all, not even 100 Trying, retransmission included; the transaction freed at 64*T1", async () => {
    h = await createHarness({ scenario: FAULTS });
    const text = invite(peer(), { to: "drop" }).text;
    await h.send(text);
    await h.advance(100);
    await h.send(text);
    await h.advance(300);
    expect(h.sent()).toEqual([]);
    expect(h.mock.activeTransactions).toBe(1);
    await h.advance(64 * T1 - 401);
    expect(h.mock.activeTransactions).toBe(1);
    await h.advance(1);
    expect(h.mock.activeTransactions).toBe(0);
    expect(h.sent()).toEqual([]);
  });
});

describe("steps: provisional responses and waits", () => {
  it("send 180, wait 2s, respond 486: the 486 at exactly 2 s", async () => {
    h = await createHarness({
      scenario: `name: steps
rules:
  - match: { method: INVITE }
    steps:
      - send: 180
      - wait: 2s
      - respond: 486
`,
    });
    await h.send(invite(peer(), { to: "bob" }).text);
    expect(statuses()).toEqual(["100@0", "180@0"]);
    await h.advance(1999);
    expect(h.sent({ status: 486 })).toEqual([]);
    await h.advance(1);
    expect(statuses()).toEqual(["100@0", "180@0", "486@2000"]);
  });

  it("respond with a delay: the answer at exactly the delay", async () => {
    h = await createHarness({
      scenario: "name: d\nrules:\n  - match: { method: OPTIONS }\n    respond: 503\n    delay: 1500ms\n",
    });
    await h.send(options(peer()));
    await h.advance(1499);
    expect(h.sent({ status: 503 })).toEqual([]);
    await h.advance(1);
    expect(h.next({ status: 503 }).at).toBe(1500);
  });
});
