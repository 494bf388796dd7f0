/**
 * The mock's own requests on a manual clock and an in-memory wire: a real
 * TransactionLayer, UserAgentClient, DialogStore, Registrar and
 * MockRequests; every request the mock sends is kept as bytes and parsed
 * back (src/sip/parser.ts), and the test answers with bytes of its own.
 */
import { type ParsedRequest, parseDatagram } from "../../src/sip/index.js";
import type { ParsedResponse } from "../../src/sip/message.js";
import { Scheduler } from "../../src/transaction/scheduler.js";
import { TransactionLayer } from "../../src/transaction/transaction-layer.js";
import type { Flow } from "../../src/transport/types.js";
import { DialogStore } from "../../src/ua/dialogs.js";
import type { Subscription } from "../../src/ua/events.js";
import { DEFAULT_CAPABILITIES, type LocalIdentity } from "../../src/ua/local-context.js";
import { MockRequests } from "../../src/ua/mock-requests.js";
import { Registrar } from "../../src/ua/registrar.js";
import { type ClientOutcome, UserAgentClient } from "../../src/ua/uac.js";

export const T = { t1: 500, t2: 4000, t4: 5000 };

export const peerFlow: Flow = {
  transport: "udp",
  local: { address: "127.0.0.1", port: 5060 },
  remote: { address: "10.0.0.2", port: 5062 },
};

const identity: LocalIdentity = { host: "127.0.0.1", port: 5060, transport: "udp", sips: false };

export function parseRequest(text: string): ParsedRequest {
  const r = parseDatagram(Buffer.from(text.replace(/\r?\n/g, "\r\n"), "latin1"));
  if (!r.ok || r.message.kind !== "request") throw new Error(`not a request: ${text}`);
  return r.message;
}

export function parseResponse(text: string): ParsedResponse {
  const r = parseDatagram(Buffer.from(text.replace(/\r?\n/g, "\r\n"), "latin1"));
  if (!r.ok || r.message.kind !== "response") throw new Error(`not a response: ${text}`);
  return r.message;
}

export interface Sent {
  readonly at: number;
  readonly flow: Flow;
  readonly request: ParsedRequest;
  readonly text: string;
}

export function uaHarness(options: { subscriptions?: Subscription[] } = {}) {
  let now = 0;
  let wallClock = 1_000_000;
  const scheduler = new Scheduler({ now: () => now }, undefined, true);
  const sent: Sent[] = [];
  const record = (flow: Flow, bytes: Buffer) => {
    const text = bytes.toString("latin1");
    const r = parseDatagram(bytes);
    if (!r.ok) throw new Error(`the mock sent unparseable bytes: ${r.error.detail}\n${text}`);
    if (r.message.kind === "request") sent.push({ at: now, flow, request: r.message, text });
  };
  const layer = new TransactionLayer(
    (flow, bytes) => record(flow, bytes),
    { onRequest() {}, onAck() {} },
    scheduler,
    T,
  );
  const uac = new UserAgentClient({
    layer: () => layer,
    identity: () => identity,
    sendRaw: record,
    scheduler,
    userAgent: "sipmock-test",
  });
  const dialogs = new DialogStore(scheduler, T);
  const registrar = new Registrar(undefined, () => wallClock);
  const notified: Array<{ sub: Subscription; state: string; body: string }> = [];
  const requests = new MockRequests({
    uac,
    dialogs,
    registrar,
    scheduler,
    capabilities: DEFAULT_CAPABILITIES,
    mediaPort: () => 40000,
    identity: () => identity,
    noAnswerMs: 180_000,
    inDialogNoAnswerMs: 32_000,
    natMode: false,
    subscriptionsFor: (user, pkg) =>
      (options.subscriptions ?? []).filter((s) => s.pkg === pkg && s.entity.startsWith(`sip:${user}@`)),
    notifyIn: async (sub, state, content): Promise<ClientOutcome> => {
      notified.push({ sub, state, body: content.body });
      return { status: 200, reason: "OK" };
    },
    now: () => wallClock,
  });

  /** Lets the promises of answered transactions settle (no time passes). */
  const settle = async () => {
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  };

  return {
    scheduler,
    dialogs,
    registrar,
    requests,
    sent,
    notified,
    get now() {
      return now;
    },
    /** Moves the manual clock `ms` forward in steps, running every timer due on the way. */
    async advance(ms: number, step = 100) {
      const end = now + ms;
      while (now < end) {
        now = Math.min(end, now + step);
        scheduler.runDue();
        await settle();
      }
    },
    /** Moves the wall clock (registrations, subscriptions). */
    setWallClock(ms: number) {
      wallClock = ms;
    },
    settle,
    /** The client registers `contact` for sip:alice@example.test (a real REGISTER). */
    register(contact = "<sip:alice@10.0.0.2:5062;transport=udp>") {
      const reg = parseRequest(`REGISTER sip:example.test SIP/2.0
Via: SIP/2.0/UDP 10.0.0.2:5062;branch=z9hG4bK-reg1
Max-Forwards: 70
From: <sip:alice@example.test>;tag=r1
To: <sip:alice@example.test>
Call-ID: reg-1@10.0.0.2
CSeq: 1 REGISTER
Contact: ${contact}
Expires: 3600
Content-Length: 0

`);
      const outcome = registrar.register(reg, peerFlow);
      if (!outcome.ok) throw new Error("REGISTER refused");
    },
    /** The peer answers a request the mock sent, with these extra header lines. */
    async answer(
      req: ParsedRequest,
      status: number,
      reason: string,
      extra: string[] = [],
      toTag = "callee1",
    ) {
      const to = req.headers.get("To")!;
      const text = [
        `SIP/2.0 ${status} ${reason}`,
        ...req.headers.getRows("Via").map((v) => `Via: ${v}`),
        `From: ${req.headers.get("From")}`,
        `To: ${/;tag=/.test(to) ? to : `${to};tag=${toTag}`}`,
        `Call-ID: ${req.core.callId}`,
        `CSeq: ${req.headers.get("CSeq")}`,
        ...extra,
        "Content-Length: 0",
        "",
        "",
      ].join("\r\n");
      layer.receiveResponse(parseResponse(text));
      await settle();
    },
    /** The requests of a method the mock sent, in order. */
    requestsOf(method: string): Sent[] {
      return sent.filter((s) => s.request.method === method);
    },
  };
}

export type UaHarness = ReturnType<typeof uaHarness>;
