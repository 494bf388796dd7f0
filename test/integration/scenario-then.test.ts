/**
 * A scenario's `then:` list on the wire: after a rule answered, the mock
 * sends the scripted requests at their times: a re-INVITE to hold and a BYE
 * after the talk time in the call the rule answered; a NOTIFY for message
 * waiting, an OPTIONS ping and an INVITE to the client that just registered.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SipMock, scenarioFromYaml, silentLogger, startSipMock } from "../../src/index.js";
import {
  ackFor,
  header,
  type Received,
  request,
  responseTo,
  statusOf,
  udpClient,
} from "../helpers/wire-client.js";

const SCENARIO = `
name: scripted
messageSummary: { messagesWaiting: true, newMessages: 3, oldMessages: 1 }
rules:
  - name: voicemail heard
    match: { method: SUBSCRIBE }
    default: true
    then:
      - { after: 200ms, send: NOTIFY, messagesWaiting: false }
  - name: hang up at once
    match: { method: INVITE, requestUri: { user: "^quick$" } }
    respond: 200
    then: [ { send: BYE } ]
  - name: short call
    match: { method: INVITE, requestUri: { user: "^talk$" } }
    respond: 200
    body: sdp
    then:
      - { after: 300ms, send: re-INVITE, direction: sendonly }
      - { after: 800ms, send: BYE }
  - name: welcome
    match: { method: REGISTER }
    default: true
    then:
      - { after: 100ms, send: NOTIFY, messagesWaiting: true, newMessages: 1 }
      - { after: 200ms, send: OPTIONS }
      - { after: 300ms, send: INVITE, from: welcome, hangUpAfter: 300ms }
`;

let mock: SipMock;
let target: { host: string; port: number };

beforeAll(async () => {
  mock = await startSipMock({
    listen: ["udp:127.0.0.1:0"],
    logger: silentLogger,
    timers: { t1: 100 },
    scenario: scenarioFromYaml(SCENARIO),
  });
  target = { host: "127.0.0.1", port: mock.address("udp").port };
});
afterAll(() => mock.close());

const isRequest = (method: string) => (r: Received) => r.text.startsWith(`${method} `);

describe("then:", () => {
  it("in the call: re-INVITE (hold) at 300 ms, BYE at 800 ms after the 200", async () => {
    const c = await udpClient(target);
    try {
      const callId = `then-call-${process.pid}`;
      await c.send(
        request("INVITE", "talk", target, {
          localPort: c.port,
          callId,
          extra: [`Contact: <sip:caller@127.0.0.1:${c.port}>`],
        }),
      );
      const ok = await c.waitFor((r) => statusOf(r) === 200);
      await c.send(ackFor(ok, target, { localPort: c.port }));
      const reinvite = await c.waitFor(isRequest("INVITE"), 2000);
      expect(reinvite.at - ok.at).toBeGreaterThanOrEqual(250);
      expect(reinvite.text).toMatch(/\r\na=sendonly\r\n/);
      expect(header(reinvite, "Call-ID")).toBe(callId);
      await c.send(responseTo(reinvite, 200, "OK"));
      await c.waitFor(isRequest("ACK"));
      const bye = await c.waitFor(isRequest("BYE"), 2000);
      expect(bye.at - ok.at).toBeGreaterThanOrEqual(750);
      expect(header(bye, "Reason")).toMatch(/scripted by the scenario/);
      expect(Number(header(bye, "CSeq")!.split(" ")[0])).toBe(
        Number(header(reinvite, "CSeq")!.split(" ")[0]) + 1,
      );
      await c.send(responseTo(bye, 200, "OK"));
    } finally {
      await c.close();
    }
  });

  it("then: BYE at once still waits for the ACK of the 200 (RFC 3261 15.1.1)", async () => {
    const c = await udpClient(target);
    try {
      const callId = `then-quick-${process.pid}`;
      await c.send(
        request("INVITE", "quick", target, {
          localPort: c.port,
          callId,
          extra: [`Contact: <sip:caller@127.0.0.1:${c.port}>`],
        }),
      );
      const ok = await c.waitFor((r) => statusOf(r) === 200);
      await new Promise((r) => setTimeout(r, 300));
      expect(c.received.filter(isRequest("BYE"))).toHaveLength(0);
      const ackAt = Date.now();
      await c.send(ackFor(ok, target, { localPort: c.port }));
      const bye = await c.waitFor(isRequest("BYE"), 1000);
      expect(bye.at).toBeGreaterThanOrEqual(ackAt);
      await c.send(responseTo(bye, 200, "OK"));
    } finally {
      await c.close();
    }
  });

  it("after a REGISTER: NOTIFY (message waiting), OPTIONS, then an INVITE hung up after 300 ms", async () => {
    const c = await udpClient(target);
    try {
      await c.send(
        request("REGISTER", "newbie", target, {
          localPort: c.port,
          extra: [`Contact: <sip:newbie@127.0.0.1:${c.port}>`, "Expires: 600"],
        }),
      );
      const registered = await c.waitFor((r) => statusOf(r) === 200);
      const notify = await c.waitFor(isRequest("NOTIFY"), 2000);
      expect(notify.text).toMatch(
        /\r\n\r\nMessages-Waiting: yes\r\nMessage-Account: sip:newbie@example\.test\r\nVoice-Message: 1\/0\r\n$/,
      );
      await c.send(responseTo(notify, 200, "OK", { toTag: "n1" }));
      const options = await c.waitFor(isRequest("OPTIONS"), 2000);
      await c.send(responseTo(options, 200, "OK", { toTag: "n2" }));
      const invite = await c.waitFor(isRequest("INVITE"), 2000);
      expect(header(invite, "From")).toMatch(/^<sip:welcome@/);
      expect(invite.at - registered.at).toBeGreaterThanOrEqual(250);
      const answeredAt = Date.now();
      await c.send(
        responseTo(invite, 200, "OK", { toTag: "n3", extra: [`Contact: <sip:newbie@127.0.0.1:${c.port}>`] }),
      );
      const bye = await c.waitFor(isRequest("BYE"), 2000);
      expect(bye.at - answeredAt).toBeGreaterThanOrEqual(250);
      expect(header(bye, "To")).toBe(`<sip:newbie@example.test>;tag=n3`);
      await c.send(responseTo(bye, 200, "OK"));
    } finally {
      await c.close();
    }
  });

  it("messageSummary: the first NOTIFY of a subscription; then: NOTIFY changes it in the subscription", async () => {
    const c = await udpClient(target);
    try {
      const callId = `then-mwi-${process.pid}`;
      await c.send(
        request("SUBSCRIBE", "vm", target, {
          localPort: c.port,
          callId,
          extra: ["Event: message-summary", "Expires: 600", `Contact: <sip:vm@127.0.0.1:${c.port}>`],
        }),
      );
      await c.waitFor((r) => statusOf(r) === 200);
      const first = await c.waitFor(isRequest("NOTIFY"));
      expect(first.text.split("\r\n\r\n")[1]).toBe(
        "Messages-Waiting: yes\r\nMessage-Account: sip:vm@example.test\r\nVoice-Message: 3/1\r\n",
      );
      await c.send(responseTo(first, 200, "OK"));
      const second = await c.waitFor((r) => isRequest("NOTIFY")(r) && r !== first, 2000);
      expect(header(second, "Call-ID")).toBe(callId);
      expect(second.text.split("\r\n\r\n")[1]).toBe(
        "Messages-Waiting: no\r\nMessage-Account: sip:vm@example.test\r\n",
      );
      await c.send(responseTo(second, 200, "OK"));
    } finally {
      await c.close();
    }
  });
});
