/**
 * Events (RFC 6665), PUBLISH (RFC 3903), REFER (RFC 3515, RFC 7647): SIPp
 * subscribes and answers the mock's NOTIFY; our client checks expiry,
 * unsubscribe, 489, 412 and the REFER sipfrag. The mock's NOTIFYs use client
 * transactions: over UDP they are retransmitted until answered.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SipMock, scenarioFromYaml, silentLogger, startSipMock } from "../../src/index.js";
import { header, request, statusOf, udpClient, type WireClient } from "../helpers/wire-client.js";
import { reply200, runSipp, subscribeSend } from "../peers/sipp.js";

let mock: SipMock;
let target: { host: string; port: number };

beforeAll(async () => {
  mock = await startSipMock({ listen: ["udp:127.0.0.1:0"], logger: silentLogger, timers: { t1: 100 } });
  target = { host: "127.0.0.1", port: mock.address("udp").port };
});
afterAll(() => mock.close());

let n = 0;
function req(
  c: WireClient,
  method: string,
  o: { callId: string; cseq?: number; toTag?: string; extra?: string[] },
) {
  n++;
  return [
    `${method} sip:bob@127.0.0.1:${target.port} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${c.port};branch=z9hG4bK-ev-${process.pid}-${n};rport`,
    "Max-Forwards: 70",
    "From: <sip:alice@example.test>;tag=ev1",
    `To: <sip:bob@example.test>${o.toTag ? `;tag=${o.toTag}` : ""}`,
    `Call-ID: ${o.callId}`,
    `CSeq: ${o.cseq ?? 1} ${method}`,
    `Contact: <sip:alice@127.0.0.1:${c.port}>`,
    ...(o.extra ?? []),
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");
}

/** Answers every NOTIFY the mock sends with 200 (or the given status). */
function answerNotifies(c: WireClient, status = 200) {
  const seen = new Set<number>();
  const timer = setInterval(() => {
    c.received.forEach((m, i) => {
      if (seen.has(i) || !m.text.startsWith("NOTIFY ")) return;
      seen.add(i);
      const keep = (name: string) => m.text.split("\r\n").filter((l) => l.startsWith(`${name}:`));
      const reply = [
        `SIP/2.0 ${status} ${status === 200 ? "OK" : "Call/Transaction Does Not Exist"}`,
        ...keep("Via"),
        ...keep("From"),
        ...keep("To"),
        ...keep("Call-ID"),
        ...keep("CSeq"),
        "Content-Length: 0",
        "",
        "",
      ].join("\r\n");
      void c.send(reply);
    });
  }, 10);
  return () => clearInterval(timer);
}

const _notifies = (c: WireClient) => c.received.filter((m) => m.text.startsWith("NOTIFY "));

describe("SUBSCRIBE / NOTIFY with SIPp", () => {
  it("SUBSCRIBE to message-summary: 200 with Expires, then a NOTIFY SIPp answers with 200", async () => {
    const xml = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="subscribe">
${subscribeSend("alice", "message-summary", 600)}  <recv response="200">
    <action>
      <ereg regexp="^ *600" search_in="hdr" header="Expires:" check_it="true" assign_to="expires"/>
      <log message="subscribed [$expires]"/>
    </action>
  </recv>
  <recv request="NOTIFY">
    <action>
      <ereg regexp="^ *active;expires=" search_in="hdr" header="Subscription-State:" check_it="true" assign_to="state"/>
      <ereg regexp="Messages-Waiting: no" search_in="body" check_it="true" assign_to="mwi"/>
      <log message="notify [$state] [$mwi]"/>
    </action>
  </recv>
${reply200()}</scenario>
`;
    const r = await runSipp({ scenarioXml: xml, target: `127.0.0.1:${target.port}`, transport: "u1" });
    expect(r.exitCode, r.summary).toBe(0);
    expect(r.stats.successful).toBe(1);
    const notify = r.parsed.find((m) => m.direction === "received" && m.text.startsWith("NOTIFY "))!;
    expect(notify.text).toMatch(/\r\nEvent: message-summary\r\n/);
    expect(notify.text).toMatch(/\r\nContent-Type: application\/simple-message-summary\r\n/);
  });
});

describe("our client", () => {
  it("an unknown package gets 489 with Allow-Events", async () => {
    const c = await udpClient(target);
    await c.send(req(c, "SUBSCRIBE", { callId: "ev-489", extra: ["Event: weather", "Expires: 60"] }));
    const r = await c.waitFor((m) => statusOf(m) >= 200);
    expect(r.text.split("\r\n")[0]).toBe("SIP/2.0 489 Bad Event");
    expect(header(r, "Allow-Events")).toBe("message-summary, presence, dialog");
    await c.close();
  });

  it("Expires: 0 unsubscribes: 200, then a terminating NOTIFY", async () => {
    const c = await udpClient(target);
    const stop = answerNotifies(c);
    await c.send(req(c, "SUBSCRIBE", { callId: "ev-unsub", extra: ["Event: dialog", "Expires: 600"] }));
    const ok = await c.waitFor((m) => statusOf(m) === 200);
    const toTag = /;tag=([^;\s]+)/.exec(header(ok, "To")!)![1]!;
    await c.waitFor((m) => /Subscription-State: active/.test(m.text));
    await c.send(
      req(c, "SUBSCRIBE", { callId: "ev-unsub", cseq: 2, toTag, extra: ["Event: dialog", "Expires: 0"] }),
    );
    const end = await c.waitFor((m) => /Subscription-State: terminated/.test(m.text));
    expect(header(end, "From")).toBe(`<sip:bob@example.test>;tag=${toTag}`);
    stop();
    await c.close();
  });

  it("PUBLISH: 200 with SIP-ETag; refresh with it; an unknown SIP-If-Match gets 412", async () => {
    const c = await udpClient(target);
    await c.send(req(c, "PUBLISH", { callId: "ev-pub", extra: ["Event: presence", "Expires: 60"] }));
    const first = await c.waitFor((m) => statusOf(m) >= 200);
    const etag = header(first, "SIP-ETag")!;
    expect(etag).toMatch(/^\S{8,}$/);
    const from = c.received.length;
    await c.send(
      req(c, "PUBLISH", {
        callId: "ev-pub",
        cseq: 2,
        extra: ["Event: presence", `SIP-If-Match: ${etag}`, "Expires: 60"],
      }),
    );
    const refresh = await c.waitFor((m) => c.received.indexOf(m) >= from && statusOf(m) >= 200);
    expect(statusOf(refresh)).toBe(200);
    expect(header(refresh, "SIP-ETag")).not.toBe(etag);
    const from2 = c.received.length;
    await c.send(
      req(c, "PUBLISH", { callId: "ev-pub", cseq: 3, extra: ["Event: presence", `SIP-If-Match: ${etag}`] }),
    );
    const stale = await c.waitFor((m) => c.received.indexOf(m) >= from2 && statusOf(m) >= 200);
    expect(stale.text.split("\r\n")[0]).toBe("SIP/2.0 412 Conditional Request Failed");
    await c.close();
  });

  it("REFER: 200 (never 202, RFC 7647), then a NOTIFY with a sipfrag", async () => {
    const c = await udpClient(target);
    const stop = answerNotifies(c);
    await c.send(req(c, "REFER", { callId: "ev-refer", extra: ["Refer-To: <sip:carol@example.test>"] }));
    const ok = await c.waitFor((m) => statusOf(m) >= 200);
    expect(ok.text.split("\r\n")[0]).toBe("SIP/2.0 200 OK");
    const notify = await c.waitFor((m) => m.text.startsWith("NOTIFY "));
    expect(header(notify, "Event")).toBe("refer;id=1");
    expect(header(notify, "Subscription-State")).toBe("terminated;reason=noresource");
    expect(header(notify, "Content-Type")).toBe("message/sipfrag;version=2.0");
    expect(notify.text.endsWith("\r\n\r\nSIP/2.0 200 OK\r\n")).toBe(true);
    stop();
    await c.close();
  });
});

describe("a scenario narrows what the mock does", () => {
  it("eventPackages: [presence] refuses message-summary with 489 listing presence; reliableProvisionals: never drops 100rel from Supported", async () => {
    const m = await startSipMock({
      listen: ["udp:127.0.0.1:0"],
      logger: silentLogger,
      scenario: scenarioFromYaml("eventPackages: [presence]\nreliableProvisionals: never\nrules: []\n"),
    });
    const t = { host: "127.0.0.1", port: m.address("udp").port };
    const c = await udpClient(t);
    try {
      const final = async (text: string) => {
        const n = c.received.length;
        await c.send(text);
        return c.waitFor((r) => c.received.indexOf(r) >= n && statusOf(r) >= 200);
      };
      const mwi = await final(
        request("SUBSCRIBE", "vm", t, {
          localPort: c.port,
          extra: ["Event: message-summary", "Expires: 60"],
        }),
      );
      expect(mwi.text.split("\r\n")[0]).toBe("SIP/2.0 489 Bad Event");
      expect(header(mwi, "Allow-Events")).toBe("presence");
      const presence = await final(
        request("SUBSCRIBE", "bob", t, {
          localPort: c.port,
          extra: ["Event: presence", "Expires: 60", `Contact: <sip:me@127.0.0.1:${c.port}>`],
        }),
      );
      expect(statusOf(presence)).toBe(200);
      const options = await final(request("OPTIONS", "bob", t, { localPort: c.port }));
      expect(header(options, "Supported")).not.toMatch(/100rel/);
      expect(header(options, "Supported")).toMatch(/timer/);
    } finally {
      await c.close();
      await m.close();
    }
  });
});
