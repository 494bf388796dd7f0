/**
 * SIPp as the UAC, end to end on the wire (UDP and TCP), for the flows the
 * other SIPp tests do not drive: digest registration through a stale nonce
 * (RFC 3261 22, RFC 7616 3.3: stale=true, then a fresh challenge answered),
 * reliable provisional responses (RFC 3262: 180 with Require: 100rel and
 * RSeq, PRACK with RAck gets 200 before the 200 to the INVITE), session
 * timers (RFC 4028: Session-Expires and Require: timer in the 2xx, a refresh
 * by re-INVITE or UPDATE restarts the timer, no refresh makes the mock send
 * a BYE with a Reason before the session expires), a presence subscription
 * ended by Expires: 0 (RFC 6665: 200, then NOTIFY terminated), and REFER in a
 * call (RFC 3515 / RFC 7647: 200, never 202, then a NOTIFY with a sipfrag;
 * a BYE the mock sends afterwards takes the dialog's next CSeq). Every check
 * is made on what SIPp sent and received (SIPp's own <ereg> checks fail the
 * call, the test reads its message trace), and SIPp must exit 0.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SipMock, scenarioFromYaml, silentLogger, startSipMock } from "../../src/index.js";
import {
  cseqMethod,
  headerOfText,
  messageFlow,
  reply200,
  runSipp,
  type SippMessage,
  type SippResult,
  type SippTransport,
  statusOfText,
} from "../peers/sipp.js";

const T1 = 100;
/** Digest nonces live this long (AuthConfig.nonceTtlMs). */
const NONCE_TTL_MS = 1000;
/** Session interval the UAC asks for; the mock's Min-SE is 2 s. */
const SE = 4;
/** RFC 4028 10: the non-refresher sends BYE at SE - min(32, SE/3) after the last refresh. */
const BYE_AFTER_MS = Math.round((SE - Math.min(32, SE / 3)) * 1000);
/** How long SIPp waits after a refresh before going silent: under the BYE delay. */
const REFRESH_AFTER_MS = 1500;

// INVITEs to sip:prack@ ring with a 180, then are answered after 600 ms:
// time for the PRACK to be answered before the 200 to the INVITE.
const SCENARIO = `
rules:
  - name: ring, then answer later
    match: { method: INVITE, requestUri: { user: "^prack$" } }
    steps: [ { send: 180 }, { wait: 600ms }, { respond: 200 } ]
`;

let mock: SipMock;

beforeAll(async () => {
  mock = await startSipMock({
    listen: ["udp:127.0.0.1:0", "tcp:127.0.0.1:0"],
    logger: silentLogger,
    timers: { t1: T1 },
    minSE: 2,
    scenario: scenarioFromYaml(`${SCENARIO}\n`),
    auth: {
      realm: "example.test",
      users: { alice: "secret" },
      // SIPp 3.6 computes MD5 digests (no SHA-256).
      algorithms: ["MD5"],
      methods: ["REGISTER"],
      nonceTtlMs: NONCE_TTL_MS,
    },
  });
});
afterAll(() => mock?.close());

// ---------------------------------------------------------------------------
// Scenario pieces

const HEAD = `<?xml version="1.0" encoding="ISO-8859-1" ?>`;
const FROM = "From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]";
const VIA = "Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport";
const CONTACT = "Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>";

const sdp = (version: number) =>
  [
    "v=0",
    `o=sipp 1 ${version} IN IP4 [local_ip]`,
    "s=-",
    "c=IN IP4 [local_ip]",
    "t=0 0",
    "m=audio 49170 RTP/AVP 0",
    "a=rtpmap:0 PCMU/8000",
    "a=sendrecv",
  ].join("\n");

/** A request SIPp sends (retransmitted every 500 ms over UDP until answered). */
function send(lines: readonly string[], body?: string): string {
  const head = body
    ? [...lines, "Content-Type: application/sdp", "Content-Length: [len]", "", body]
    : [...lines, "Content-Length: 0", "", ""];
  return `  <send retrans="500">
    <![CDATA[
${head.join("\n")}
]]>
  </send>
`;
}

/** An ACK (no retransmission: it has no response). */
function ack(cseq: number, to = "[last_To:]"): string {
  return `  <send>
    <![CDATA[
ACK [next_url] SIP/2.0
${VIA}
${FROM}
${to}
Call-ID: [call_id]
CSeq: ${cseq} ACK
Max-Forwards: 70
Content-Length: 0

]]>
  </send>
`;
}

/** SIPp's 200 to a request the mock sent. */
const answer200 = reply200([CONTACT]);

interface Check {
  /** ERE searched in the header's value (search_in="hdr"), or in the whole message when header is "msg". */
  readonly header: string;
  readonly regexp: string;
}

let checkId = 0;
/** A <recv> whose checks must all hold (check_it: a miss fails the call). */
function recv(kind: string, checks: readonly Check[], attrs = ""): string {
  const actions = checks.map((c) => {
    const id = `c${++checkId}`;
    const where =
      c.header === "msg" || c.header === "body"
        ? `search_in="${c.header}"`
        : `search_in="hdr" header="${c.header}:"`;
    return { id, xml: `<ereg regexp="${c.regexp}" ${where} check_it="true" assign_to="${id}"/>` };
  });
  return `  <recv ${kind}${attrs}>
    <action>
      ${actions.map((a) => a.xml).join("\n      ")}
      <log message="${kind.replace(/"/g, "")}${actions.map((a) => ` [$${a.id}]`).join("")}"/>
    </action>
  </recv>
`;
}

const cseqIs = (seq: number, method: string): Check => ({
  header: "CSeq",
  regexp: `^ *${seq} ${method}$`,
});
const statusIs = (code: number, reason: string): Check => ({
  header: "msg",
  regexp: `^SIP/2\\.0 ${code} ${reason}[[:cntrl:]]`,
});

/** INVITE sip:USER@ with an SDP offer and extra headers. */
function invite(user: string, extra: readonly string[]): string {
  return send(
    [
      `INVITE sip:${user}@[remote_ip]:[remote_port] SIP/2.0`,
      VIA,
      FROM,
      `To: <sip:${user}@[remote_ip]:[remote_port]>`,
      "Call-ID: [call_id]",
      "CSeq: 1 INVITE",
      CONTACT,
      "Max-Forwards: 70",
      ...extra,
    ],
    sdp(1),
  );
}

/** A request inside the dialog: to [next_url], the To of the 2xx saved in $peerto. */
function inDialog(method: string, cseq: number, extra: readonly string[], body?: string): string {
  return send(
    [
      `${method} [next_url] SIP/2.0`,
      VIA,
      FROM,
      "To: [$peerto]",
      "Call-ID: [call_id]",
      `CSeq: ${cseq} ${method}`,
      CONTACT,
      "Max-Forwards: 70",
      ...extra,
    ],
    body,
  );
}

/** Saves the To of a 2xx (with the mock's tag) as $peerto. */
const savePeerTo = `<ereg regexp="[^ ].*;tag=[^;[:space:]]+" search_in="hdr" header="To:" check_it="true" assign_to="peerto"/>`;

/** The 200 to the initial INVITE (after optional 100/180), its To saved, then ACK. */
function answered(checks: readonly Check[] = []): string {
  return `  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
${recv('response="200"', [statusIs(200, "OK"), cseqIs(1, "INVITE"), ...checks], ' rrs="true"').replace(
  "<action>",
  `<action>\n      ${savePeerTo}`,
)}${ack(1, "To: [$peerto]")}`;
}

function scenario(name: string, body: string): string {
  return `${HEAD}\n<scenario name="${name}">\n${body}</scenario>\n`;
}

// ---------------------------------------------------------------------------
// Trace helpers

function received(r: SippResult): SippMessage[] {
  return r.parsed.filter((m) => m.direction === "received");
}
function sent(r: SippResult): SippMessage[] {
  return r.parsed.filter((m) => m.direction === "sent");
}
const receivedFlow = (r: SippResult) => messageFlow(r, "received");
const sentFlow = (r: SippResult) => messageFlow(r, "sent");
function firstReceived(r: SippResult, test: (m: SippMessage) => boolean, what: string): string {
  const m = received(r).find(test);
  if (!m) throw new Error(`no ${what} in SIPp's trace:\n${r.messages}`);
  return m.text;
}
const response = (status: number, method: string) => (m: SippMessage) =>
  statusOfText(m.text) === status && cseqMethod(m.text) === method;
const request = (method: string) => (m: SippMessage) => m.text.startsWith(`${method} `);
const bodyOf = (text: string) => text.slice(text.indexOf("\r\n\r\n") + 4);
const tagOf = (value: string | undefined) => /;tag=([^;\s]+)/.exec(value ?? "")?.[1];

/** Wall-clock times of SIPp's trace entries (the dashed line before each message). */
function traceTimes(r: SippResult): number[] {
  return [...r.messages.matchAll(/^-{20,} (\d{4}-\d\d-\d\d\s+\d\d:\d\d:\d\d\.\d+)/gm)].map((m) =>
    Date.parse(m[1]!.replace(/\s+/, "T")),
  );
}

for (const transport of ["udp", "tcp"] as const) {
  const sippTransport: SippTransport = transport === "udp" ? "u1" : "t1";
  const run = (scenarioXml: string, extra: { timeoutMs?: number; extraArgs?: string[] } = {}) =>
    runSipp({
      scenarioXml,
      target: `127.0.0.1:${mock.address(transport).port}`,
      transport: sippTransport,
      timeoutMs: extra.timeoutMs ?? 10_000,
      ...(extra.extraArgs ? { extraArgs: extra.extraArgs } : {}),
    });

  describe(`SIPp UAC over ${transport.toUpperCase()}`, () => {
    it("REGISTER: 401, 200 with credentials, the nonce expires, 401 stale=true, 200 with a fresh answer", async () => {
      const register = (cseq: number, auth: boolean) =>
        send([
          "REGISTER sip:[remote_ip]:[remote_port] SIP/2.0",
          VIA,
          "From: <sip:alice@[remote_ip]:[remote_port]>;tag=[pid]SIPpTag[call_number]",
          "To: <sip:alice@[remote_ip]:[remote_port]>",
          "Call-ID: [call_id]",
          `CSeq: ${cseq} REGISTER`,
          "Contact: <sip:alice@[local_ip]:[local_port];transport=[transport]>",
          "Expires: 300",
          "Max-Forwards: 70",
          ...(auth ? ["[authentication]"] : []),
        ]);
      const challenge = (stale: boolean) =>
        recv(
          'response="401"',
          [
            statusIs(401, "Unauthorized"),
            {
              header: "WWW-Authenticate",
              regexp: `^ *Digest realm=&quot;example\\.test&quot;, nonce=&quot;[^&quot;]+&quot;.*algorithm=MD5${stale ? ".*[, ]stale=true" : ""}`,
            },
          ],
          ' auth="true"',
        );
      const ok = (cseq: number) => recv('response="200"', [statusIs(200, "OK"), cseqIs(cseq, "REGISTER")]);
      const xml = scenario(
        "register through a stale nonce",
        `${register(1, false)}${challenge(false)}${register(2, true)}${ok(2)}${register(3, true)}${ok(3)}  <pause milliseconds="${NONCE_TTL_MS + 600}"/>
${register(4, true)}${challenge(true)}${register(5, true)}${ok(5)}`,
      );
      // REGISTER 3 reuses the nonce (nc=2) while it is fresh: 200. REGISTER 4
      // reuses it once it expired: 401 stale=true. REGISTER 5 answers the new one.
      const r = await run(xml, { extraArgs: ["-au", "alice", "-ap", "secret"] });
      expect(r.exitCode, r.summary).toBe(0);
      expect(receivedFlow(r)).toEqual([
        "401 REGISTER",
        "200 REGISTER",
        "200 REGISTER",
        "401 REGISTER",
        "200 REGISTER",
      ]);
      const challenges = received(r).filter(response(401, "REGISTER"));
      const nonceOf = (v: string | undefined) => /(?:^|[\s,])nonce="([^"]+)"/.exec(v ?? "")?.[1];
      const [first, staleOne] = [challenges[0]!.text, challenges.at(-1)!.text];
      expect(headerOfText(first, "WWW-Authenticate")).not.toMatch(/stale/i);
      expect(headerOfText(staleOne, "WWW-Authenticate")).toMatch(/,\s*stale=true(,|$)/i);
      // The credentials SIPp sent: REGISTER 2-4 answer the first nonce, 5 the stale challenge's new one.
      const registers = sent(r).filter((m) => m.text.startsWith("REGISTER "));
      const authNonce = (cseq: number) =>
        nonceOf(
          headerOfText(
            registers.find((m) => headerOfText(m.text, "CSeq") === `${cseq} REGISTER`)!.text,
            "Authorization",
          ),
        );
      const firstNonce = nonceOf(headerOfText(first, "WWW-Authenticate"));
      const freshNonce = nonceOf(headerOfText(staleOne, "WWW-Authenticate"));
      expect(firstNonce).toBeTruthy();
      expect(freshNonce).not.toBe(firstNonce);
      expect([2, 3, 4, 5].map(authNonce)).toEqual([firstNonce, firstNonce, firstNonce, freshNonce]);
    });

    it("PRACK: 180 with Require: 100rel and RSeq, PRACK with RAck gets 200, then 200 INVITE, ACK, BYE", async () => {
      const xml = scenario(
        "prack",
        `${invite("prack", ["Supported: 100rel", "Require: 100rel"])}  <recv response="100" optional="true"/>
${recv(
  'response="180"',
  [
    statusIs(180, "Ringing"),
    cseqIs(1, "INVITE"),
    { header: "Require", regexp: "^ *100rel$" },
    { header: "To", regexp: ";tag=" },
  ],
  ' rrs="true"',
).replace(
  "<action>",
  `<action>\n      <ereg regexp="[0-9]+" search_in="hdr" header="RSeq:" check_it="true" assign_to="rseq"/>`,
)}${send([
  "PRACK [next_url] SIP/2.0",
  VIA,
  FROM,
  "[last_To:]",
  "Call-ID: [call_id]",
  "CSeq: 2 PRACK",
  "RAck: [$rseq] 1 INVITE",
  CONTACT,
  "Max-Forwards: 70",
])}${recv('response="200"', [statusIs(200, "OK"), cseqIs(2, "PRACK")])}${recv(
  'response="200"',
  [statusIs(200, "OK"), cseqIs(1, "INVITE"), { header: "Content-Type", regexp: "application/sdp" }],
  ' rrs="true"',
).replace(
  "<action>",
  `<action>\n      ${savePeerTo}`,
)}${ack(1, "To: [$peerto]")}${inDialog("BYE", 3, [])}${recv('response="200"', [cseqIs(3, "BYE")])}`,
      );
      const r = await run(xml);
      expect(r.exitCode, r.summary).toBe(0);
      expect(receivedFlow(r)).toEqual(["100 INVITE", "180 INVITE", "200 PRACK", "200 INVITE", "200 BYE"]);
      const ringing = firstReceived(r, response(180, "INVITE"), "180");
      expect(headerOfText(ringing, "Require")).toBe("100rel");
      const rseq = headerOfText(ringing, "RSeq");
      expect(rseq).toMatch(/^[1-9]\d*$/);
      const prack = sent(r).find((m) => m.text.startsWith("PRACK "))!.text;
      expect(headerOfText(prack, "RAck")).toBe(`${rseq} 1 INVITE`);
      // The PRACK goes to the 180's Contact, in the early dialog the 180 made (RFC 3262 7.1).
      expect(prack.split(" ")[1]).toBe(/<([^>]+)>/.exec(headerOfText(ringing, "Contact") ?? "")?.[1]);
      expect(tagOf(headerOfText(prack, "To"))).toBe(tagOf(headerOfText(ringing, "To")));
      const ok = firstReceived(r, response(200, "INVITE"), "200 INVITE");
      expect(tagOf(headerOfText(ok, "To"))).toBe(tagOf(headerOfText(ringing, "To")));
    });

    for (const refresh of ["re-INVITE", "UPDATE"] as const) {
      it(`session timer: SE ${SE} s refresher=uac, refreshed by ${refresh}, then no refresh: the mock sends BYE with a Reason`, async () => {
        const timer = [`Supported: timer`, `Session-Expires: ${SE};refresher=uac`, "Min-SE: 2"];
        const seChecks: Check[] = [
          { header: "Session-Expires", regexp: `^ *${SE};refresher=uac$` },
          { header: "Require", regexp: "^ *timer$" },
        ];
        const refreshXml =
          refresh === "re-INVITE"
            ? `${inDialog("INVITE", 2, timer, sdp(2))}  <recv response="100" optional="true"/>
${recv('response="200"', [statusIs(200, "OK"), cseqIs(2, "INVITE"), ...seChecks])}${ack(2, "To: [$peerto]")}`
            : // RFC 4028 9: the 2xx to an UPDATE refresh carries them too.
              `${inDialog("UPDATE", 2, timer)}${recv('response="200"', [statusIs(200, "OK"), cseqIs(2, "UPDATE"), ...seChecks])}`;
        const xml = scenario(
          `session timer, ${refresh}`,
          `${invite("alice", timer)}${answered(seChecks)}  <pause milliseconds="${REFRESH_AFTER_MS}"/>
${refreshXml}${recv(
  'request="BYE"',
  [
    { header: "Reason", regexp: "^ *SIP;text=&quot;[^&quot;]+&quot;" },
    { header: "CSeq", regexp: "^ *[0-9]+ BYE$" },
    { header: "From", regexp: "[^ ].*;tag=[^;[:space:]]+" },
  ],
  ` timeout="${BYE_AFTER_MS + 3000}"`,
)}${answer200}`,
        );
        const r = await run(xml, { timeoutMs: 15_000 });
        expect(r.exitCode, r.summary).toBe(0);
        const refreshMethod = refresh === "re-INVITE" ? "INVITE" : "UPDATE";
        expect(receivedFlow(r).filter((l) => !/^1\d\d /.test(l))).toEqual([
          "200 INVITE",
          `200 ${refreshMethod}`,
          "BYE",
        ]);
        const ok = firstReceived(r, response(200, "INVITE"), "200 INVITE");
        const refreshed = firstReceived(
          r,
          (m) => response(200, refreshMethod)(m) && headerOfText(m.text, "CSeq") === `2 ${refreshMethod}`,
          `200 ${refreshMethod}`,
        );
        for (const m of [ok, refreshed]) {
          expect(headerOfText(m, "Session-Expires")).toBe(`${SE};refresher=uac`);
          expect(headerOfText(m, "Require")).toBe("timer");
        }
        const bye = firstReceived(r, request("BYE"), "BYE");
        // In the dialog: our tag in To, the mock's in From, to our Contact.
        expect(bye.split("\r\n")[0]).toBe(
          `BYE sip:sipp@127.0.0.1:${r.localPort};transport=${transport.toUpperCase()} SIP/2.0`,
        );
        expect(tagOf(headerOfText(bye, "From"))).toBe(tagOf(headerOfText(ok, "To")));
        expect(tagOf(headerOfText(bye, "To"))).toMatch(/SIPpTag/);
        expect(headerOfText(bye, "Call-ID")).toBe(headerOfText(ok, "Call-ID"));
        expect(headerOfText(bye, "Reason")).toMatch(/^SIP;text="[^"]+"$/);
        // Timed from the refresh, not from the first 2xx (SIPp's trace clock).
        const times = traceTimes(r);
        const at = (text: string) => times[r.parsed.findIndex((m) => m.text === text)]!;
        expect(times).toHaveLength(r.parsed.length);
        const sinceRefresh = at(bye) - at(refreshed);
        expect(sinceRefresh).toBeGreaterThan(BYE_AFTER_MS - 300);
        expect(sinceRefresh).toBeLessThan(BYE_AFTER_MS + 1000);
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(mock.dialogs().some((d) => d.callId === headerOfText(ok, "Call-ID"))).toBe(false);
      });
    }

    it("SUBSCRIBE presence: 200, NOTIFY active with PIDF; Expires: 0: 200, NOTIFY terminated", async () => {
      const subscribe = (cseq: number, expires: number, to: string, uri: string) =>
        send([
          `SUBSCRIBE ${uri} SIP/2.0`,
          VIA,
          FROM,
          to,
          "Call-ID: [call_id]",
          `CSeq: ${cseq} SUBSCRIBE`,
          CONTACT,
          "Event: presence",
          "Accept: application/pidf+xml",
          `Expires: ${expires}`,
          "Max-Forwards: 70",
        ]);
      const xml = scenario(
        "presence subscribe, unsubscribe",
        `${subscribe(1, 600, "To: <sip:bob@[remote_ip]:[remote_port]>", "sip:bob@[remote_ip]:[remote_port]")}${recv(
          'response="200"',
          [statusIs(200, "OK"), cseqIs(1, "SUBSCRIBE"), { header: "Expires", regexp: "^ *600$" }],
          ' rrs="true"',
        ).replace("<action>", `<action>\n      ${savePeerTo}`)}${recv('request="NOTIFY"', [
          { header: "Event", regexp: "^ *presence$" },
          { header: "Subscription-State", regexp: "^ *active;expires=[0-9]+$" },
          { header: "Content-Type", regexp: "^ *application/pidf\\+xml$" },
          { header: "body", regexp: "<basic>open</basic>" },
        ])}${answer200}${subscribe(2, 0, "To: [$peerto]", "[next_url]")}${recv('response="200"', [
          statusIs(200, "OK"),
          cseqIs(2, "SUBSCRIBE"),
          { header: "Expires", regexp: "^ *0$" },
        ])}${recv('request="NOTIFY"', [
          { header: "Event", regexp: "^ *presence$" },
          { header: "Subscription-State", regexp: "^ *terminated" },
        ])}${answer200}`,
      );
      const r = await run(xml);
      expect(r.exitCode, r.summary).toBe(0);
      expect(receivedFlow(r)).toEqual(["200 SUBSCRIBE", "NOTIFY", "200 SUBSCRIBE", "NOTIFY"]);
      const ok = firstReceived(r, response(200, "SUBSCRIBE"), "200 SUBSCRIBE");
      const notifies = received(r).filter(request("NOTIFY"));
      const [active, terminated] = [notifies[0]!.text, notifies.at(-1)!.text];
      const sipp = sent(r)[0]!.text;
      for (const n of [active, terminated]) {
        // RFC 6665 4.1.2.2 / 4.2.1.4: in the subscription's dialog, to our Contact.
        expect(n.split("\r\n")[0]).toBe(
          `NOTIFY sip:sipp@127.0.0.1:${r.localPort};transport=${transport.toUpperCase()} SIP/2.0`,
        );
        expect(tagOf(headerOfText(n, "From"))).toBe(tagOf(headerOfText(ok, "To")));
        expect(headerOfText(n, "To")).toBe(headerOfText(sipp, "From"));
        expect(headerOfText(n, "Call-ID")).toBe(headerOfText(sipp, "Call-ID"));
      }
      expect(headerOfText(active, "CSeq")).toBe("1 NOTIFY");
      expect(headerOfText(terminated, "CSeq")).toBe("2 NOTIFY");
      expect(headerOfText(terminated, "Subscription-State")).toMatch(/^terminated(;reason=[a-z]+)?$/);
      expect(bodyOf(active)).toMatch(/<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:bob@[^"]+">/);
    });

    it("REFER in a call: 200 (never 202), NOTIFY refer with message/sipfrag SIP/2.0 200 OK, BYE 200", async () => {
      const xml = scenario(
        "refer in a call",
        `${invite("alice", [])}${answered()}${inDialog("REFER", 2, [
          "Refer-To: <sip:carol@[remote_ip]:[remote_port]>",
        ])}${recv('response="200"', [statusIs(200, "OK"), cseqIs(2, "REFER")])}${recv('request="NOTIFY"', [
          { header: "Event", regexp: "^ *refer(;id=2)?$" },
          { header: "Content-Type", regexp: "^ *message/sipfrag" },
          { header: "Subscription-State", regexp: "^ *terminated" },
          { header: "body", regexp: "^SIP/2\\.0 200 OK" },
        ])}${answer200}${inDialog("BYE", 3, [])}${recv('response="200"', [statusIs(200, "OK"), cseqIs(3, "BYE")])}`,
      );
      const r = await run(xml);
      expect(r.exitCode, r.summary).toBe(0);
      expect(receivedFlow(r).filter((l) => !/^1\d\d /.test(l))).toEqual([
        "200 INVITE",
        "200 REFER",
        "NOTIFY",
        "200 BYE",
      ]);
      expect(received(r).some(response(202, "REFER"))).toBe(false);
      const ok = firstReceived(r, response(200, "INVITE"), "200 INVITE");
      const notify = firstReceived(r, request("NOTIFY"), "NOTIFY");
      expect(headerOfText(notify, "Event")).toBe("refer;id=2");
      expect(headerOfText(notify, "Content-Type")).toBe("message/sipfrag;version=2.0");
      expect(bodyOf(notify)).toBe("SIP/2.0 200 OK\r\n");
      // The implicit subscription lives in the call's dialog (RFC 3515 2.4.4).
      expect(headerOfText(notify, "Call-ID")).toBe(headerOfText(ok, "Call-ID"));
      expect(tagOf(headerOfText(notify, "From"))).toBe(tagOf(headerOfText(ok, "To")));
      expect(sentFlow(r)).toEqual(["INVITE", "ACK", "REFER", "200 NOTIFY", "BYE"]);
    });

    it("REFER in a call, then the mock hangs up: its BYE takes the dialog's next CSeq after the NOTIFY's", async () => {
      const xml = scenario(
        "refer, then a BYE from the mock",
        `${invite("alice", [])}${answered()}${inDialog("REFER", 2, [
          "Refer-To: <sip:carol@[remote_ip]:[remote_port]>",
        ])}${recv('response="200"', [statusIs(200, "OK"), cseqIs(2, "REFER")])}${recv('request="NOTIFY"', [
          { header: "Event", regexp: "^ *refer" },
        ])}${answer200}${recv('request="BYE"', [{ header: "Reason", regexp: "^ *SIP;text=" }], ' timeout="3000"')}${answer200}`,
      );
      // Once SIPp has answered the NOTIFY, hang up from the mock's side.
      let hungUp = 0;
      const stop = mock.onMessage((e) => {
        if (e.direction !== "in" || e.entry.kind !== "response" || !/ NOTIFY$/.test(e.entry.cseq ?? ""))
          return;
        stop();
        const callId = e.entry.callId!;
        setImmediate(() => {
          hungUp = mock.bye(callId);
        });
      });
      try {
        const r = await run(xml);
        expect(r.exitCode, r.summary).toBe(0);
        expect(hungUp).toBe(1);
        const notify = firstReceived(r, request("NOTIFY"), "NOTIFY");
        const bye = firstReceived(r, request("BYE"), "BYE");
        // RFC 3261 12.2.1.1: requests in a dialog take strictly increasing CSeq
        // numbers, one more each time, in each direction.
        const seq = (text: string) => Number(headerOfText(text, "CSeq")!.split(" ")[0]);
        expect(headerOfText(bye, "Call-ID")).toBe(headerOfText(notify, "Call-ID"));
        expect(tagOf(headerOfText(bye, "From"))).toBe(tagOf(headerOfText(notify, "From")));
        expect(seq(bye)).toBe(seq(notify) + 1);
      } finally {
        stop();
      }
    });
  });
}
