/**
 * Requests the mock sends itself (mock.call, reinvite, notifyMessageWaiting,
 * ping, bye), judged by a SIP peer we did not write: SIPp, over UDP and TCP.
 * SIPp REGISTERs as "sipp" and then plays the called party: the mock's INVITE
 * goes to the registered Contact over the flow SIPp registered on, SIPp rings
 * (180) and answers (200 with SDP and a Contact of its own); the mock ACKs the
 * 2xx at that Contact (RFC 3261 13.2.2.4), puts the call on hold with a
 * re-INVITE (a=sendonly, o= version up, RFC 3264 8.4), sends an unsolicited
 * message-summary NOTIFY (RFC 3842) and an OPTIONS ping to the registered
 * contact, then hangs up with a BYE carrying a Reason (RFC 3326). The dialog's
 * requests go to the remote target with increasing CSeq and steady tags
 * (12.2.1.1). A call SIPp rejects with 486 is ACKed in the INVITE's own
 * transaction (17.1.1.3: same branch), and a call the mock cancels while it
 * rings is CANCELled on the INVITE's branch (9.1), then the 487 ACKed.
 *
 * How SIPp plays a called party after registering: the REGISTER is SIPp's
 * one call (-sf); the mock's requests carry Call-IDs SIPp has never seen, so
 * they go to SIPp's out-of-call scenario (-oocsf), one instance per Call-ID.
 * Those instances check every request with <ereg> and report through SIPp
 * global variables ($done: branches completed, $bad: a check that missed),
 * which the registering call polls: it unregisters and succeeds only once
 * every expected branch is done with no miss, so SIPp exits 0 only if SIPp
 * itself found every request right. The test also reads SIPp's message trace.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type SipMock, silentLogger, startSipMock } from "../../src/index.js";
import {
  cseqMethod,
  headerOfText,
  messageFlow,
  messagesOnce,
  runSipp,
  type SippResult,
  type SippTransport,
  statusOfText,
} from "../peers/sipp.js";

const T1 = 100;
/** Bound of one SIPp run. */
const RUN_MS = 15_000;

let mock: SipMock;
let dir: string;

beforeEach(async () => {
  // A fresh mock per test: pings and NOTIFYs go to every registered contact,
  // so an earlier run's binding must not linger.
  mock = await startSipMock({
    listen: ["udp:127.0.0.1:0", "tcp:127.0.0.1:0"],
    logger: silentLogger,
    timers: { t1: T1 },
  });
  dir = mkdtempSync(join(tmpdir(), "sipmock-sipp-ooc-"));
});
afterEach(async () => {
  await mock?.close();
  rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------
// Scenario pieces

const HEAD = `<?xml version="1.0" encoding="ISO-8859-1" ?>`;
const GLOBALS = `  <Global variables="done,bad"/>\n`;
/** The Contact SIPp answers with: its registered Contact plus a parameter, so the remote target is recognisable. */
const DIALOG_CONTACT = "Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport];line=1>";

interface Check {
  /** A header name, or "msg" / "body" to search the whole message / the body. */
  readonly in: string;
  /** POSIX ERE. */
  readonly regexp: string;
}

let checkId = 0;

function xmlAttr(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
/** Text for a <log> message: SIPp would read [...] as a keyword. */
const logText = (s: string) => xmlAttr(s.replace(/\[/g, "(").replace(/\]/g, ")"));

/**
 * A <recv> of a request whose checks SIPp makes (check_it: a miss goes to
 * SIPp's error trace; `saveVia` also keeps the top Via in that variable),
 * and its verdict: elements that add 1 to the global $bad for every check
 * whose variable stayed unset. Verdicts go at the end of a branch, never
 * between two <recv>: a request arriving while SIPp's call still stands on
 * a <nop> would be "unexpected" (the mock sends the re-INVITE right after
 * the ACK, and over TCP both can come in one read).
 */
function recvRequest(
  method: string,
  checks: readonly Check[],
  options: { attrs?: string; saveVia?: string } = {},
): { readonly recv: string; readonly verdict: string } {
  const ids = checks.map(() => `c${++checkId}`);
  const actions = checks.map((c, i) => {
    const where =
      c.in === "msg" || c.in === "body" ? `search_in="${c.in}"` : `search_in="hdr" header="${c.in}:"`;
    return `<ereg regexp="${xmlAttr(c.regexp)}" ${where} check_it="true" assign_to="${ids[i]}"/>`;
  });
  if (options.saveVia) {
    actions.push(
      `<ereg regexp="[^ ].*" search_in="hdr" header="Via:" check_it="true" assign_to="${options.saveVia}"/>`,
    );
  }
  const recv = `  <recv request="${method}"${options.attrs ?? ""}>
    <action>
      ${actions.join("\n      ")}
      <log message="${method}${ids.map((id) => ` [$${id}]`).join("")}"/>
    </action>
  </recv>
`;
  const verdict = ids
    .map((id, i) => miss(`test="${id}"`, `${method}: ${checks[i]!.in} !~ ${checks[i]!.regexp}`))
    .join("");
  return { recv, verdict };
}

let missId = 0;
/** Unless the variable named in `test` is set: $bad + 1 and a MISS line in SIPp's log. */
function miss(test: string, what: string): string {
  const label = `ok${++missId}`;
  return `  <nop next="${label}" ${test}/>
  <nop>
    <action>
      <add assign_to="bad" value="1"/>
      <log message="MISS ${logText(what)}"/>
    </action>
  </nop>
  <label id="${label}"/>
`;
}

/** Verdict: the top Vias saved in $a and $b are the same string (the same transaction, same branch). */
function sameVia(a: string, b: string, what: string): string {
  const v = `same_${a}_${b}`;
  return `  <nop>
    <action>
      <strcmp assign_to="d_${v}" variable="${a}" variable2="${b}"/>
      <test assign_to="${v}" variable="d_${v}" compare="equal" value="0"/>
      <log message="${logText(what)}: [$${a}] vs [$${b}]"/>
    </action>
  </nop>
${miss(`test="${v}"`, what)}`;
}

/** SIPp's response to the request it received last; `tag` adds its To tag (a request outside a dialog). */
function respond(
  status: string,
  options: { tag?: boolean; contact?: boolean; sdp?: string; retrans?: boolean; extra?: string[] } = {},
): string {
  const lines = [
    `SIP/2.0 ${status}`,
    "[last_Via:]",
    "[last_From:]",
    options.tag ? "[last_To:];tag=[pid]SIPpTag01[call_number]" : "[last_To:]",
    "[last_Call-ID:]",
    "[last_CSeq:]",
    ...(options.contact ? [DIALOG_CONTACT] : []),
    ...(options.extra ?? []),
    ...(options.sdp
      ? ["Content-Type: application/sdp", "Content-Length: [len]", "", options.sdp]
      : ["Content-Length: 0", "", ""]),
  ];
  return `  <send${options.retrans ? ` retrans="500"` : ""}>
    <![CDATA[
${lines.join("\n")}
]]>
  </send>
`;
}

/** SIPp's answer: one audio stream, PCMU, the direction given, o= version given. */
const answerSdp = (version: number, direction: string) =>
  [
    "v=0",
    `o=sipp 7 ${version} IN IP4 [local_ip]`,
    "s=-",
    "c=IN IP4 [local_ip]",
    "t=0 0",
    "m=audio 49180 RTP/AVP 0",
    "a=rtpmap:0 PCMU/8000",
    `a=${direction}`,
  ].join("\n");

/** One more branch of the out-of-call scenario finished. */
const branchDone = `  <nop>
    <action>
      <add assign_to="done" value="1"/>
    </action>
  </nop>
`;

const cseqIs = (seq: number, method: string): Check => ({ in: "CSeq", regexp: `^ *${seq} ${method}$` });
/** The Request-URI: the registered Contact (no line=1) or the Contact of SIPp's 2xx (line=1). */
const requestUriIs = (method: string, target: "registered" | "dialog"): Check => ({
  in: "msg",
  regexp:
    target === "registered"
      ? `^${method} sip:sipp@127\\.0\\.0\\.1:[0-9]+;transport=(UDP|TCP) SIP/2\\.0`
      : `^${method} sip:sipp@127\\.0\\.0\\.1:[0-9]+;transport=(UDP|TCP);line=1 SIP/2\\.0`,
});
const fromTagged: Check = { in: "From", regexp: ";tag=[^;[:space:]]+" };
/** In the dialog: the To carries the tag SIPp put in its 2xx. */
const toHasOurTag: Check = { in: "To", regexp: ";tag=[0-9]+SIPpTag01[0-9]+" };
const noToTag: Check = { in: "To", regexp: "^ *<sip:sipp@127\\.0\\.0\\.1>$" };

/**
 * SIPp's one call: REGISTER as sipp (CSeq 1), 200; then poll the globals
 * every 50 ms until `branches` out-of-call branches are done; a miss ($bad)
 * or `waitMs` without them fails the call. Then REGISTER Expires: 0, 200.
 */
function registerWaitUnregister(branches: number, waitMs: number): string {
  const register = (cseq: number, expires: number) => `  <send retrans="500">
    <![CDATA[
REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: <sip:sipp@[remote_ip]:[remote_port]>;tag=[pid]SIPpTag[call_number]
To: <sip:sipp@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: ${cseq} REGISTER
Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>
Expires: ${expires}
Max-Forwards: 70
Content-Length: 0

]]>
  </send>
  <recv response="200">
    <action>
      <ereg regexp="^ *${cseq} REGISTER$" search_in="hdr" header="CSeq:" check_it="true" assign_to="reg${cseq}"/>
      <log message="registered ${cseq} [$reg${cseq}]"/>
    </action>
  </recv>
`;
  return `${HEAD}
<scenario name="register as sipp, answer the mock, unregister">
${GLOBALS}  <nop>
    <action>
      <assign assign_to="polls" value="0"/>
    </action>
  </nop>
${register(1, 300)}  <label id="wait"/>
  <pause milliseconds="50"/>
  <nop>
    <action>
      <add assign_to="polls" value="1"/>
      <test assign_to="finished" variable="done" compare="greater_than_equal" value="${branches}"/>
      <test assign_to="expired" variable="polls" compare="greater_than" value="${Math.ceil(waitMs / 50)}"/>
    </action>
  </nop>
  <nop next="failed" test="bad"/>
  <nop next="finished" test="finished"/>
  <nop next="failed" test="expired"/>
  <nop next="wait"/>
  <label id="finished"/>
  <nop next="failed" test="bad"/>
${register(2, 0)}  <nop next="end"/>
  <label id="failed"/>
  <nop>
    <action>
      <log message="FAILED: [$done] branches done, [$bad] misses"/>
    </action>
  </nop>
  <recv response="999" timeout="10"/>
  <label id="end"/>
  <nop/>
</scenario>
`;
}

function oocScenario(name: string, body: string): string {
  return `${HEAD}\n<scenario name="${name}">\n${GLOBALS}${body}  <label id="end"/>\n  <nop/>\n</scenario>\n`;
}

/**
 * The called party for the whole flow. One instance per Call-ID: the call
 * (INVITE: 180, 200; ACK; re-INVITE hold: 200 recvonly; ACK; BYE: 200), the
 * NOTIFY (200) and the OPTIONS (200): three branches.
 */
function calledPartyScenario(): string {
  const notify = recvRequest(
    "NOTIFY",
    [
      requestUriIs("NOTIFY", "registered"),
      cseqIs(1, "NOTIFY"),
      fromTagged,
      noToTag,
      { in: "Event", regexp: "^ *message-summary$" },
      { in: "Subscription-State", regexp: "^ *active" },
      { in: "Content-Type", regexp: "^ *application/simple-message-summary$" },
      { in: "body", regexp: "^Messages-Waiting: yes" },
      { in: "body", regexp: "Voice-Message: 2/5" },
    ],
    { attrs: ' optional="true" next="notify"' },
  );
  const options = recvRequest(
    "OPTIONS",
    [requestUriIs("OPTIONS", "registered"), cseqIs(1, "OPTIONS"), fromTagged, noToTag],
    { attrs: ' optional="true" next="options"' },
  );
  const invite = recvRequest("INVITE", [
    requestUriIs("INVITE", "registered"),
    cseqIs(1, "INVITE"),
    fromTagged,
    noToTag,
    { in: "Contact", regexp: "<sip:sipmock@" },
    { in: "Content-Type", regexp: "^ *application/sdp$" },
    { in: "body", regexp: "m=audio [0-9]+ RTP/AVP [0-9 ]*0" },
    { in: "body", regexp: "a=sendrecv" },
  ]);
  const ack = (seq: number) =>
    recvRequest("ACK", [requestUriIs("ACK", "dialog"), cseqIs(seq, "ACK"), toHasOurTag]);
  const hold = recvRequest("INVITE", [
    requestUriIs("INVITE", "dialog"),
    cseqIs(2, "INVITE"),
    fromTagged,
    toHasOurTag,
    { in: "Content-Type", regexp: "^ *application/sdp$" },
    { in: "body", regexp: "a=sendonly" },
  ]);
  const bye = recvRequest("BYE", [
    requestUriIs("BYE", "dialog"),
    cseqIs(3, "BYE"),
    fromTagged,
    toHasOurTag,
    { in: "Reason", regexp: "^ *SIP *;" },
  ]);
  const ack1 = ack(1);
  const ack2 = ack(2);
  const allow = "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, NOTIFY";
  const call = [
    invite.recv,
    respond("180 Ringing", { tag: true, contact: true }),
    respond("200 OK", {
      tag: true,
      contact: true,
      retrans: true,
      extra: [allow],
      sdp: answerSdp(1, "sendrecv"),
    }),
    ack1.recv,
    hold.recv,
    respond("200 OK", { contact: true, retrans: true, sdp: answerSdp(2, "recvonly") }),
    ack2.recv,
    bye.recv,
    respond("200 OK"),
    ...[invite, ack1, hold, ack2, bye].map((x) => x.verdict),
    branchDone,
    `  <nop next="end"/>\n`,
  ];
  return oocScenario(
    "called party",
    [
      notify.recv,
      options.recv,
      ...call,
      `  <label id="notify"/>\n`,
      respond("200 OK", { tag: true }),
      notify.verdict,
      branchDone,
      `  <nop next="end"/>\n`,
      `  <label id="options"/>\n`,
      respond("200 OK", { tag: true, extra: [allow, "Accept: application/sdp"] }),
      options.verdict,
      branchDone,
    ].join(""),
  );
}

/** The called party is busy: INVITE, 486; the ACK must be in the INVITE's transaction. One branch. */
function busyScenario(): string {
  const invite = recvRequest("INVITE", [requestUriIs("INVITE", "registered"), cseqIs(1, "INVITE"), noToTag], {
    saveVia: "inviteVia",
  });
  const ack = recvRequest(
    "ACK",
    [requestUriIs("ACK", "registered"), cseqIs(1, "ACK"), { in: "To", regexp: ";tag=[0-9]+SIPpTag01[0-9]+" }],
    { saveVia: "ackVia" },
  );
  return oocScenario(
    "busy",
    [
      invite.recv,
      respond("486 Busy Here", { tag: true, retrans: true }),
      ack.recv,
      invite.verdict,
      ack.verdict,
      sameVia("inviteVia", "ackVia", "ACK in the INVITE's transaction"),
      branchDone,
    ].join(""),
  );
}

/**
 * The called party rings and the mock gives up: INVITE, 180, CANCEL (same
 * branch) 200, 487 to the INVITE, ACK in the INVITE's transaction. One branch.
 */
function cancelledScenario(): string {
  const invite = recvRequest("INVITE", [requestUriIs("INVITE", "registered"), cseqIs(1, "INVITE")], {
    saveVia: "inviteVia",
  });
  const cancel = recvRequest("CANCEL", [requestUriIs("CANCEL", "registered"), cseqIs(1, "CANCEL"), noToTag], {
    saveVia: "cancelVia",
  });
  const ack = recvRequest("ACK", [requestUriIs("ACK", "registered"), cseqIs(1, "ACK")], {
    saveVia: "ackVia",
  });
  // 487 to the INVITE after the CANCEL's 200: [last_*] are the CANCEL's now,
  // whose Via, From, To and Call-ID equal the INVITE's (9.1); CSeq is the INVITE's.
  const terminated = respond("487 Request Terminated", { tag: true, retrans: true }).replace(
    "[last_CSeq:]",
    "CSeq: 1 INVITE",
  );
  return oocScenario(
    "ring, cancelled",
    [
      invite.recv,
      respond("180 Ringing", { tag: true }),
      cancel.recv,
      respond("200 OK", { tag: true }),
      terminated,
      ack.recv,
      invite.verdict,
      cancel.verdict,
      ack.verdict,
      sameVia("inviteVia", "cancelVia", "CANCEL on the INVITE's branch"),
      sameVia("inviteVia", "ackVia", "ACK in the INVITE's transaction"),
      branchDone,
    ].join(""),
  );
}

// ---------------------------------------------------------------------------
// Trace helpers

const firstLine = (text: string) => text.split("\r\n")[0]!;
const bodyOf = (text: string) => text.slice(text.indexOf("\r\n\r\n") + 4);
const tagOf = (value: string | undefined) => /;tag=([^;\s]+)/.exec(value ?? "")?.[1];
const branchOf = (text: string) => /;branch=([^;\s]+)/.exec(headerOfText(text, "Via") ?? "")?.[1];
const seqOf = (text: string) => Number(headerOfText(text, "CSeq")!.split(" ")[0]);

const receivedOnce = (r: SippResult) => messagesOnce(r, "received");
const receivedFlow = (r: SippResult) => messageFlow(r, "received");
/** The requests of `method` SIPp received, once each, in order. */
function requestsReceived(r: SippResult, method: string): string[] {
  return receivedOnce(r)
    .filter((m) => m.text.startsWith(`${method} `))
    .map((m) => m.text);
}
/** The first response SIPp sent with this status to this CSeq method. */
function sentResponse(r: SippResult, status: number, method: string): string {
  const m = r.parsed.find(
    (x) => x.direction === "sent" && statusOfText(x.text) === status && cseqMethod(x.text) === method,
  );
  if (!m) throw new Error(`SIPp sent no ${status} to ${method}:\n${r.messages}`);
  return m.text;
}

// ---------------------------------------------------------------------------
// Driving

/**
 * Runs SIPp (registering call + out-of-call scenario) and, while it runs,
 * `drive` once the mock has answered SIPp's REGISTER. Returns SIPp's result
 * and what `drive` returned; a failure of `drive` carries SIPp's summary.
 */
async function withSipp<T>(
  transport: "udp" | "tcp",
  branches: number,
  ooc: string,
  drive: (registeredContact: string) => Promise<T>,
): Promise<{ r: SippResult; driven: T }> {
  const oocFile = join(dir, "ooc.xml");
  writeFileSync(oocFile, ooc, "latin1");
  const sippTransport: SippTransport = transport === "udp" ? "u1" : "t1";
  const running = runSipp({
    scenarioXml: registerWaitUnregister(branches, RUN_MS - 5000),
    target: `127.0.0.1:${mock.address(transport).port}`,
    transport: sippTransport,
    timeoutMs: RUN_MS,
    extraArgs: ["-oocsf", oocFile],
  });
  let driven: T;
  try {
    // The mock's journal shows the REGISTER answered with 200.
    await expect
      .poll(
        () =>
          mock.journal
            .entries({ direction: "out", status: 200 })
            .some((e) => e.cseq === "1 REGISTER" && e.transport === transport),
        { timeout: 5000, interval: 20 },
      )
      .toBe(true);
    const [binding] = mock.registrations().flatMap((a) => a.contacts.map((c) => ({ aor: a.aor, ...c })));
    expect(binding?.aor).toBe("sip:sipp@127.0.0.1");
    driven = await drive(binding!.uri);
  } catch (err) {
    const r = await running;
    throw new Error(`${(err as Error).message}\n--- ${r.summary}\n--- SIPp logs:\n${r.logs}\n${r.messages}`);
  }
  return { r: await running, driven };
}

for (const transport of ["udp", "tcp"] as const) {
  const T = transport.toUpperCase();

  describe(`SIPp called by the mock over ${T}`, () => {
    it("registers; INVITE 180/200, ACK; re-INVITE hold 200, ACK; NOTIFY message-summary 200; OPTIONS 200; BYE 200", async () => {
      const { r, driven } = await withSipp(transport, 3, calledPartyScenario(), async (contact) => {
        const call = await mock.call("sipp", { from: "voicemail" });
        expect(call).toMatchObject({ status: 200, reason: "OK", provisional: [180], contact });
        expect(mock.dialogs()).toContainEqual(
          expect.objectContaining({ callId: call.callId, confirmed: true }),
        );
        const hold = await mock.reinvite(call.callId, "sendonly");
        expect(hold.map((o) => [o.status, o.reason])).toEqual([[200, "OK"]]);
        const mwi = await mock.notifyMessageWaiting("sipp", {
          waiting: true,
          newMessages: 2,
          oldMessages: 5,
        });
        expect(mwi.map((o) => [o.status, o.contact])).toEqual([[200, contact]]);
        const ping = await mock.ping("sipp");
        expect(ping.map((o) => [o.status, o.contact])).toEqual([[200, contact]]);
        expect(mock.bye(call.callId)).toBe(1);
        expect(mock.dialogs().some((d) => d.callId === call.callId)).toBe(false);
        return { call, contact };
      });
      const { call, contact } = driven;
      // SIPp's own verdict: every branch done, no <ereg> missed, unregistered.
      expect(r.exitCode, `${r.summary}\n${r.logs}`).toBe(0);
      expect(r.logs).not.toMatch(/MISS/);
      expect(r.errors).not.toMatch(/Failed regexp|unexpected/i);
      expect(receivedFlow(r)).toEqual([
        "200 REGISTER",
        "INVITE",
        "ACK",
        "INVITE",
        "ACK",
        "NOTIFY",
        "OPTIONS",
        "BYE",
        "200 REGISTER",
      ]);
      expect(contact).toBe(`sip:sipp@127.0.0.1:${r.localPort};transport=${T}`);

      const [invite, reinvite] = requestsReceived(r, "INVITE") as [string, string];
      const [ack1, ack2] = requestsReceived(r, "ACK") as [string, string];
      const [bye] = requestsReceived(r, "BYE") as [string];
      const ok = sentResponse(r, 200, "INVITE");
      const remoteTarget = `${contact};line=1`;
      // The INVITE: to the registered Contact, over the flow SIPp registered on.
      expect(firstLine(invite)).toBe(`INVITE ${contact} SIP/2.0`);
      expect(headerOfText(invite, "Via")).toMatch(
        new RegExp(`^SIP/2\\.0/${T} 127\\.0\\.0\\.1:${mock.address(transport).port};branch=z9hG4bK`),
      );
      expect(headerOfText(invite, "To")).toBe("<sip:sipp@127.0.0.1>");
      expect(headerOfText(invite, "From")).toMatch(/^<sip:voicemail@127\.0\.0\.1>;tag=\S+$/);
      expect(headerOfText(invite, "Call-ID")).toBe(call.callId);
      expect(headerOfText(invite, "CSeq")).toBe("1 INVITE");
      expect(headerOfText(invite, "Contact")).toMatch(/^<sip:sipmock@127\.0\.0\.1:\d+;transport=/);
      expect(headerOfText(invite, "Content-Type")).toBe("application/sdp");
      expect(bodyOf(invite)).toMatch(/\r\na=sendrecv\r\n/);
      // Every request in the dialog: same Call-ID, the mock's From (tag), SIPp's To (tag), to the 2xx's Contact.
      const dialogRequests = [ack1, reinvite, ack2, bye];
      for (const m of dialogRequests) {
        expect(headerOfText(m, "Call-ID"), m).toBe(call.callId);
        expect(headerOfText(m, "From"), m).toBe(headerOfText(invite, "From"));
        expect(headerOfText(m, "To"), m).toBe(headerOfText(ok, "To"));
        expect(firstLine(m).split(" ")[1], m).toBe(remoteTarget);
      }
      expect(tagOf(headerOfText(ok, "To"))).toMatch(/SIPpTag01/);
      // 13.2.2.4: the ACK for a 2xx has the INVITE's CSeq number and its own branch.
      expect(headerOfText(ack1, "CSeq")).toBe("1 ACK");
      expect(branchOf(ack1)).not.toBe(branchOf(invite));
      // 12.2.1.1: CSeq one up for each new request in the dialog; the re-INVITE's ACK has its number.
      expect([invite, reinvite, bye].map((m) => headerOfText(m, "CSeq"))).toEqual([
        "1 INVITE",
        "2 INVITE",
        "3 BYE",
      ]);
      expect(headerOfText(ack2, "CSeq")).toBe(`${seqOf(reinvite)} ACK`);
      expect(branchOf(ack2)).not.toBe(branchOf(reinvite));
      // RFC 3264 8: the hold offer keeps the o= session id, version + 1, and is a=sendonly.
      const origin = (t: string) => /(?:^|\r\n)o=\S+ (\d+) (\d+) /.exec(bodyOf(t))!;
      expect(origin(reinvite)[1]).toBe(origin(invite)[1]);
      expect(Number(origin(reinvite)[2])).toBe(Number(origin(invite)[2]) + 1);
      expect(bodyOf(reinvite)).toMatch(/\r\na=sendonly\r\n/);
      expect(headerOfText(reinvite, "Contact")).toMatch(/^<sip:sipmock@/);
      // RFC 3326: the BYE says why.
      expect(headerOfText(bye, "Reason")).toMatch(/^SIP;text="[^"]+"$/);

      // Outside the dialog: NOTIFY and OPTIONS to the registered Contact, each a new Call-ID, no To tag.
      const [notify] = requestsReceived(r, "NOTIFY") as [string];
      const [options] = requestsReceived(r, "OPTIONS") as [string];
      for (const m of [notify, options]) {
        expect(firstLine(m).split(" ")[1], m).toBe(contact);
        expect(headerOfText(m, "To"), m).toBe("<sip:sipp@127.0.0.1>");
        expect(tagOf(headerOfText(m, "From")), m).toBeTruthy();
        expect(headerOfText(m, "Call-ID"), m).not.toBe(call.callId);
        expect(seqOf(m), m).toBe(1);
      }
      expect(headerOfText(notify, "Event")).toBe("message-summary");
      expect(headerOfText(notify, "Subscription-State")).toBe("active");
      expect(headerOfText(notify, "Content-Type")).toBe("application/simple-message-summary");
      expect(bodyOf(notify)).toBe(
        "Messages-Waiting: yes\r\nMessage-Account: sip:sipp@127.0.0.1\r\nVoice-Message: 2/5\r\n",
      );
      expect(headerOfText(options, "Accept")).toBe("application/sdp");

      // The mock's journal holds SIPp's answers to the call's requests, and the binding is gone.
      const answers = mock.journal
        .entries({ direction: "in", callId: call.callId })
        .filter((e) => e.kind === "response" && !e.retransmission)
        .map((e) => `${e.status} ${e.cseq}`);
      expect(answers).toEqual(["180 1 INVITE", "200 1 INVITE", "200 2 INVITE", "200 3 BYE"]);
      expect(mock.registrations()).toEqual([]);
    });

    it("SIPp answers 486: the outcome is 486 and the ACK is in the INVITE's transaction (same Via branch)", async () => {
      const { r, driven: call } = await withSipp(transport, 1, busyScenario(), async (contact) => {
        const call = await mock.call("sip:sipp@127.0.0.1");
        expect(call).toMatchObject({ status: 486, reason: "Busy Here", provisional: [], contact });
        expect(mock.dialogs()).toEqual([]);
        return call;
      });
      expect(r.exitCode, `${r.summary}\n${r.logs}`).toBe(0);
      expect(r.logs).not.toMatch(/MISS/);
      expect(r.errors).not.toMatch(/Failed regexp|unexpected/i);
      expect(receivedFlow(r)).toEqual(["200 REGISTER", "INVITE", "ACK", "200 REGISTER"]);
      const [invite] = requestsReceived(r, "INVITE") as [string];
      const [ack] = requestsReceived(r, "ACK") as [string];
      const busy = sentResponse(r, 486, "INVITE");
      // 17.1.1.3: the INVITE's Request-URI, Call-ID, From, CSeq number and top Via; the response's To.
      expect(headerOfText(ack, "Via")).toBe(headerOfText(invite, "Via"));
      expect(firstLine(ack)).toBe(firstLine(invite).replace(/^INVITE/, "ACK"));
      expect(headerOfText(ack, "CSeq")).toBe("1 ACK");
      expect(headerOfText(ack, "Call-ID")).toBe(call.callId);
      expect(headerOfText(ack, "From")).toBe(headerOfText(invite, "From"));
      expect(headerOfText(ack, "To")).toBe(headerOfText(busy, "To"));
      expect(tagOf(headerOfText(ack, "To"))).toMatch(/SIPpTag01/);
      expect(requestsReceived(r, "BYE")).toEqual([]);
    });

    it("cancelAfterMs while SIPp rings: CANCEL on the INVITE's branch, 200; 487 ACKed on the same branch", async () => {
      const { r, driven: call } = await withSipp(transport, 1, cancelledScenario(), async () => {
        const call = await mock.call("sipp", { cancelAfterMs: 300 });
        expect(call).toMatchObject({ status: 487, reason: "Request Terminated", provisional: [180] });
        return call;
      });
      expect(r.exitCode, `${r.summary}\n${r.logs}`).toBe(0);
      expect(r.logs).not.toMatch(/MISS/);
      expect(r.errors).not.toMatch(/Failed regexp|unexpected/i);
      expect(receivedFlow(r)).toEqual(["200 REGISTER", "INVITE", "CANCEL", "ACK", "200 REGISTER"]);
      const [invite] = requestsReceived(r, "INVITE") as [string];
      const [cancel] = requestsReceived(r, "CANCEL") as [string];
      const [ack] = requestsReceived(r, "ACK") as [string];
      // 9.1: the CANCEL has the INVITE's Request-URI, top Via, Call-ID, From, To and CSeq number.
      for (const m of [cancel, ack]) {
        expect(headerOfText(m, "Via"), m).toBe(headerOfText(invite, "Via"));
        expect(firstLine(m).split(" ")[1], m).toBe(firstLine(invite).split(" ")[1]);
        expect(headerOfText(m, "Call-ID"), m).toBe(call.callId);
        expect(headerOfText(m, "From"), m).toBe(headerOfText(invite, "From"));
      }
      expect(headerOfText(cancel, "To")).toBe(headerOfText(invite, "To"));
      expect(headerOfText(cancel, "CSeq")).toBe("1 CANCEL");
      expect(headerOfText(ack, "CSeq")).toBe("1 ACK");
      expect(headerOfText(ack, "To")).toBe(headerOfText(sentResponse(r, 487, "INVITE"), "To"));
    });
  });
}
