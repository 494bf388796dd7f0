/**
 * SIPp (Debian package sip-tester) as an independent peer: runs one SIPp
 * process non-interactively against a mock, with its own message, error and
 * log traces, and returns what SIPp saw. Plus builders for the UAC scenarios
 * the sipp-*.test.ts files drive.
 *
 * SIPp runs asynchronously (never spawnSync): the mock under test lives in
 * the same Node process and must keep answering while SIPp runs.
 */
import { spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export type SippTransport = "u1" | "t1";

export interface SippOptions {
  readonly scenarioXml: string;
  /** 127.0.0.1:PORT of the mock. */
  readonly target: string;
  readonly transport: SippTransport;
  /** Calls to place (-m); default 1. */
  readonly calls?: number;
  /** Calls per second (-r); default 10. */
  readonly rate?: number;
  /** Request-URI user for [service] (-s). */
  readonly service?: string;
  /** CSV injection file contents (-inf), first line SEQUENTIAL/RANDOM/USER. */
  readonly injection?: string;
  readonly extraArgs?: readonly string[];
  /** SIPp's own port (-p), e.g. a phone's that a REGISTER names; default a free one. */
  readonly localPort?: number;
  /** Hard bound for the whole run; SIPp's own -timeout is set just below it. Default 10 s. */
  readonly timeoutMs?: number;
}

export interface SippMessage {
  readonly direction: "sent" | "received";
  readonly transport: string;
  readonly text: string;
}

export interface SippResult {
  /** 0: every call succeeded; 1: at least one call failed; 97/99/255...: SIPp trouble. */
  readonly exitCode: number;
  /** The -trace_msg log. */
  readonly messages: string;
  /** `messages` split into one entry per message. */
  readonly parsed: SippMessage[];
  /** The -trace_err log. */
  readonly errors: string;
  /** The -trace_logs log (<log> actions). */
  readonly logs: string;
  readonly stdout: string;
  readonly stderr: string;
  readonly stats: { readonly successful?: number; readonly failed?: number };
  readonly localPort: number;
  /** One line for assertion messages. */
  readonly summary: string;
}

const handedOut = new Set<number>();

/** A local port free for the transport right now, never one this process handed out before. */
export async function freeLocalPort(transport: SippTransport): Promise<number> {
  for (;;) {
    const port =
      transport === "u1"
        ? await new Promise<number>((resolve, reject) => {
            const s = createSocket("udp4");
            s.once("error", reject);
            s.bind(0, "127.0.0.1", () => {
              const p = s.address().port;
              s.close(() => resolve(p));
            });
          })
        : await new Promise<number>((resolve, reject) => {
            const s = createServer();
            s.once("error", reject);
            s.listen(0, "127.0.0.1", () => {
              const address = s.address();
              const p = typeof address === "object" && address ? address.port : 0;
              s.close(() => resolve(p));
            });
          });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

function readIfThere(path: string): string {
  try {
    return readFileSync(path, "latin1");
  } catch {
    return "";
  }
}

/** Splits a -trace_msg log into messages ("UDP message sent (N bytes):" / "TCP message received [N] bytes :"). */
export function parseMessageLog(log: string): SippMessage[] {
  const out: SippMessage[] = [];
  const blocks = log.split(/^-{20,} [^\n]*\n/m);
  for (const block of blocks) {
    const head = /^(\w+) message (sent|received)[^\n]*\n\n/.exec(block);
    if (!head) continue;
    const text = block.slice(head[0].length).replace(/\n+$/, "\n").replace(/\r?\n/g, "\r\n");
    out.push({ transport: head[1]!, direction: head[2] as "sent" | "received", text });
  }
  return out;
}

/** Status code of a message text, 0 for requests. */
export function statusOfText(text: string): number {
  const m = /^SIP\/2\.0 (\d{3}) /.exec(text);
  return m ? Number(m[1]) : 0;
}

/** Value of the first header named `name` (case-insensitive), or undefined. */
export function headerOfText(text: string, name: string): string | undefined {
  const head = text.split("\r\n\r\n")[0] ?? "";
  for (const line of head.split("\r\n").slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === name.toLowerCase()) {
      return line.slice(colon + 1).trim();
    }
  }
  return undefined;
}

function parseStats(stdout: string) {
  const last = (label: string) => {
    const all = [...stdout.matchAll(new RegExp(`${label}\\s*\\|\\s*\\d+\\s*\\|\\s*(\\d+)`, "g"))];
    const m = all.at(-1);
    return m ? Number(m[1]) : undefined;
  };
  const successful = last("Successful call");
  const failed = last("Failed call");
  return { ...(successful !== undefined ? { successful } : {}), ...(failed !== undefined ? { failed } : {}) };
}

async function runOnce(options: SippOptions): Promise<SippResult & { bindFailed: boolean }> {
  const dir = mkdtempSync(join(tmpdir(), "sipmock-sipp-"));
  try {
    const scenario = join(dir, "scenario.xml");
    writeFileSync(scenario, options.scenarioXml, "latin1");
    const files = {
      messages: join(dir, "messages.log"),
      errors: join(dir, "errors.log"),
      logs: join(dir, "logs.log"),
    };
    const timeoutMs = options.timeoutMs ?? 10_000;
    const localPort = options.localPort ?? (await freeLocalPort(options.transport));
    const args = [
      options.target,
      "-sf",
      scenario,
      "-t",
      options.transport,
      "-i",
      "127.0.0.1",
      "-p",
      String(localPort),
      "-m",
      String(options.calls ?? 1),
      "-r",
      String(options.rate ?? 10),
      "-nostdin",
      "-nd",
      "-trace_msg",
      "-message_file",
      files.messages,
      "-trace_err",
      "-error_file",
      files.errors,
      "-trace_logs",
      "-log_file",
      files.logs,
      "-timeout",
      `${Math.max(1, Math.floor(timeoutMs / 1000) - 1)}s`,
      "-timeout_error",
      "-recv_timeout",
      String(Math.min(5000, timeoutMs)),
      ...(options.service !== undefined ? ["-s", options.service] : []),
      ...(options.extraArgs ?? []),
    ];
    if (options.injection !== undefined) {
      const inf = join(dir, "inject.csv");
      writeFileSync(inf, options.injection, "latin1");
      args.push("-inf", inf);
    }
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>(
      (resolve, reject) => {
        const child = spawn("sipp", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.setEncoding("latin1").on("data", (d: string) => {
          stdout += d;
        });
        child.stderr.setEncoding("latin1").on("data", (d: string) => {
          stderr += d;
        });
        const killer = setTimeout(() => child.kill("SIGKILL"), timeoutMs + 2000);
        child.once("error", (err) => {
          clearTimeout(killer);
          reject(new Error(`sipp could not run (${err.message}); install it: apt-get install -y sip-tester`));
        });
        child.once("close", (c, signal) => {
          clearTimeout(killer);
          resolve({ code: c ?? (signal ? 128 : -1), stdout, stderr });
        });
      },
    );
    const messages = readIfThere(files.messages);
    const errors = readIfThere(files.errors);
    const logs = readIfThere(files.logs);
    const stats = parseStats(stdout);
    const parsed = parseMessageLog(messages);
    const summary = `sipp exit ${code}, ${stats.successful ?? "?"} ok / ${stats.failed ?? "?"} failed; stderr: ${stderr.trim().split("\n").slice(-3).join(" | ")}; errors: ${errors.slice(0, 1500)}`;
    return {
      exitCode: code,
      messages,
      parsed,
      errors,
      logs,
      stdout,
      stderr,
      stats,
      localPort,
      summary,
      bindFailed: /Unable to bind/.test(stderr),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs SIPp once (retrying only when its local port was taken meanwhile). */
export async function runSipp(options: SippOptions): Promise<SippResult> {
  for (let attempt = 0; ; attempt++) {
    const { bindFailed, ...result } = await runOnce(options);
    if (!bindFailed || attempt >= 3 || options.localPort !== undefined) return result;
  }
}

/** Runs `jobs` with at most `limit` at a time, results in order. */
export async function inBatches<T>(limit: number, jobs: readonly (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}

// ---------------------------------------------------------------------------
// Scenario builders

/** Escapes POSIX ERE metacharacters. */
export function ereEscape(s: string): string {
  return s.replace(/[.[\]()*+?{}|^$\\]/g, "\\$&");
}

/** A case-insensitive ERE for a literal (SIPp 3.6 ignores case_indep on <ereg>). */
export function caseless(s: string): string {
  return ereEscape(s).replace(/[a-z]/gi, (c) => `[${c.toLowerCase()}${c.toUpperCase()}]`);
}

function xmlAttr(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

const HEAD = `<?xml version="1.0" encoding="ISO-8859-1" ?>`;

const SDP_OFFER = [
  "v=0",
  "o=sipp 1 1 IN IP4 [local_ip]",
  "s=-",
  "c=IN IP4 [local_ip]",
  "t=0 0",
  "m=audio 49170 RTP/AVP 0 8",
  "a=rtpmap:0 PCMU/8000",
  "a=rtpmap:8 PCMA/8000",
  "a=sendrecv",
].join("\n");

/** SIPp's initial INVITE to `user`, with an SDP offer (`false`: no body). */
export function inviteSend(user: string, sdp: string | false = SDP_OFFER): string {
  return `  <send retrans="500">
    <![CDATA[
INVITE sip:${user}@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
To: <sip:${user}@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>
Max-Forwards: 70
${sdp !== false ? `Content-Type: application/sdp\nContent-Length: [len]\n\n${sdp}` : "Content-Length: 0\n"}
]]>
  </send>
`;
}

/** ACK for a non-2xx final: same branch as the INVITE (RFC 3261 17.1.1.3), To with the response's tag. */
function ackNon2xx(user: string): string {
  return `  <send>
    <![CDATA[
ACK sip:${user}@[remote_ip]:[remote_port] SIP/2.0
[last_Via:]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]>
  </send>
`;
}

/** SIPp's ACK for a 2xx: a new transaction to the Contact (RFC 3261 13.2.2.4). */
function ack2xx(): string {
  return `  <send>
    <![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>
Max-Forwards: 70
Content-Length: 0

]]>
  </send>
`;
}

/**
 * SIPp's 200 to a request it received (the mock's NOTIFY, BYE, OPTIONS...):
 * Via, From, To, Call-ID and CSeq echoed (RFC 3261 8.2.6.2), `extra` lines added.
 */
export function reply200(extra: readonly string[] = []): string {
  return `  <send>
    <![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
${extra.map((l) => `${l}\n`).join("")}Content-Length: 0

]]>
  </send>
`;
}

/** A SUBSCRIBE from SIPp to sip:USER@ for a package (RFC 6665), CSeq 1. */
export function subscribeSend(user: string, event: string, expires: number): string {
  return `  <send retrans="500">
    <![CDATA[
SUBSCRIBE sip:${user}@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
To: <sip:${user}@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 SUBSCRIBE
Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>
Event: ${event}
Expires: ${expires}
Max-Forwards: 70
Content-Length: 0

]]>
  </send>
`;
}

/** ACK for a 2xx (a new transaction to the Contact, RFC 3261 13.2.2.4) and a BYE answered 200. */
function ack2xxAndBye(): string {
  return `${ack2xx()}  <send retrans="500">
    <![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 2 BYE
Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>
Max-Forwards: 70
Content-Length: 0

]]>
  </send>
  <recv response="200">
    <action>
      <ereg regexp="^SIP/2\\.0 200 OK[[:cntrl:]]" search_in="msg" check_it="true" assign_to="byeStatus"/>
      <ereg regexp="^ *2 BYE" search_in="hdr" header="CSeq:" check_it="true" assign_to="byeCseq"/>
      <log message="bye [$byeStatus] [$byeCseq]"/>
    </action>
  </recv>
`;
}

export interface FinalCheck {
  readonly code: number;
  readonly reason: string;
  /** Header names that must be present (non-empty) in the final response. */
  readonly headers?: readonly string[];
}

/** <recv> of a final response with SIPp-side checks: exact status line, each header, a To tag, the INVITE CSeq. */
function recvChecked(check: FinalCheck, method: string, extra = ""): string {
  const actions = [
    `<ereg regexp="^SIP/2\\.0 ${check.code} ${xmlAttr(ereEscape(check.reason))}[[:cntrl:]]" search_in="msg" check_it="true" assign_to="status"/>`,
    `<ereg regexp=";tag=[^;[:space:]]+" search_in="hdr" header="To:" check_it="true" assign_to="totag"/>`,
    `<ereg regexp="^ *[0-9]+ ${method}$" search_in="hdr" header="CSeq:" check_it="true" assign_to="cseq"/>`,
    // Presence by name (case-insensitive), anywhere in the message: some
    // headers may legitimately be empty (Recv-Info, Supported).
    ...(check.headers ?? []).map(
      (h, i) =>
        `<ereg regexp="[[:cntrl:]]${xmlAttr(caseless(h))}[[:blank:]]*:[^[:cntrl:]]*" search_in="msg" check_it="true" assign_to="h${i}"/>`,
    ),
    `<log message="final [$status] [$totag] [$cseq]${(check.headers ?? []).map((_h, i) => ` [$h${i}]`).join("")}"/>`,
  ];
  return `  <recv response="${check.code}"${extra}>
    <action>
      ${actions.join("\n      ")}
    </action>
  </recv>
`;
}

/**
 * INVITE to sip:USER@ expecting an optional 100, then exactly the final
 * `check.code` (anything else fails the call), ACK (and for a 2xx a BYE).
 */
export function inviteFinalScenario(user: string, check: FinalCheck): string {
  const is2xx = check.code >= 200 && check.code < 300;
  return `${HEAD}
<scenario name="invite ${user} expects ${check.code}">
${inviteSend(user)}  <recv response="100" optional="true"/>
${recvChecked(check, "INVITE", is2xx ? ` rrs="true"` : "")}${is2xx ? ack2xxAndBye() : ackNon2xx(user)}</scenario>
`;
}

/** INVITE to sip:USER@ (an ordinary user): 100 optional, 180, 200 with SDP, ACK, BYE 200. */
export function answeredCallScenario(user: string): string {
  return `${HEAD}
<scenario name="answered call">
${inviteSend(user)}  <recv response="100" optional="true"/>
  <recv response="180"/>
  <recv response="200" rrs="true">
    <action>
      <ereg regexp="^SIP/2\\.0 200 OK[[:cntrl:]]" search_in="msg" check_it="true" assign_to="status"/>
      <ereg regexp="application/sdp" search_in="hdr" header="Content-Type:" check_it="true" assign_to="ctype"/>
      <ereg regexp="[[:cntrl:]]m=audio [0-9]+ RTP/AVP" search_in="msg" check_it="true" assign_to="media"/>
      <ereg regexp=";tag=" search_in="hdr" header="To:" check_it="true" assign_to="totag"/>
      <ereg regexp="[^[:space:]]" search_in="hdr" header="Contact:" check_it="true" assign_to="contact"/>
      <log message="answer [$status] [$ctype] [$media] [$totag] [$contact]"/>
    </action>
  </recv>
${ack2xxAndBye()}</scenario>
`;
}

/**
 * INVITE to sip:USER@ that is either answered (200: ACK, BYE 200) or refused
 * with 503 carrying a Retry-After (ACK); anything else fails the call. Each
 * refusal logs "refused [N]", N the Retry-After seconds.
 */
export function answeredOrRefusedScenario(user: string): string {
  return `${HEAD}
<scenario name="answered or refused">
${inviteSend(user)}  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="503" optional="true" next="refused">
    <action>
      <ereg regexp="[0-9]+" search_in="hdr" header="Retry-After:" check_it="true" assign_to="ra"/>
      <log message="refused [$ra]"/>
    </action>
  </recv>
  <recv response="200" rrs="true"/>
${ack2xxAndBye().replace(/<recv response="200">/, '<recv response="200" next="end">')}  <label id="refused"/>
${ackNon2xx(user)}  <label id="end"/>
</scenario>
`;
}

/**
 * INVITE refused 503 (its To tag logged as "first TAG"), ACK, then after
 * `pauseMs` the same INVITE again (same branch, [branch-5]: a
 * retransmission, as a client sends when the 503 was lost), whose 503's To
 * tag is logged as "again TAG", ACK.
 */
export function refusedThenRetransmittedScenario(user: string, pauseMs: number): string {
  const refused = (label: string) => `  <recv response="100" optional="true"/>
  <recv response="503">
    <action>
      <ereg regexp=";tag=([^;]+)" search_in="hdr" header="To:" check_it="true" assign_to="all,${label}"/>
      <log message="${label} [$${label}]"/>
    </action>
  </recv>
${ackNon2xx(user)}`;
  return `${HEAD}
<scenario name="refused then retransmitted">
${inviteSend(user, false)}${refused("first")}  <pause milliseconds="${pauseMs}"/>
${inviteSend(user, false).replace("branch=[branch]", "branch=[branch-5]")}${refused("again")}</scenario>
`;
}

/** INVITE to sip:CODE@ (a 1xx code): the provisional, then CANCEL gets 200 and the INVITE 487, ACK. */
export function cancelScenario(code: number, reason: string): string {
  return `${HEAD}
<scenario name="ring ${code} then cancel">
${inviteSend(String(code))}  <recv response="100" optional="true"/>
  <recv response="${code}">
    <action>
      <ereg regexp="^SIP/2\\.0 ${code} ${xmlAttr(ereEscape(reason))}[[:cntrl:]]" search_in="msg" check_it="true" assign_to="ringing"/>
      <ereg regexp=";tag=" search_in="hdr" header="To:" check_it="true" assign_to="ringtag"/>
      <log message="provisional [$ringing] [$ringtag]"/>
    </action>
  </recv>
  <pause milliseconds="100"/>
${cancelExchange(String(code))}${recvChecked({ code: 487, reason: "Request Terminated" }, "INVITE")}${ackNon2xx(String(code))}</scenario>
`;
}

/** One non-INVITE request to sip:USER@ expecting `check`. `headers` are extra request headers. */
export function requestScenario(
  method: "OPTIONS" | "REGISTER",
  user: string,
  check: FinalCheck,
  requestHeaders: readonly string[] = [],
): string {
  const uri =
    method === "REGISTER" ? "sip:[remote_ip]:[remote_port]" : `sip:${user}@[remote_ip]:[remote_port]`;
  return `${HEAD}
<scenario name="${method} ${user}">
  <send retrans="500">
    <![CDATA[
${method} ${uri} SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: <sip:${user}@[remote_ip]:[remote_port]>;tag=[pid]SIPpTag[call_number]
To: <sip:${user}@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 ${method}
Max-Forwards: 70
${requestHeaders.map((h) => `${h}\n`).join("")}Content-Length: 0

]]>
  </send>
${recvChecked(check, method)}</scenario>
`;
}

/** INVITE to sip:CODE@ over UDP that takes the final response and never ACKs it, staying `holdMs` to watch retransmissions. */
export function noAckScenario(code: number, reason: string, holdMs: number): string {
  return `${HEAD}
<scenario name="no ack ${code}">
${inviteSend(String(code))}  <recv response="100" optional="true"/>
${recvChecked({ code, reason }, "INVITE")}  <pause milliseconds="${holdMs}"/>
</scenario>
`;
}

// ---------------------------------------------------------------------------
// Builders for the ready-made YAML scenarios (scenarios-sipp.test.ts)

/** <recv> of a provisional with a checked status line and a To tag. */
function recvProvisional(code: number, reason: string, sdp = false): string {
  const sdpChecks = sdp
    ? `
      <ereg regexp="application/sdp" search_in="hdr" header="Content-Type:" check_it="true" assign_to="pctype"/>
      <ereg regexp="[[:cntrl:]]m=audio [0-9]+ RTP/AVP" search_in="msg" check_it="true" assign_to="pmedia"/>`
    : "";
  return `  <recv response="${code}">
    <action>
      <ereg regexp="^SIP/2\\.0 ${code} ${xmlAttr(ereEscape(reason))}[[:cntrl:]]" search_in="msg" check_it="true" assign_to="prov"/>
      <ereg regexp=";tag=" search_in="hdr" header="To:" check_it="true" assign_to="provtag"/>${sdpChecks}
      <log message="provisional [$prov] [$provtag]${sdp ? " [$pctype] [$pmedia]" : ""}"/>
    </action>
  </recv>
`;
}

/** A 200 to an INVITE with SDP, checked, recording its Record-Route/Contact for the ACK and BYE. */
function recvAnswer(): string {
  return `  <recv response="200" rrs="true">
    <action>
      <ereg regexp="^SIP/2\\.0 200 OK[[:cntrl:]]" search_in="msg" check_it="true" assign_to="status"/>
      <ereg regexp="application/sdp" search_in="hdr" header="Content-Type:" check_it="true" assign_to="ctype"/>
      <ereg regexp="[[:cntrl:]]m=audio [0-9]+ RTP/AVP" search_in="msg" check_it="true" assign_to="media"/>
      <ereg regexp=";tag=" search_in="hdr" header="To:" check_it="true" assign_to="totag"/>
      <log message="answer [$status] [$ctype] [$media] [$totag]"/>
    </action>
  </recv>
`;
}

/** ACK for the 2xx to the INVITE with CSeq `inviteCseq`, then a BYE (CSeq +1) answered 200. */
function ack2xxAndByeAt(inviteCseq: number): string {
  return ack2xxAndBye()
    .replace("CSeq: 1 ACK", `CSeq: ${inviteCseq} ACK`)
    .replace("CSeq: 2 BYE", `CSeq: ${inviteCseq + 1} BYE`)
    .replace("^ *2 BYE", `^ *${inviteCseq + 1} BYE`);
}

/**
 * INVITE to sip:USER@: optional 100, the provisional `ring` (with SDP if
 * `ring.sdp`), then either the checked non-2xx `final` and its ACK, or (final
 * code 200) an answer with SDP, ACK and BYE.
 */
export function ringThenFinalScenario(
  user: string,
  ring: { readonly code: number; readonly reason: string; readonly sdp?: boolean },
  final: FinalCheck,
): string {
  const answered = final.code === 200;
  return `${HEAD}
<scenario name="invite ${user}: ${ring.code} then ${final.code}">
${inviteSend(user)}  <recv response="100" optional="true"/>
${recvProvisional(ring.code, ring.reason, ring.sdp)}${answered ? `${recvAnswer()}${ack2xxAndBye()}` : `${recvChecked(final, "INVITE")}${ackNon2xx(user)}`}</scenario>
`;
}

/** INVITE to sip:USER@: optional 100, 180 Ringing, `pauseMs` of ringing, CANCEL 200, INVITE 487, ACK. */
export function ringCancelScenario(user: string, pauseMs: number): string {
  return `${HEAD}
<scenario name="invite ${user}: ring, cancel">
${inviteSend(user)}  <recv response="100" optional="true"/>
${recvProvisional(180, "Ringing")}  <pause milliseconds="${pauseMs}"/>
${cancelExchange(user)}${recvChecked({ code: 487, reason: "Request Terminated" }, "INVITE")}${ackNon2xx(user)}</scenario>
`;
}

/**
 * REGISTER for sip:USER@ without credentials expecting 401 with a Digest
 * WWW-Authenticate, then again (CSeq 2) with SIPp's [authentication]
 * (-au/-ap) expecting 200.
 */
export function registerWithAuthScenario(user: string): string {
  const register = (cseq: number, auth: string) => `  <send retrans="500">
    <![CDATA[
REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: <sip:${user}@[remote_ip]:[remote_port]>;tag=[pid]SIPpTag[call_number]
To: <sip:${user}@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: ${cseq} REGISTER
Contact: <sip:${user}@[local_ip]:[local_port];transport=[transport]>
Expires: 300
Max-Forwards: 70
${auth}Content-Length: 0

]]>
  </send>
`;
  return `${HEAD}
<scenario name="register ${user} with digest">
${register(1, "")}  <recv response="401" auth="true">
    <action>
      <ereg regexp="^SIP/2\\.0 401 Unauthorized[[:cntrl:]]" search_in="msg" check_it="true" assign_to="challenge"/>
      <ereg regexp="^ *Digest .*realm=&quot;[^&quot;]+&quot;" search_in="hdr" header="WWW-Authenticate:" check_it="true" assign_to="wwwauth"/>
      <log message="challenge [$challenge] [$wwwauth]"/>
    </action>
  </recv>
${register(2, "[authentication]\n")}${recvChecked({ code: 200, reason: "OK" }, "REGISTER")}</scenario>
`;
}

/**
 * INVITE to sip:USER@ without credentials expecting (optional 100 and) 407
 * with a Digest Proxy-Authenticate (or, `challenge` 401, a UAS's 401 with
 * WWW-Authenticate), ACK, then the INVITE again (CSeq 2, new branch) with
 * SIPp's [authentication]: optional 100, 180, 200 with SDP, ACK, BYE 200.
 */
export function inviteWithAuthScenario(user: string, challenge: 401 | 407 = 407): string {
  const invite2 = inviteSend(user)
    .replace("CSeq: 1 INVITE", "CSeq: 2 INVITE")
    .replace("Max-Forwards: 70\n", "Max-Forwards: 70\n[authentication]\n");
  const [statusLine, header] =
    challenge === 401
      ? ["401 Unauthorized", "WWW-Authenticate"]
      : ["407 Proxy Authentication Required", "Proxy-Authenticate"];
  return `${HEAD}
<scenario name="invite ${user} with digest">
${inviteSend(user)}  <recv response="100" optional="true"/>
  <recv response="${challenge}" auth="true">
    <action>
      <ereg regexp="^SIP/2\\.0 ${statusLine}[[:cntrl:]]" search_in="msg" check_it="true" assign_to="challenge"/>
      <ereg regexp="^ *Digest .*realm=&quot;[^&quot;]+&quot;" search_in="hdr" header="${header}:" check_it="true" assign_to="authenticate"/>
      <log message="challenge [$challenge] [$authenticate]"/>
    </action>
  </recv>
${ackNon2xx(user)}${invite2}  <recv response="100" optional="true"/>
${recvProvisional(180, "Ringing")}${recvAnswer()}${ack2xxAndByeAt(2)}</scenario>
`;
}

/**
 * INVITE to sip:USER@ (UDP, retransmitted every `retransMs` doubling) that
 * expects no response at all within `waitMs`: the call succeeds only when
 * the wait times out; any response fails it. (SIPp 3.6 counts a call
 * that jumps to a label at the very end as failed: hence the <nop/>.)
 */
export function noResponseScenario(user: string, waitMs: number, retransMs = 200): string {
  return `${HEAD}
<scenario name="invite ${user}: expect silence">
${inviteSend(user).replace('retrans="500"', `retrans="${retransMs}"`)}  <recv response="100" timeout="${waitMs}" ontimeout="silence"/>
  <recv response="999" timeout="10"/>
  <label id="silence"/>
  <nop/>
</scenario>
`;
}

/** CANCEL for the INVITE of this call (same branch as the INVITE, RFC 3261 9.1) and its 200. */
function cancelExchange(user: string): string {
  return `  <send retrans="500">
    <![CDATA[
CANCEL sip:${user}@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch-4];rport
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
To: <sip:${user}@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 CANCEL
Max-Forwards: 70
Content-Length: 0

]]>
  </send>
  <recv response="200">
    <action>
      <ereg regexp="^ *1 CANCEL$" search_in="hdr" header="CSeq:" check_it="true" assign_to="cancelCseq"/>
      <log message="cancel answered [$cancelCseq]"/>
    </action>
  </recv>
`;
}

/** The method of a message's CSeq. */
export function cseqMethod(text: string): string | undefined {
  return headerOfText(text, "CSeq")?.split(/\s+/)[1];
}

/** What SIPp sent or received, in order, retransmissions dropped (same first line, CSeq and top Via). */
export function messagesOnce(r: SippResult, direction: "sent" | "received"): SippMessage[] {
  const seen = new Set<string>();
  return r.parsed.filter((m) => {
    if (m.direction !== direction) return false;
    const key = `${m.text.split("\r\n")[0]}|${headerOfText(m.text, "CSeq")}|${headerOfText(m.text, "Via")}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** "METHOD" of requests and "STATUS METHOD" of responses SIPp sent or received, once each. */
export function messageFlow(r: SippResult, direction: "sent" | "received"): string[] {
  return messagesOnce(r, direction).map((m) => {
    const status = statusOfText(m.text);
    return status ? `${status} ${cseqMethod(m.text)}` : m.text.split(" ")[0]!;
  });
}

/** "STATUS METHOD" of every response SIPp received, in order (retransmissions included). */
export function receivedResponses(r: SippResult): string[] {
  return r.parsed
    .filter((m) => m.direction === "received" && statusOfText(m.text) > 0)
    .map((m) => `${statusOfText(m.text)} ${cseqMethod(m.text)}`);
}

/** INVITE to sip:USER@, the 200 with SDP, ACK; then the mock's BYE (with a Reason) is answered 200. */
export function answeredThenHungUpScenario(user: string, byeWithinMs: number): string {
  return `${HEAD}
<scenario name="answered, then the far end hangs up">
${inviteSend(user)}  <recv response="100" optional="true"/>
  <recv response="200" rrs="true">
    <action>
      <ereg regexp="application/sdp" search_in="hdr" header="Content-Type:" check_it="true" assign_to="ctype"/>
      <log message="answer [$ctype]"/>
    </action>
  </recv>
${ack2xx()}  <recv request="BYE" timeout="${byeWithinMs}">
    <action>
      <ereg regexp="^ *SIP;text=" search_in="hdr" header="Reason:" check_it="true" assign_to="reason"/>
      <log message="bye [$reason]"/>
    </action>
  </recv>
${reply200()}</scenario>
`;
}
