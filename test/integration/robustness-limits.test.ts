/**
 * Issue 10 items 3, 4, 5, 9 and 10 on the wire: byte budgets and overload
 * answered 503 + Retry-After (retransmissions still absorbed), connection
 * caps and timeouts (awaiting the close, small configured timeouts), no
 * retransmission towards a destination that never sent a packet, and UDP
 * answers too large for a datagram named in the log.
 */
import { createServer, connect as netConnect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  createLogger,
  type SipMock,
  type SipMockOptions,
  silentLogger,
  startSipMock,
} from "../../src/index.js";
import { run, start, waitForOutput } from "../helpers/cli.js";
import {
  header,
  type Received,
  request,
  responseTo,
  statusOf,
  tcpClient,
  udpClient,
  type WireClient,
} from "../helpers/wire-client.js";

const TIMERS = { t1: 50, t2: 400, t4: 100 };
let open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(open.map((o) => o.close()));
  open = [];
});

async function mockWith(options: SipMockOptions): Promise<SipMock> {
  const mock = await startSipMock({ timers: TIMERS, logger: silentLogger, ...options });
  open.push(mock);
  return mock;
}

async function udp(mock: SipMock): Promise<{ c: WireClient; to: { host: string; port: number } }> {
  const to = { host: "127.0.0.1", port: mock.address("udp").port };
  const c = await udpClient(to);
  open.push(c);
  return { c, to };
}

const answerTo = (callId: string, status?: number) => (r: Received) =>
  header(r, "Call-ID") === callId && (status === undefined || statusOf(r) === status);

/** In-dialog requests of an answered call: METHOD to sip:USER@ (dial-a-code answers USER's code). */
type InDialog = (method: string, cseq: number, user?: string) => string;

/** INVITE to sip:200@ (dial-a-code: answered 200) and its ACK; the call's in-dialog requests. */
async function answeredCall(
  c: WireClient,
  to: { host: string; port: number },
  callId: string,
): Promise<InDialog> {
  const invite = request("INVITE", "200", to, { localPort: c.port, callId });
  await c.send(invite);
  const ok = await c.waitFor(answerTo(callId, 200));
  const toTag = /;tag=([^;\s]+)/.exec(header(ok, "To") ?? "")?.[1];
  const inDialog: InDialog = (method, cseq, user = "200") =>
    invite
      .replace(/^INVITE sip:200@/, `${method} sip:${user}@`)
      .replace(/branch=[^;\r]+/, `branch=z9hG4bK-${callId}-${method}-${cseq}`)
      .replace(/^(To: [^\r]*)/m, `$1;tag=${toTag}`)
      .replace("CSeq: 1 INVITE", `CSeq: ${cseq} ${method}`);
  await c.send(inDialog("ACK", 1));
  return inDialog;
}

const render = (mock: SipMock) =>
  mock.metrics.render({ transactions: 0, dialogs: 0, journalEntries: 0, overrides: 0 });

function rawConnect(port: number): Promise<{ socket: Socket; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: "127.0.0.1", port }, () =>
      resolve({ socket, closed: new Promise<void>((r) => socket.on("close", () => r())) }),
    );
    socket.on("error", reject);
  });
}

describe("overload: 503 with Retry-After, retransmissions absorbed", () => {
  it("with the transaction budget spent, a new request gets 503 + Retry-After while the ringing INVITE's retransmission still gets its 180", async () => {
    const mock = await mockWith({
      listen: ["udp:127.0.0.1:0"],
      limits: { budgets: { transactions: 10_000 }, retryAfterS: 7, maxEventLoopLagMs: 0 },
    });
    const { c, to } = await udp(mock);
    const invite = request("INVITE", "180", to, {
      localPort: c.port,
      callId: "ring-1",
      extra: [`X-Pad: ${"p".repeat(300)}`],
    });
    await c.send(invite);
    await c.waitFor(answerTo("ring-1", 180));

    await c.send(request("OPTIONS", "alice", to, { localPort: c.port, callId: "opt-1" }));
    const refused = await c.waitFor(answerTo("opt-1"));
    expect(statusOf(refused)).toBe(503);
    expect(header(refused, "Retry-After")).toBe("7");

    // The INVITE's retransmission is absorbed by its transaction: the 180 again, never a 503.
    const before = c.received.filter(answerTo("ring-1", 180)).length;
    await c.send(invite);
    await c.waitFor(
      (r) => answerTo("ring-1", 180)(r) && c.received.filter(answerTo("ring-1", 180)).length > before,
    );
    expect(c.received.filter(answerTo("ring-1", 503))).toHaveLength(0);
    expect(render(mock)).toContain('sipmock_overload_rejections_total{reason="transactions"} 1');

    // Once the INVITE is over (CANCEL is never refused), new requests are answered again.
    await c.send(
      invite
        .replace(/^INVITE (\S+) SIP\/2\.0/, "CANCEL $1 SIP/2.0")
        .replace("CSeq: 1 INVITE", "CSeq: 1 CANCEL"),
    );
    await c.waitFor(answerTo("ring-1", 487));
    // Every one is answered (503 until the CANCEL's and INVITE's transactions end, Timer J/H), then 200.
    for (let i = 0; ; i++) {
      const id = `opt-after-${i}`;
      await c.send(request("OPTIONS", "alice", to, { localPort: c.port, callId: id }));
      if (statusOf(await c.waitFor(answerTo(id))) === 200) break;
      await new Promise((r) => setTimeout(r, 25));
    }
  });

  it("a registrar of a few KiB answers REGISTERs for new AORs 503 + Retry-After; refreshes and calls still work", async () => {
    const mock = await mockWith({
      listen: ["udp:127.0.0.1:0"],
      limits: { budgets: { registrar: 4096 }, maxEventLoopLagMs: 0 },
    });
    const { c, to } = await udp(mock);
    const reg = (user: string, n: number) =>
      request("REGISTER", user, to, {
        localPort: c.port,
        callId: `reg-${user}`,
        cseq: n,
        extra: [`Contact: <sip:${user}@127.0.0.1:${c.port};x=${"c".repeat(1000)}>`],
      });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      await c.send(reg(`u${i}`, 1));
      statuses.push(statusOf(await c.waitFor(answerTo(`reg-u${i}`))));
    }
    expect(statuses.slice(0, 1)).toEqual([200]);
    expect(statuses).toContain(503);
    const refused = c.received.find(answerTo(`reg-u${statuses.indexOf(503)}`))!;
    expect(header(refused, "Retry-After")).toBe("5");
    // A refresh of a kept binding does not grow the registrar: 200.
    await c.send(reg("u0", 2));
    await c.waitFor((r) => answerTo("reg-u0", 200)(r) && header(r, "CSeq") === "2 REGISTER");
    // Only REGISTER is refused: an INVITE is still answered.
    await c.send(request("INVITE", "486", to, { localPort: c.port, callId: "busy-1" }));
    await c.waitFor(answerTo("busy-1", 486));
    const metrics = render(mock);
    expect(metrics).toMatch(/sipmock_overload_rejections_total\{reason="registrar"\} [1-4]/);
    const used = Number(/sipmock_store_bytes\{store="registrar"\} (\d+)/.exec(metrics)?.[1]);
    expect(used).toBeGreaterThan(0);
    expect(used).toBeLessThanOrEqual(4096);
  });

  it("while the (injected) event-loop lag is above the maximum, new requests get 503; afterwards 200", async () => {
    let lag = 0;
    const mock = await mockWith({
      listen: ["udp:127.0.0.1:0"],
      limits: { maxEventLoopLagMs: 500, eventLoopLag: () => lag },
    });
    const { c, to } = await udp(mock);
    lag = 2000;
    await c.send(request("OPTIONS", "alice", to, { localPort: c.port, callId: "lag-1" }));
    expect(statusOf(await c.waitFor(answerTo("lag-1")))).toBe(503);
    lag = 10;
    await c.send(request("OPTIONS", "alice", to, { localPort: c.port, callId: "lag-2" }));
    expect(statusOf(await c.waitFor(answerTo("lag-2")))).toBe(200);
    expect(render(mock)).toContain('sipmock_overload_rejections_total{reason="event-loop-lag"} 1');
  });

  it("with the transaction budget spent, a BYE of a call the mock holds still gets a transaction, one at a time per call; a re-INVITE and a made-up To tag get 503", async () => {
    const mock = await mockWith({
      listen: ["udp:127.0.0.1:0"],
      mediaPort: 40000,
      limits: { budgets: { transactions: 16_000 }, maxEventLoopLagMs: 0 },
    });
    const { c, to } = await udp(mock);
    const one = await answeredCall(c, to, "held-1");
    const two = await answeredCall(c, to, "held-2");
    expect(mock.activeDialogs).toBe(2);
    // A ringing INVITE with a big header spends the budget (its transaction lives until CANCEL).
    await c.send(
      request("INVITE", "180", to, {
        localPort: c.port,
        callId: "ring-2",
        extra: [`X-Pad: ${"p".repeat(3000)}`],
      }),
    );
    await c.waitFor(answerTo("ring-2", 180));
    await c.send(request("OPTIONS", "alice", to, { localPort: c.port, callId: "opt-2" }));
    expect(statusOf(await c.waitFor(answerTo("opt-2")))).toBe(503);

    const answerOf = async (bytes: string, callId: string, method: string) => {
      const seen = c.received.length;
      await c.send(bytes);
      const r = await c.waitFor(
        (m) =>
          c.received.indexOf(m) >= seen && answerTo(callId)(m) && (header(m, "CSeq") ?? "").endsWith(method),
      );
      return statusOf(r);
    };
    // Only a BYE passes: a re-INVITE in a held call stays refused.
    expect(await answerOf(one("INVITE", 2), "held-1", "INVITE")).toBe(503);
    // The BYE ends call 1 (dial-a-code 200).
    expect(await answerOf(one("BYE", 3), "held-1", "BYE")).toBe(200);
    expect(mock.activeDialogs).toBe(1);
    // Call 2's BYE is let through and answered 486: the scenario keeps the call.
    expect(await answerOf(two("BYE", 2, "486"), "held-2", "BYE")).toBe(486);
    expect(mock.activeDialogs).toBe(1);
    // Its next BYE is let through too (the 486 was its answer), and dropped by an override: while
    // that one waits unanswered, the call's next BYE is refused, so a call whose BYEs the scenario
    // holds cannot pile up transactions beyond the budget.
    mock.override({ method: "BYE" }, { fault: { drop: true } }, { times: 1 });
    await c.send(two("BYE", 3));
    expect(await answerOf(two("BYE", 4), "held-2", "BYE")).toBe(503);
    expect(mock.activeDialogs).toBe(1);
    // No call held under a made-up To tag.
    await c.send(request("BYE", "200", to, { localPort: c.port, callId: "held-x", toTag: "made-up" }));
    expect(statusOf(await c.waitFor(answerTo("held-x")))).toBe(503);
    expect(render(mock)).toContain('sipmock_overload_rejections_total{reason="transactions"} 4');
    // Once the dropped BYE's transaction has ended (64*T1 = 3.2 s), the next BYE is let through and ends the call.
    let status = 503;
    for (let cseq = 5; status === 503 && cseq < 200; cseq++) {
      status = await answerOf(two("BYE", cseq), "held-2", "BYE");
      if (status === 503) await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe(200);
    expect(mock.activeDialogs).toBe(0);
  });

  it("with no room for a transaction, the stateless 503 gives a retransmitted INVITE the same To tag (RFC 3261 8.2.7)", async () => {
    const mock = await mockWith({
      listen: ["udp:127.0.0.1:0"],
      limits: { budgets: { transactions: 1 }, maxEventLoopLagMs: 0 },
    });
    const { c, to } = await udp(mock);
    const invite = request("INVITE", "alice", to, { localPort: c.port, callId: "tag-1" });
    await c.send(invite);
    await c.waitFor(answerTo("tag-1", 503));
    await c.send(invite);
    await c.waitFor(() => c.received.filter(answerTo("tag-1", 503)).length === 2);
    const tags = c.received
      .filter(answerTo("tag-1", 503))
      .map((r) => /;tag=([^;\s]+)/.exec(header(r, "To") ?? "")?.[1]);
    expect(tags[0]).toMatch(/^[0-9a-f]{8,}$/);
    expect(tags[1]).toBe(tags[0]);
    // Another request gets another tag.
    await c.send(request("INVITE", "alice", to, { localPort: c.port, callId: "tag-2" }));
    const other = await c.waitFor(answerTo("tag-2", 503));
    expect(header(other, "To")).not.toContain(`tag=${tags[0]}`);
    // Two refusals: the retransmission's 503 is the first one's again (remembered), not a new refusal.
    expect(render(mock)).toContain('sipmock_overload_rejections_total{reason="transactions"} 2');
  });

  it("under event-loop lag a new INVITE gets a stateless 503: its retransmission after the lag gets the same 503, never a call", async () => {
    let lag = 2000;
    const mock = await mockWith({
      listen: ["udp:127.0.0.1:0"],
      limits: { maxEventLoopLagMs: 500, eventLoopLag: () => lag },
    });
    const { c, to } = await udp(mock);
    const invite = request("INVITE", "200", to, { localPort: c.port, callId: "late-1" });
    await c.send(invite);
    const first = await c.waitFor(answerTo("late-1", 503));
    expect(header(first, "Retry-After")).toBe("5");
    expect(header(first, "Warning")).toContain("overloaded (event-loop lag)");
    lag = 0;
    const before = c.received.filter(answerTo("late-1")).length;
    await c.send(invite);
    await c.waitFor(() => c.received.filter(answerTo("late-1")).length > before);
    // Only 503s, all with the first one's To tag (the refusal is remembered for 64*T1): the client that
    // has its 503 would never ACK a 200 for this call.
    const answers = c.received.filter(answerTo("late-1"));
    expect(answers.map(statusOf).every((s) => s === 503)).toBe(true);
    expect(new Set(answers.map((r) => header(r, "To"))).size).toBe(1);
    expect(render(mock)).toContain('sipmock_overload_rejections_total{reason="event-loop-lag"} 1');
    // A new request once the lag is over is served.
    await c.send(request("OPTIONS", "alice", to, { localPort: c.port, callId: "late-2" }));
    expect(statusOf(await c.waitFor(answerTo("late-2")))).toBe(200);
  });

  it("under event-loop lag a BYE within a call the mock holds still gets 200 (it ends the call); a made-up To tag or a new INVITE gets 503", async () => {
    let lag = 0;
    const mock = await mockWith({
      listen: ["udp:127.0.0.1:0"],
      mediaPort: 40000,
      limits: { maxEventLoopLagMs: 500, eventLoopLag: () => lag },
    });
    const { c, to } = await udp(mock);
    const inDialog = await answeredCall(c, to, "dlg-1");
    lag = 2000;
    await c.send(inDialog("BYE", 2));
    const bye = await c.waitFor((r) => answerTo("dlg-1")(r) && /BYE/.test(header(r, "CSeq") ?? ""));
    expect(statusOf(bye)).toBe(200);
    await c.send(request("INVITE", "200", to, { localPort: c.port, callId: "dlg-2" }));
    expect(statusOf(await c.waitFor(answerTo("dlg-2")))).toBe(503);
    // A To tag of no call the mock holds does not pass for one.
    await c.send(request("BYE", "200", to, { localPort: c.port, callId: "dlg-3", toTag: "made-up" }));
    expect(statusOf(await c.waitFor(answerTo("dlg-3")))).toBe(503);
  });

  it("with the transaction budget spent, a BYE too big for the budget's headroom is refused; the call's next BYE still ends it", async () => {
    const mock = await mockWith({
      listen: ["udp:127.0.0.1:0"],
      mediaPort: 40000,
      limits: { budgets: { transactions: 16_000 }, maxEventLoopLagMs: 0 },
    });
    const { c, to } = await udp(mock);
    const call = await answeredCall(c, to, "held-big");
    await c.send(
      request("INVITE", "180", to, {
        localPort: c.port,
        callId: "ring-big",
        extra: [`X-Pad: ${"p".repeat(3000)}`],
      }),
    );
    await c.waitFor(answerTo("ring-big", 180));
    const byeAnswer = async (bytes: string, cseq: number) => {
      await c.send(bytes);
      return statusOf(await c.waitFor((m) => answerTo("held-big")(m) && header(m, "CSeq") === `${cseq} BYE`));
    };
    // 25,000 octets of header: its transaction would be charged about 80 KB, past the 64 KiB headroom.
    const big = call("BYE", 2).replace(
      "Max-Forwards: 70",
      `Max-Forwards: 70\r\nX-Pad: ${"p".repeat(25_000)}`,
    );
    expect(await byeAnswer(big, 2)).toBe(503);
    expect(mock.activeDialogs).toBe(1);
    expect(await byeAnswer(call("BYE", 3), 3)).toBe(200);
    expect(mock.activeDialogs).toBe(0);
  });

  it("with the transaction budget spent, an unsubscribe of a subscription the mock holds still gets a transaction, one at a time; a refresh gets 503", async () => {
    const mock = await mockWith({
      listen: ["udp:127.0.0.1:0"],
      limits: { budgets: { transactions: 16_000 }, maxEventLoopLagMs: 0 },
    });
    const { c, to } = await udp(mock);
    const subscribe = request("SUBSCRIBE", "alice", to, {
      localPort: c.port,
      callId: "held-sub",
      extra: ["Event: presence", "Expires: 60", `Contact: <sip:tester@127.0.0.1:${c.port}>`],
    });
    await c.send(subscribe);
    const ok = await c.waitFor(answerTo("held-sub", 200));
    // Its first NOTIFY answered (one that times out would end the subscription, RFC 6665 4.2.2).
    const first = await c.waitFor((m) => m.text.startsWith("NOTIFY ") && header(m, "Call-ID") === "held-sub");
    await c.send(responseTo(first, 200, "OK"));
    const toTag = /;tag=([^;\s]+)/.exec(header(ok, "To") ?? "")?.[1];
    const again = (cseq: number, expires: number) =>
      subscribe
        .replace(/branch=[^;\r]+/, `branch=z9hG4bK-held-sub-${cseq}`)
        .replace(/^(To: [^\r]*)/m, `$1;tag=${toTag}`)
        .replace("CSeq: 1 SUBSCRIBE", `CSeq: ${cseq} SUBSCRIBE`)
        .replace("Expires: 60", `Expires: ${expires}`);
    const answerOf = async (cseq: number, expires: number, user = "alice") => {
      await c.send(again(cseq, expires).replace(/^SUBSCRIBE sip:alice@/, `SUBSCRIBE sip:${user}@`));
      const r = await c.waitFor(
        (m) => answerTo("held-sub")(m) && new RegExp(`^${cseq} SUBSCRIBE`).test(header(m, "CSeq") ?? ""),
      );
      return statusOf(r);
    };
    // A ringing INVITE with a big header spends the budget (its transaction lives until CANCEL).
    await c.send(
      request("INVITE", "180", to, {
        localPort: c.port,
        callId: "ring-s",
        extra: [`X-Pad: ${"p".repeat(3000)}`],
      }),
    );
    await c.waitFor(answerTo("ring-s", 180));
    // A refresh is new work: refused.
    expect(await answerOf(2, 60)).toBe(503);
    // An unsubscribe is let through and answered 486 (dial-a-code): the subscription stays, and
    // the next unsubscribe may be let through.
    expect(await answerOf(3, 0, "486")).toBe(486);
    // That one is let through, and dropped by an override: while it waits unanswered, the
    // next unsubscribe of the same subscription is refused.
    mock.override({ method: "SUBSCRIBE" }, { fault: { drop: true } }, { times: 1 });
    await c.send(again(4, 0));
    expect(await answerOf(5, 0)).toBe(503);
    expect(render(mock)).toContain('sipmock_overload_rejections_total{reason="transactions"} 2');
    // Once the dropped one's transaction has ended (64*T1 = 3.2 s), the next is let through: 200,
    // and the subscription ends with a final NOTIFY (RFC 6665 4.2.1.4).
    let status = 503;
    for (let cseq = 6; status === 503 && cseq < 200; cseq++) {
      status = await answerOf(cseq, 0);
      if (status === 503) await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe(200);
    const notify = await c.waitFor(
      (m) => m.text.startsWith("NOTIFY ") && /terminated/.test(header(m, "Subscription-State") ?? ""),
    );
    expect(header(notify, "Call-ID")).toBe("held-sub");
  });

  it("under event-loop lag a SUBSCRIBE refresh and unsubscribe of a subscription the mock holds get 200; a new SUBSCRIBE or a made-up To tag gets 503", async () => {
    let lag = 0;
    const mock = await mockWith({
      listen: ["udp:127.0.0.1:0"],
      limits: { maxEventLoopLagMs: 500, eventLoopLag: () => lag },
    });
    const { c, to } = await udp(mock);
    const headers = (expires: number) => [
      "Event: presence",
      `Expires: ${expires}`,
      `Contact: <sip:tester@127.0.0.1:${c.port}>`,
    ];
    const subscribe = request("SUBSCRIBE", "alice", to, {
      localPort: c.port,
      callId: "sub-1",
      extra: headers(60),
    });
    await c.send(subscribe);
    const ok = await c.waitFor(answerTo("sub-1", 200));
    const toTag = /;tag=([^;\s]+)/.exec(header(ok, "To") ?? "")?.[1];
    const again = (cseq: number, expires: number) =>
      subscribe
        .replace(/branch=[^;\r]+/, `branch=z9hG4bK-sub-${cseq}`)
        .replace(/^(To: [^\r]*)/m, `$1;tag=${toTag}`)
        .replace("CSeq: 1 SUBSCRIBE", `CSeq: ${cseq} SUBSCRIBE`)
        .replace("Expires: 60", `Expires: ${expires}`);
    const answerOf = (cseq: number) => (r: Parameters<ReturnType<typeof answerTo>>[0]) =>
      answerTo("sub-1")(r) && new RegExp(`^${cseq} SUBSCRIBE`).test(header(r, "CSeq") ?? "");
    lag = 2000;
    await c.send(again(2, 60));
    expect(statusOf(await c.waitFor(answerOf(2)))).toBe(200);
    await c.send(again(3, 0));
    expect(statusOf(await c.waitFor(answerOf(3)))).toBe(200);
    // Unsubscribed: its dialog is no longer held, so a further refresh is refused like new work.
    await c.send(again(4, 60));
    expect(statusOf(await c.waitFor(answerOf(4)))).toBe(503);
    await c.send(
      request("SUBSCRIBE", "alice", to, { localPort: c.port, callId: "sub-2", extra: headers(60) }),
    );
    expect(statusOf(await c.waitFor(answerTo("sub-2")))).toBe(503);
    await c.send(
      request("SUBSCRIBE", "alice", to, {
        localPort: c.port,
        callId: "sub-3",
        toTag: "made-up",
        extra: headers(60),
      }),
    );
    expect(statusOf(await c.waitFor(answerTo("sub-3")))).toBe(503);
  });

  it("a flood of REGISTERs with big Contacts for new AORs is answered (200 or 503) and stays within the budget", async () => {
    const mock = await mockWith({
      listen: ["tcp:127.0.0.1:0"],
      limits: { budgets: { registrar: 256 * 1024 }, maxEventLoopLagMs: 0 },
      maxMessageSize: 65535,
    });
    const to = { host: "127.0.0.1", port: mock.address("tcp").port };
    const c = await tcpClient(to);
    open.push(c);
    const N = 300;
    const contact = "k".repeat(20_000);
    for (let i = 0; i < N; i++) {
      await c.send(
        request("REGISTER", `f${i}`, to, {
          transport: "TCP",
          localPort: c.port,
          callId: `flood-${i}`,
          extra: [`Contact: <sip:f${i}@127.0.0.1:${c.port};x=${contact}>`],
        }),
      );
    }
    await c.waitFor(answerTo(`flood-${N - 1}`), 20_000);
    const answered = c.received.filter((r) => /^SIP\/2\.0/.test(r.text));
    expect(answered).toHaveLength(N);
    const ok = answered.filter((r) => statusOf(r) === 200).length;
    expect(ok).toBeGreaterThan(0);
    expect(ok).toBeLessThan(N);
    expect(answered.filter((r) => statusOf(r) === 503)).toHaveLength(N - ok);
    const used = Number(/sipmock_store_bytes\{store="registrar"\} (\d+)/.exec(render(mock))?.[1]);
    expect(used).toBeLessThanOrEqual(256 * 1024);
    expect(mock.registrations()).toHaveLength(ok);
  });
});

describe("connections: caps and timeouts", () => {
  it("closes a TCP connection whose message head never completes (slow loris), and one that stays idle", async () => {
    const mock = await mockWith({
      listen: ["tcp:127.0.0.1:0"],
      limits: { connections: { headerTimeoutMs: 200, idleTimeoutMs: 400 } },
    });
    const port = mock.address("tcp").port;
    const loris = await rawConnect(port);
    loris.socket.write(
      "OPTIONS sip:alice@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bK-l\r\n",
    );
    await loris.closed;
    const idle = await rawConnect(port);
    await idle.closed;
    const metrics = render(mock);
    expect(metrics).toContain('sipmock_connections_timed_out_total{reason="header-timeout"} 1');
    expect(metrics).toContain('sipmock_connections_timed_out_total{reason="idle"} 1');
  });

  it("CRLF keep-alives keep a TCP connection open past the idle timeout", async () => {
    const mock = await mockWith({
      listen: ["tcp:127.0.0.1:0"],
      limits: { connections: { idleTimeoutMs: 4000 } },
    });
    const to = { host: "127.0.0.1", port: mock.address("tcp").port };
    const c = await tcpClient(to);
    open.push(c);
    let closed = false;
    void c.closed.then(() => (closed = true));
    // 12 pings 500 ms apart: 6 s, longer than the idle timeout, each far
    // inside it (a loaded machine delaying a ping by seconds cannot close it).
    for (let i = 1; i <= 12; i++) {
      await c.send("\r\n\r\n");
      await c.waitFor(() => c.received.filter((r) => r.text === "\r\n").length >= i);
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(closed).toBe(false);
    await c.send(request("OPTIONS", "alice", to, { transport: "TCP", localPort: c.port, callId: "alive-1" }));
    await c.waitFor(answerTo("alive-1", 200));
  });

  it("closes a TLS connection that never starts its handshake, and a WebSocket never upgraded", async () => {
    const mock = await mockWith({
      listen: ["tls:127.0.0.1:0", "ws:127.0.0.1:0"],
      limits: { connections: { tlsHandshakeTimeoutMs: 200, wsUpgradeTimeoutMs: 200 } },
    });
    const tls = await rawConnect(mock.address("tls").port);
    const ws = await rawConnect(mock.address("ws").port);
    ws.socket.write("GET / HTTP/1.1\r\nHost: x\r\n");
    await Promise.all([tls.closed, ws.closed]);
    const metrics = render(mock);
    expect(metrics).toContain('sipmock_connections_timed_out_total{reason="tls-handshake-timeout"} 1');
    expect(metrics).toContain('sipmock_connections_timed_out_total{reason="ws-upgrade-timeout"} 1');
  });

  it("refuses connections beyond the per-source cap; those admitted are served", async () => {
    const mock = await mockWith({
      listen: ["tcp:127.0.0.1:0"],
      limits: { connections: { maxPerSource: 2 } },
    });
    const to = { host: "127.0.0.1", port: mock.address("tcp").port };
    const a = await tcpClient(to);
    const b = await tcpClient(to);
    open.push(a, b);
    const third = await rawConnect(to.port);
    await third.closed;
    await a.send(request("OPTIONS", "alice", to, { transport: "TCP", localPort: a.port, callId: "cap-a" }));
    await a.waitFor(answerTo("cap-a", 200));
    expect(render(mock)).toContain('sipmock_connections_refused_total{cap="per-source"} 1');
  });

  it("answers a TCP message head over the size limit with 513, then closes", async () => {
    const mock = await mockWith({ listen: ["tcp:127.0.0.1:0"], maxMessageSize: 2000 });
    const to = { host: "127.0.0.1", port: mock.address("tcp").port };
    const c = await tcpClient(to);
    open.push(c);
    const head = request("OPTIONS", "alice", to, {
      transport: "TCP",
      localPort: c.port,
      callId: "huge-1",
    }).replace(/\r\n\r\n$/, "\r\n");
    const pad = Array.from({ length: 40 }, (_, i) => `X-Pad-${i}: ${"h".repeat(80)}\r\n`).join("");
    await c.send(head + pad);
    const answer = await c.waitFor(answerTo("huge-1"));
    expect(statusOf(answer)).toBe(513);
    await c.closed;
  });
});

describe("reflection: the mock's own requests", () => {
  // The third party is another loopback address (127.0.0.2): it never sent the mock anything.
  const registerAt = (
    c: WireClient,
    to: { host: string; port: number },
    user: string,
    contact: { host: string; port: number },
  ) =>
    request("REGISTER", user, to, {
      localPort: c.port,
      callId: `reg-${user}`,
      extra: [`Contact: <sip:${user}@${contact.host}:${contact.port}>`],
    });

  it("are sent once, not retransmitted, to a Contact that never sent the mock a packet; retransmitted to one that did", async () => {
    const mock = await mockWith({ listen: ["udp:127.0.0.1:0"], limits: { maxEventLoopLagMs: 0 } });
    const { c, to } = await udp(mock);
    const victim = await udpClient({ host: "127.0.0.1", port: 9 }, "127.0.0.2");
    open.push(victim);
    await c.send(registerAt(c, to, "reflect", { host: "127.0.0.2", port: victim.port }));
    await c.waitFor(answerTo("reg-reflect", 200));
    // The client's own host, on another port than the one it sent from: still itself.
    const self = await udpClient({ host: "127.0.0.1", port: 9 });
    open.push(self);
    await c.send(registerAt(c, to, "self", { host: "127.0.0.1", port: self.port }));
    await c.waitFor(answerTo("reg-self", 200));

    const [toVictim, toSelf] = await Promise.all([mock.ping("reflect"), mock.ping("self")]);
    expect(toVictim.map((o) => o.status)).toEqual([408]);
    expect(toSelf.map((o) => o.status)).toEqual([408]);
    expect(victim.received.filter((r) => r.text.startsWith("OPTIONS "))).toHaveLength(1);
    // The registered client's address sent us packets: Timer E retransmits to it (RFC 3261 17.1.2.2).
    expect(self.received.filter((r) => r.text.startsWith("OPTIONS ")).length).toBeGreaterThan(1);
    expect(render(mock)).toContain("sipmock_requests_sent_once_total 1");
  });

  it("are retransmitted to a UDP Contact whose host reached the mock over TCP only (RFC 3261 17.1.1.2)", async () => {
    const mock = await mockWith({
      listen: ["udp:127.0.0.1:0", "tcp:127.0.0.1:0"],
      limits: { maxEventLoopLagMs: 0 },
    });
    const tcpTo = { host: "127.0.0.1", port: mock.address("tcp").port };
    const c = await tcpClient(tcpTo);
    open.push(c);
    // The phone answers the mock's UDP listener (its Via).
    const phone = await udpClient({ host: "127.0.0.1", port: mock.address("udp").port });
    open.push(phone);
    await c.send(
      request("REGISTER", "viatcp", tcpTo, {
        transport: "TCP",
        localPort: c.port,
        callId: "reg-viatcp",
        extra: [`Contact: <sip:viatcp@127.0.0.1:${phone.port};transport=udp>`],
      }),
    );
    await c.waitFor(answerTo("reg-viatcp", 200));
    const pending = mock.ping("viatcp");
    const options = () => phone.received.filter((r) => r.text.startsWith("OPTIONS "));
    // Timer E retransmits: the Contact's host sent the mock packets, over TCP.
    await phone.waitFor(() => options().length >= 2);
    await phone.send(responseTo(options()[0]!, 200, "OK", { toTag: "v1" }));
    expect((await pending).map((o) => o.status)).toEqual([200]);
    expect(render(mock)).toContain("sipmock_requests_sent_once_total 0");
  });

  it("are retransmitted to anyone with retransmitToUnknown (a lab that wants it)", async () => {
    const mock = await mockWith({
      listen: ["udp:127.0.0.1:0"],
      limits: { retransmitToUnknown: true, maxEventLoopLagMs: 0 },
    });
    const { c, to } = await udp(mock);
    const other = await udpClient({ host: "127.0.0.1", port: 9 }, "127.0.0.2");
    open.push(other);
    await c.send(registerAt(c, to, "lab", { host: "127.0.0.2", port: other.port }));
    await c.waitFor(answerTo("reg-lab", 200));
    await mock.ping("lab");
    expect(other.received.filter((r) => r.text.startsWith("OPTIONS ")).length).toBeGreaterThan(1);
  });
});

describe("UDP answers too large for a datagram", () => {
  it("are not sent and the log says why", async () => {
    let said: (line: string) => void = () => {};
    const logged = new Promise<string>((resolve) => {
      said = (l) => {
        if (l.includes("do not fit in a UDP datagram")) resolve(l);
      };
    });
    const mock = await mockWith({
      listen: ["udp:127.0.0.1:0"],
      logger: createLogger("warn", false, (l) => said(l)),
      registrar: { maxBindingsPerAor: 20 },
    });
    const { c, to } = await udp(mock);
    // Ten bindings of 7,000 octets: the 200 listing them all exceeds 65,507 octets.
    for (let i = 0; i < 10; i++) {
      await c.send(
        request("REGISTER", "big", to, {
          localPort: c.port,
          callId: "reg-big",
          cseq: i + 1,
          extra: [`Contact: <sip:big${i}@127.0.0.1:${c.port};x=${"b".repeat(7000)}>`],
        }),
      );
      if (i < 8)
        await c.waitFor((r) => answerTo("reg-big", 200)(r) && header(r, "CSeq") === `${i + 1} REGISTER`);
    }
    expect(await logged).toMatch(/\d+ octets do not fit in a UDP datagram \(at most 65507\)/);
  });
});

describe("the mock's own requests over 1300 octets (RFC 3261 18.1.1)", () => {
  const subscribe = (c: WireClient, to: { host: string; port: number }, callId: string) =>
    request("SUBSCRIBE", "alice", to, {
      localPort: c.port,
      callId,
      // A long From comes back as the NOTIFY's To: the NOTIFY is over 1300 octets.
      extra: [
        `From: "${"L".repeat(1500)}" <sip:tester@example.test>;tag=big`,
        "Event: message-summary",
        "Expires: 60",
        `Contact: <sip:tester@127.0.0.1:${c.port}>`,
      ],
    }).replace(/\r\nFrom: "Tester"[^\r]*/, "");

  it("go over TCP when the mock listens on TCP, to the same address and port", async () => {
    const mock = await mockWith({
      listen: ["udp:127.0.0.1:0", "tcp:127.0.0.1:0"],
      limits: { maxEventLoopLagMs: 0 },
    });
    const to = { host: "127.0.0.1", port: mock.address("udp").port };
    const c = await udpClient(to);
    open.push(c);
    const server = createServer();
    await new Promise<void>((r) => server.listen(c.port, "127.0.0.1", () => r()));
    open.push({ close: () => new Promise<void>((r) => server.close(() => r())) });
    const notify = new Promise<string>((resolve) =>
      server.on("connection", (sock) => {
        let text = "";
        sock.on("data", (d) => {
          text += d.toString("latin1");
          if (text.includes("\r\n\r\n")) resolve(text);
        });
        open.push({ close: async () => void sock.destroy() });
      }),
    );
    await c.send(subscribe(c, to, "big-sub-1"));
    await c.waitFor(answerTo("big-sub-1", 200));
    const text = await notify;
    expect(text).toMatch(/^NOTIFY /);
    expect(text).toMatch(/\r\nVia: SIP\/2\.0\/TCP /);
    expect(text.length).toBeGreaterThan(1300);
    expect(c.received.filter((r) => r.text.startsWith("NOTIFY "))).toHaveLength(0);
  });

  it("go over UDP after all when no TCP connection can be made", async () => {
    const mock = await mockWith({
      listen: ["udp:127.0.0.1:0", "tcp:127.0.0.1:0"],
      limits: { maxEventLoopLagMs: 0 },
    });
    const to = { host: "127.0.0.1", port: mock.address("udp").port };
    const c = await udpClient(to);
    open.push(c);
    await c.send(subscribe(c, to, "big-sub-2"));
    const notify = await c.waitFor((r) => r.text.startsWith("NOTIFY "));
    expect(notify.text).toMatch(/\r\nVia: SIP\/2\.0\/UDP /);
  });
});

describe("the CLI flags", () => {
  it("serve --budget registrar=3KiB --retry-after 9: a second AOR gets 503 + Retry-After 9 and the log says so once", async () => {
    const { child, output, port } = await start([
      "serve",
      "--listen",
      "udp:127.0.0.1:0",
      "--budget",
      "registrar=3KiB",
      "--retry-after",
      "9",
    ]);
    open.push({ close: async () => void child.kill("SIGTERM") });
    const to = { host: "127.0.0.1", port };
    const c = await udpClient(to);
    open.push(c);
    for (const user of ["one", "two"]) {
      await c.send(
        request("REGISTER", user, to, {
          localPort: c.port,
          callId: `cli-${user}`,
          extra: [`Contact: <sip:${user}@127.0.0.1:${c.port};x=${"z".repeat(600)}>`],
        }),
      );
    }
    expect(statusOf(await c.waitFor(answerTo("cli-one")))).toBe(200);
    const refused = await c.waitFor(answerTo("cli-two"));
    expect(statusOf(refused)).toBe(503);
    expect(header(refused, "Retry-After")).toBe("9");
    await waitForOutput(
      output,
      /overload: answered 503 \(Retry-After 9\) to new requests: 1 for the registrar budget/,
    );
  });

  it("serve --idle-timeout and --header-timeout reach the TCP listener", async () => {
    const { child, output } = await start([
      "serve",
      "--listen",
      "udp:127.0.0.1:0",
      "--listen",
      "tcp:127.0.0.1:0",
      "--idle-timeout",
      "1500ms",
      "--header-timeout",
      "200ms",
      "--log-level",
      "warn",
    ]);
    open.push({ close: async () => void child.kill("SIGTERM") });
    await waitForOutput(output, /listening on .*tcp:127\.0\.0\.1:\d+/);
    const port = Number(/tcp:127\.0\.0\.1:(\d+)/.exec(output())![1]);
    const loris = await rawConnect(port);
    loris.socket.write("REGISTER sip:127.0.0.1 SIP/2.0\r\n");
    await loris.closed;
    await waitForOutput(output, /closed: header timeout/);
    const idle = await rawConnect(port);
    await idle.closed;
    await waitForOutput(output, /closed: idle/);
  });

  it("--max-queue-delay takes a duration (0: off) and refuses anything else in one line", async () => {
    const bad = run(["serve", "--max-queue-delay", "soon"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
    expect(bad.stderr).toContain("--max-queue-delay");
    const { limitsFromFlags } = await import("../../src/cli/limit-options.js");
    expect(limitsFromFlags({ maxQueueDelay: 250 }).maxQueueDelayMs).toBe(250);
    expect(limitsFromFlags({ maxQueueDelay: 0 }).maxQueueDelayMs).toBe(0);
    // The CLI's default is T1; an embedded mock's is off (options.ts).
    expect(limitsFromFlags({}).maxQueueDelayMs).toBe(500);
  });

  it("a malformed --budget is refused in one line naming the stores", () => {
    const r = run(["serve", "--budget", "cache=1MiB"]);
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("registrar, dialogs, subscriptions, transactions, journal, outbound");
  });
});
