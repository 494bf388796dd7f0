/**
 * RFC 4028 session timers on a manual clock, with exact deadlines: the
 * refresher refreshes at Session-Expires/2; the other side sends BYE at
 * expiry - min(32, SE/3) (section 10); retries after 491 (RFC 3261 14.1),
 * 422 (7.4) and other failures. First the timer alone, then through the
 * mock's own requests with real SIP bytes.
 */
import { describe, expect, it } from "vitest";
import { Scheduler } from "../../src/transaction/scheduler.js";
import {
  byeBeforeExpiryMs,
  MAX_REFRESH_ATTEMPTS,
  readSessionExpires,
  type SessionActions,
  SessionTimer,
} from "../../src/ua/dialog/session-timer.js";
import type { ClientOutcome } from "../../src/ua/uac.js";
import { parseResponse, uaHarness } from "./dialog-fixtures.js";

function ok(extra: string[] = []): ClientOutcome {
  const response = parseResponse(
    [
      "SIP/2.0 200 OK",
      "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-x",
      "From: <sip:bob@example.test>;tag=b1",
      "To: <sip:alice@example.test>;tag=a1",
      "Call-ID: st-1@example.test",
      "CSeq: 2 UPDATE",
      ...extra,
      "Content-Length: 0",
      "",
      "",
    ].join("\r\n"),
  );
  return { status: 200, reason: "OK", response };
}

function failure(status: number, extra: string[] = []): ClientOutcome {
  const response = parseResponse(
    [
      `SIP/2.0 ${status} Nope`,
      "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-x",
      "From: <sip:bob@example.test>;tag=b1",
      "To: <sip:alice@example.test>;tag=a1",
      "Call-ID: st-1@example.test",
      "CSeq: 2 UPDATE",
      ...extra,
      "Content-Length: 0",
      "",
      "",
    ].join("\r\n"),
  );
  return { status, reason: "Nope", response };
}

/** A session timer whose refreshes are answered by `answers`, in order; the clock moves by `run(ms)`. */
function timer(answers: Array<ClientOutcome | "conflict" | "gone"> = [], random = () => 0.5) {
  let t = 0;
  const scheduler = new Scheduler({ now: () => t }, undefined, true);
  const session = new SessionTimer(scheduler, random);
  const log: Array<{ at: number; what: string; headers?: ReadonlyArray<readonly [string, string]> }> = [];
  let alive = true;
  const actions: SessionActions = {
    alive: () => alive,
    refresh: async (headers) => {
      log.push({ at: t, what: "refresh", headers });
      return answers.shift() ?? "gone";
    },
    bye: (why) => log.push({ at: t, what: `bye: ${why}` }),
    choseCallId: false,
  };
  return {
    session,
    actions,
    log,
    end: () => {
      alive = false;
    },
    /** Moves the clock to `until` ms in 1 ms steps, letting each refresh's answer settle. */
    async run(until: number) {
      while (t < until) {
        t += 1;
        if (scheduler.pending === 0) t = until;
        // Twice: a retry scheduled "at once" by an answer runs at the same instant.
        for (let i = 0; i < 2; i++) {
          scheduler.runDue();
          await Promise.resolve();
          await Promise.resolve();
        }
      }
    },
  };
}

describe("SessionTimer (RFC 4028 10)", () => {
  it("the other side refreshes: BYE at SE - min(32, SE/3), nothing before", async () => {
    for (const [se, byeAt] of [
      [90, 60_000],
      [1800, 1_768_000],
      [120, 88_000],
    ] as const) {
      expect(byeBeforeExpiryMs(se)).toBe(byeAt);
      const h = timer();
      h.session.start(se, false, h.actions);
      await h.run(byeAt - 1);
      expect(h.log).toEqual([]);
      await h.run(byeAt);
      expect(h.log).toEqual([{ at: byeAt, what: `bye: no session refresh within ${se} s (RFC 4028 10)` }]);
    }
  });

  it("the mock refreshes at SE/2 with Session-Expires refresher=uac and Supported: timer; a 2xx starts the next interval", async () => {
    const h = timer([
      ok(["Session-Expires: 1800;refresher=uac"]),
      ok(["Session-Expires: 1800;refresher=uac"]),
    ]);
    h.session.start(1800, true, h.actions);
    await h.run(899_999);
    expect(h.log).toEqual([]);
    await h.run(900_000);
    expect(h.log).toEqual([
      {
        at: 900_000,
        what: "refresh",
        headers: [
          ["Session-Expires", "1800;refresher=uac"],
          ["Supported", "timer"],
        ],
      },
    ]);
    // The next refresh half an interval after the answer, and no BYE.
    await h.run(1_800_000);
    expect(h.log.map((e) => [e.at, e.what])).toEqual([
      [900_000, "refresh"],
      [1_800_000, "refresh"],
    ]);
  });

  it("the guard: a refresher whose refreshes all fail ends the session at SE - min(32, SE/3)", async () => {
    const h = timer([failure(500), failure(500), failure(500)]);
    h.session.start(90, true, h.actions);
    await h.run(60_000);
    // 45 s: refresh; 500 -> retry after SE/4 = 22.5 s (67.5 s), but the guard fires at 60 s.
    expect(h.log.map((e) => [e.at, e.what])).toEqual([
      [45_000, "refresh"],
      [60_000, "bye: session expired: no refresh succeeded within 90 s (RFC 4028 10)"],
    ]);
  });

  it("a 2xx naming the peer as refresher hands the session over: only the BYE before expiry remains", async () => {
    const h = timer([ok(["Session-Expires: 600;refresher=uas"])]);
    h.session.start(90, true, h.actions);
    await h.run(45_000);
    await h.run(45_000 + byeBeforeExpiryMs(600));
    expect(h.log.map((e) => [e.at, e.what])).toEqual([
      [45_000, "refresh"],
      [45_000 + 568_000, "bye: no session refresh within 600 s (RFC 4028 10)"],
    ]);
  });

  it("a 2xx without Session-Expires keeps the interval and the mock as refresher", async () => {
    const h = timer([ok(), ok()]);
    h.session.start(100, true, h.actions);
    await h.run(100_000);
    expect(h.log.map((e) => e.at)).toEqual([50_000, 100_000]);
  });

  it("422: retried at once with the 422's Min-SE as interval and as Min-SE (7.4)", async () => {
    const h = timer([failure(422, ["Min-SE: 300"]), ok(["Session-Expires: 300;refresher=uac"])]);
    h.session.start(90, true, h.actions);
    await h.run(45_000);
    expect(h.log.map((e) => [e.at, e.headers])).toEqual([
      [
        45_000,
        [
          ["Session-Expires", "90;refresher=uac"],
          ["Supported", "timer"],
        ],
      ],
      [
        45_000,
        [
          ["Session-Expires", "300;refresher=uac"],
          ["Min-SE", "300"],
          ["Supported", "timer"],
        ],
      ],
    ]);
    // The new interval: next refresh 150 s later.
    await h.run(195_000);
    expect(h.log.map((e) => e.at)).toEqual([45_000, 45_000, 195_000]);
  });

  it("422 with a Min-SE not above the interval (or none) is not retried", async () => {
    const h = timer([failure(422, ["Min-SE: 60"])]);
    h.session.start(90, true, h.actions);
    await h.run(59_999);
    expect(h.log.map((e) => e.at)).toEqual([45_000]);
  });

  it("491: retried after 0-2 s when the peer chose the Call-ID, 2.1-4 s when the mock did (14.1)", async () => {
    const h = timer([failure(491), ok()], () => 0.25);
    h.session.start(90, true, h.actions);
    await h.run(46_000);
    expect(h.log.map((e) => e.at)).toEqual([45_000, 45_500]);
    const u = timer([failure(491), ok()], () => 0.25);
    u.session.start(90, true, { ...u.actions, choseCallId: true });
    await u.run(48_000);
    expect(u.log.map((e) => e.at)).toEqual([45_000, 45_000 + 2100 + 475]);
  });

  it("an INVITE in progress (conflict) is retried 1 s later; at most MAX_REFRESH_ATTEMPTS retries", async () => {
    const h = timer(Array.from({ length: 20 }, () => "conflict" as const));
    h.session.start(1800, true, h.actions);
    await h.run(920_000);
    const at = h.log.map((e) => e.at);
    expect(at).toHaveLength(1 + MAX_REFRESH_ATTEMPTS);
    expect(at.slice(0, 3)).toEqual([900_000, 901_000, 902_000]);
  });

  it("a refresh answered after a new interval started is stale: it neither re-arms nor retries", async () => {
    let release!: (o: ClientOutcome) => void;
    const h = timer();
    const slow: SessionActions = {
      ...h.actions,
      refresh: (headers) => {
        h.log.push({ at: -1, what: "refresh", headers });
        return new Promise((r) => {
          release = r;
        });
      },
    };
    h.session.start(90, true, slow);
    await h.run(45_000);
    // The peer refreshed meanwhile (its 2xx started a new interval where it refreshes).
    h.session.start(90, false, slow);
    release(failure(500));
    await h.run(45_000 + 60_000);
    expect(h.log.map((e) => e.what)).toEqual([
      "refresh",
      "bye: no session refresh within 90 s (RFC 4028 10)",
    ]);
  });

  it("stop() and an ended dialog silence it", async () => {
    const h = timer();
    h.session.start(90, true, h.actions);
    h.session.stop();
    expect(h.session.armed).toBe(false);
    await h.run(100_000);
    const g = timer([ok()]);
    g.session.start(90, false, g.actions);
    g.session.start(90, true, g.actions);
    g.end();
    await g.run(44_999);
    expect(h.log).toEqual([]);
    expect(g.log).toEqual([]);
  });

  it("reads Session-Expires tolerantly: no interval, 0 or junk arm nothing", () => {
    expect(readSessionExpires("1800;refresher=uas")).toEqual({ seconds: 1800, refresher: "uas" });
    expect(readSessionExpires("90 ; refresher = UAC")).toEqual({ seconds: 90, refresher: "uac" });
    expect(readSessionExpires("300")).toEqual({ seconds: 300 });
    expect(readSessionExpires("0")).toBeUndefined();
    expect(readSessionExpires("soon")).toBeUndefined();
    expect(readSessionExpires(undefined)).toBeUndefined();
  });
});

describe("session timers of the mock's own calls, on the wire", () => {
  async function answeredCall(h: ReturnType<typeof uaHarness>, extra: string[]) {
    h.register();
    const call = h.requests.call("alice");
    await h.settle();
    const [invite] = h.requestsOf("INVITE");
    await h.answer(invite!.request, 200, "OK", [
      "Contact: <sip:alice@10.0.0.2:5062>",
      "Allow: INVITE, ACK, BYE, CANCEL, UPDATE",
      ...extra,
    ]);
    const result = await call;
    expect(result.status).toBe(200);
    return { invite: invite!, result };
  }

  it("refresher=uac in the 2xx: the mock sends UPDATE at SE/2 in the dialog, then BYE at expiry when nothing answers", async () => {
    const h = uaHarness();
    const { invite } = await answeredCall(h, ["Session-Expires: 90;refresher=uac", "Require: timer"]);
    const start = h.now;
    await h.advance(44_900);
    expect(h.requestsOf("UPDATE")).toHaveLength(0);
    await h.advance(100);
    const [update] = h.requestsOf("UPDATE");
    expect(update!.at - start).toBe(45_000);
    expect(update!.request.headers.get("Session-Expires")).toBe("90;refresher=uac");
    expect(update!.request.headers.get("Supported")).toBe("timer");
    expect(update!.request.headers.get("CSeq")).toBe("2 UPDATE");
    expect(update!.request.headers.get("From")).toBe(invite.request.headers.get("From"));
    expect(update!.request.uri.raw).toBe("sip:alice@10.0.0.2:5062");
    // No answer (Timer F would give up only at 64*T1 = 32 s): the guard ends
    // the session at 90 - min(32, 30) = 60 s (RFC 4028 10).
    await h.advance(14_900);
    expect(h.requestsOf("BYE")).toHaveLength(0);
    await h.advance(100);
    const [bye] = h.requestsOf("BYE");
    expect(bye!.at - start).toBe(60_000);
    expect(bye!.request.headers.get("Reason")).toBe(
      'SIP;text="session expired: no refresh succeeded within 90 s (RFC 4028 10)"',
    );
    expect(bye!.request.headers.get("CSeq")).toBe("3 BYE");
    expect(h.dialogs.size).toBe(0);
  });

  it("refresher=uas in the 2xx (the client refreshes): BYE at SE - min(32, SE/3) without a refresh", async () => {
    const h = uaHarness();
    await answeredCall(h, ["Session-Expires: 120;refresher=uas"]);
    const start = h.now;
    await h.advance(87_900);
    expect(h.requestsOf("BYE")).toHaveLength(0);
    await h.advance(100);
    const [bye] = h.requestsOf("BYE");
    expect(bye!.at - start).toBe(88_000);
    expect(bye!.request.headers.get("Reason")).toBe(
      'SIP;text="no session refresh within 120 s (RFC 4028 10)"',
    );
    expect(h.requestsOf("UPDATE")).toHaveLength(0);
  });
});
