/**
 * The `then:` executor (scenario/follow-ups.ts) through the UA's port:
 * each follow-up goes out exactly `afterMs` after run(), on the UA's
 * scheduler, and its outcome is reported; cancelAll() forgets the rest.
 */
import { describe, expect, it } from "vitest";
import { FollowUpExecutor } from "../../src/scenario/follow-ups.js";
import { Scheduler } from "../../src/transaction/scheduler.js";
import type { FollowUp, FollowUpActions } from "../../src/ua/ports.js";

function setup() {
  let now = 0;
  const scheduler = new Scheduler(
    { now: () => now },
    (e) => {
      throw e;
    },
    true,
  );
  const calls: string[] = [];
  const actions: FollowUpActions = {
    schedule: (ms, fn) => scheduler.schedule(ms, fn),
    hangUp: (callId) => {
      calls.push(`BYE ${callId}`);
      return callId === "gone" ? 0 : 1;
    },
    reinvite: async (callId, offer) => {
      calls.push(`re-INVITE ${callId} ${offer.direction} ${offer.codecs?.join("/") ?? "-"}`);
      return [{ status: 200, reason: "OK" }];
    },
    update: async (callId) => {
      calls.push(`UPDATE ${callId}`);
      return [
        { status: 200, reason: "OK" },
        { status: 481, reason: "Call/Transaction Does Not Exist" },
      ];
    },
    call: async (aor, o) => {
      calls.push(`INVITE ${aor} ${o.from ?? "-"} ${o.cancelAfterMs ?? "-"} ${o.hangUpAfterMs ?? "-"}`);
      return { status: 486, reason: "Busy Here", callId: "c2" };
    },
    notifyMessageWaiting: async (aor, mwi) => {
      calls.push(`NOTIFY ${aor} ${mwi.waiting} ${mwi.newMessages ?? "-"}/${mwi.oldMessages ?? "-"}`);
      return [{ status: 200, reason: "OK" }];
    },
    ping: async (aor) => {
      calls.push(`OPTIONS ${aor}`);
      return [];
    },
    sendDtmf: async (callId, digits) => {
      calls.push(`DTMF ${callId} ${digits}`);
    },
  };
  const advance = async (ms: number) => {
    now += ms;
    scheduler.runDue();
    // Let the actions' promises settle.
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  return { actions, calls, advance };
}

describe("FollowUpExecutor (then:)", () => {
  it("sends each follow-up exactly afterMs later and reports what it got", async () => {
    const { actions, calls, advance } = setup();
    const reports: string[] = [];
    const list: FollowUp[] = [
      { afterMs: 100, send: "UPDATE" },
      { afterMs: 0, send: "DTMF", digits: "12#" },
      { afterMs: 250, send: "re-INVITE", direction: "sendonly", codecs: ["PCMA"] },
      { afterMs: 300, send: "INVITE", from: "bob", cancelAfterMs: 5 },
      { afterMs: 300, send: "NOTIFY", messagesWaiting: true, newMessages: 2 },
      { afterMs: 400, send: "OPTIONS" },
      { afterMs: 500, send: "BYE" },
    ];
    new FollowUpExecutor().run(list, { callId: "c1", aor: "sip:alice@example.com" }, actions, (f, o) =>
      reports.push(`${f.send}: ${o}`),
    );
    expect(calls).toEqual([]);
    await advance(0);
    expect(calls).toEqual(["DTMF c1 12#"]);
    await advance(99);
    expect(calls).toHaveLength(1);
    await advance(1);
    expect(calls.at(-1)).toBe("UPDATE c1");
    await advance(150);
    expect(calls.at(-1)).toBe("re-INVITE c1 sendonly PCMA");
    await advance(50);
    expect(calls.slice(-2)).toEqual([
      "INVITE sip:alice@example.com bob 5 -",
      "NOTIFY sip:alice@example.com true 2/-",
    ]);
    await advance(100);
    expect(calls.at(-1)).toBe("OPTIONS sip:alice@example.com");
    await advance(100);
    expect(calls.at(-1)).toBe("BYE c1");
    expect(reports).toEqual([
      "DTMF: 12# sent as RFC 4733 telephone-events in c1",
      "UPDATE: 200 OK, 481 Call/Transaction Does Not Exist",
      "re-INVITE: 200 OK",
      "INVITE: 486 Busy Here (Call-ID c2)",
      "NOTIFY: 200 OK",
      "OPTIONS: ",
      "BYE: sent in 1 dialog(s) of c1",
    ]);
  });

  it("reports a BYE with no dialog as not sent", async () => {
    const { actions, advance } = setup();
    const reports: string[] = [];
    new FollowUpExecutor().run(
      [{ afterMs: 10, send: "BYE" }],
      { callId: "gone", aor: "sip:a@b" },
      actions,
      (_f, o) => reports.push(o),
    );
    await advance(10);
    expect(reports).toEqual(["not sent: no dialog with Call-ID gone"]);
  });

  it("cancelAll forgets the follow-ups not sent yet", async () => {
    const { actions, calls, advance } = setup();
    const executor = new FollowUpExecutor();
    const target = { callId: "c1", aor: "sip:a@b" };
    executor.run(
      [
        { afterMs: 10, send: "UPDATE" },
        { afterMs: 20, send: "BYE" },
      ],
      target,
      actions,
      () => {},
    );
    await advance(10);
    executor.cancelAll();
    await advance(1000);
    expect(calls).toEqual(["UPDATE c1"]);
  });
});
