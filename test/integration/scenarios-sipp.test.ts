/**
 * The ready-made YAML scenarios (scenarios/*.yaml) seen by SIPp, a real UAC:
 * each scenario file is loaded by startSipMock exactly as `sipmock serve
 * --scenario` would, and SIPp checks the status lines and headers it gets
 * (<ereg check_it>); we re-check SIPp's message trace and what the mock
 * sent (mock.onMessage: timings, and that nothing else went out). Over UDP,
 * and over TCP where it costs one more run.
 */
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MessageEvent, type SipMock, silentLogger, startSipMock } from "../../src/index.js";
import {
  answeredCallScenario,
  answeredThenHungUpScenario,
  cseqMethod,
  headerOfText,
  inviteFinalScenario,
  inviteWithAuthScenario,
  noResponseScenario,
  receivedResponses,
  registerWithAuthScenario,
  reply200,
  requestScenario,
  ringCancelScenario,
  ringThenFinalScenario,
  runSipp,
  type SippMessage,
  type SippResult,
  type SippTransport,
  statusOfText,
  subscribeSend,
} from "../peers/sipp.js";

const T1 = 50;
const TRANSPORTS = ["udp", "tcp"] as const;
type Transport = (typeof TRANSPORTS)[number];

const scenarioFile = (name: string) =>
  fileURLToPath(new URL(`../../scenarios/${name}.yaml`, import.meta.url));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A mock running one scenario file, with every message it saw or sent. */
interface Harness {
  readonly mock: SipMock;
  readonly events: MessageEvent[];
  target(transport: Transport): string;
}

/**
 * Starts a mock on scenarios/NAME.yaml with `env` set while the file is loaded
 * (values are expanded at load time), then restores the environment.
 */
async function startScenario(name: string, env: Record<string, string> = {}): Promise<Harness> {
  const saved = new Map(Object.keys(env).map((k) => [k, process.env[k]] as const));
  Object.assign(process.env, env);
  let mock: SipMock;
  try {
    mock = await startSipMock({
      scenario: scenarioFile(name),
      listen: ["udp:127.0.0.1:0", "tcp:127.0.0.1:0"],
      logger: silentLogger,
      timers: { t1: T1, t4: 200 },
      ringTimeoutMs: 20_000,
    });
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  const events: MessageEvent[] = [];
  mock.onMessage((e) => events.push(e));
  return { mock, events, target: (t) => `127.0.0.1:${mock.address(t).port}` };
}

/** One mock per describe: started in beforeAll, closed in afterAll. */
function useScenario(name: string, env: Record<string, string> = {}): () => Harness {
  let h: Harness | undefined;
  beforeAll(async () => {
    h = await startScenario(name, env);
  });
  afterAll(async () => {
    await h?.mock.close();
  });
  return () => {
    if (!h) throw new Error(`mock for ${name} not started`);
    return h;
  };
}

const sippTransport = (t: Transport): SippTransport => (t === "udp" ? "u1" : "t1");

/** The same, with consecutive duplicates (UDP retransmissions) folded. */
function distinctResponses(r: SippResult): string[] {
  return receivedResponses(r).filter((s, i, all) => i === 0 || all[i - 1] !== s);
}

function received(r: SippResult, status: number, method: string): SippMessage {
  const m = r.parsed.find(
    (x) => x.direction === "received" && statusOfText(x.text) === status && cseqMethod(x.text) === method,
  );
  if (!m) throw new Error(`no ${status} to ${method} in SIPp's trace:\n${r.messages}`);
  return m;
}

function sentMethods(r: SippResult): string[] {
  return r.parsed.filter((m) => m.direction === "sent").map((m) => m.text.split(" ")[0]!);
}

function callIdOf(r: SippResult): string {
  const first = r.parsed.find((m) => m.direction === "sent");
  const id = first && headerOfText(first.text, "Call-ID");
  if (!id) throw new Error(`SIPp sent nothing:\n${r.summary}`);
  return id;
}

function statusLine(text: string): string {
  return text.split("\r\n")[0] ?? "";
}

function bodyOf(text: string): string {
  const at = text.indexOf("\r\n\r\n");
  return at < 0 ? "" : text.slice(at + 4);
}

/** What the mock saw and sent for one Call-ID. */
function mockCall(h: Harness, callId: string) {
  const call = h.events.filter((e) => e.summary.callId === callId);
  const out = call.filter((e) => e.direction === "out");
  return {
    call,
    out,
    inbound: call.filter((e) => e.direction === "in"),
    /** First non-retransmitted response the mock sent whose status line starts with `what`. */
    firstOut(what: string): MessageEvent {
      const e = out.find((x) => !x.retransmission && x.summary.what.startsWith(what));
      if (!e) throw new Error(`the mock sent no "${what}":\n${this.flow()}`);
      return e;
    },
    /** Distinct responses the mock sent (retransmissions left out), "STATUS REASON". */
    sent(): string[] {
      return out.filter((x) => !x.retransmission).map((x) => x.summary.what);
    },
    flow(): string {
      return call
        .map(
          (e) => `${e.time} ${e.direction} ${e.summary.what}${e.retransmission ? " (retransmission)" : ""}`,
        )
        .join("\n");
    },
  };
}

/** Lets late retransmissions, ACKs and BYEs land in the event log. */
const settle = () => sleep(4 * T1);

describe("scenarios/busy.yaml", () => {
  const h = useScenario("busy");

  for (const transport of TRANSPORTS) {
    it(`INVITE over ${transport.toUpperCase()} gets 100, then 486 Busy Here; SIPp ACKs it`, async () => {
      const r = await runSipp({
        scenarioXml: inviteFinalScenario("alice", { code: 486, reason: "Busy Here" }),
        target: h().target(transport),
        transport: sippTransport(transport),
      });
      expect(r.exitCode, r.summary).toBe(0);
      expect(distinctResponses(r)).toEqual(["100 INVITE", "486 INVITE"]);
      expect(statusLine(received(r, 486, "INVITE").text)).toBe("SIP/2.0 486 Busy Here");
      expect(sentMethods(r)).toEqual(["INVITE", "ACK"]);
      await settle();
      const seen = mockCall(h(), callIdOf(r));
      expect(seen.sent(), seen.flow()).toEqual(["100 Trying", "486 Busy Here"]);
      expect(seen.inbound.map((e) => e.summary.what)).toEqual(["INVITE", "ACK"]);
    });

    it(`OPTIONS over ${transport.toUpperCase()} is not affected: the built-in 200 with Allow`, async () => {
      const r = await runSipp({
        scenarioXml: requestScenario("OPTIONS", "alice", { code: 200, reason: "OK", headers: ["Allow"] }),
        target: h().target(transport),
        transport: sippTransport(transport),
      });
      expect(r.exitCode, r.summary).toBe(0);
      expect(distinctResponses(r)).toEqual(["200 OPTIONS"]);
      expect(headerOfText(received(r, 200, "OPTIONS").text, "Allow")).toMatch(/\bINVITE\b/);
    });
  }
});

describe("scenarios/decline.yaml", () => {
  const h = useScenario("decline");

  it("INVITE over UDP gets 100, then 603 Decline; SIPp ACKs it", async () => {
    const r = await runSipp({
      scenarioXml: inviteFinalScenario("alice", { code: 603, reason: "Decline" }),
      target: h().target("udp"),
      transport: "u1",
    });
    expect(r.exitCode, r.summary).toBe(0);
    expect(distinctResponses(r)).toEqual(["100 INVITE", "603 INVITE"]);
    expect(statusLine(received(r, 603, "INVITE").text)).toBe("SIP/2.0 603 Decline");
    expect(sentMethods(r)).toEqual(["INVITE", "ACK"]);
    await settle();
    const seen = mockCall(h(), callIdOf(r));
    expect(seen.sent(), seen.flow()).toEqual(["100 Trying", "603 Decline"]);
  });
});

describe("scenarios/no-answer.yaml (NO_ANSWER_AFTER=300ms)", () => {
  const WAIT = 300;
  const h = useScenario("no-answer", { NO_ANSWER_AFTER: `${WAIT}ms` });

  it("INVITE over UDP: 100, 180, then 480 Temporarily Unavailable no earlier than 300 ms after the 180; ACK", async () => {
    const r = await runSipp({
      scenarioXml: ringThenFinalScenario(
        "alice",
        { code: 180, reason: "Ringing" },
        { code: 480, reason: "Temporarily Unavailable" },
      ),
      target: h().target("udp"),
      transport: "u1",
    });
    expect(r.exitCode, r.summary).toBe(0);
    expect(distinctResponses(r)).toEqual(["100 INVITE", "180 INVITE", "480 INVITE"]);
    expect(statusLine(received(r, 480, "INVITE").text)).toBe("SIP/2.0 480 Temporarily Unavailable");
    expect(sentMethods(r)).toEqual(["INVITE", "ACK"]);
    await settle();
    const seen = mockCall(h(), callIdOf(r));
    expect(seen.sent(), seen.flow()).toEqual(["100 Trying", "180 Ringing", "480 Temporarily Unavailable"]);
    const gap = seen.firstOut("480").time - seen.firstOut("180").time;
    expect(gap, seen.flow()).toBeGreaterThanOrEqual(WAIT - 5);
    // The variable was used: not the 30 s default.
    expect(gap, seen.flow()).toBeLessThan(WAIT + 1500);
  });
});

describe("scenarios/ring-forever.yaml", () => {
  const h = useScenario("ring-forever");

  for (const transport of TRANSPORTS) {
    it(`INVITE over ${transport.toUpperCase()} rings (100, 180) without an answer; CANCEL gets 200, the INVITE 487; ACK`, async () => {
      const RING = 600;
      const r = await runSipp({
        scenarioXml: ringCancelScenario("alice", RING),
        target: h().target(transport),
        transport: sippTransport(transport),
      });
      expect(r.exitCode, r.summary).toBe(0);
      expect(distinctResponses(r)).toEqual(["100 INVITE", "180 INVITE", "200 CANCEL", "487 INVITE"]);
      expect(statusLine(received(r, 487, "INVITE").text)).toBe("SIP/2.0 487 Request Terminated");
      expect(sentMethods(r)).toEqual(["INVITE", "CANCEL", "ACK"]);
      await settle();
      const seen = mockCall(h(), callIdOf(r));
      // Nothing but ringing while SIPp waited (the built-in UAS would have answered 200).
      expect(seen.sent(), seen.flow()).toEqual([
        "100 Trying",
        "180 Ringing",
        "200 OK",
        "487 Request Terminated",
      ]);
      const okToCancel = seen.out.find((e) => e.summary.what === "200 OK")!;
      expect(cseqMethod(okToCancel.bytes.toString("latin1"))).toBe("CANCEL");
      expect(okToCancel.time - seen.firstOut("180").time).toBeGreaterThanOrEqual(RING - 20);
    });
  }
});

describe("scenarios/redirect.yaml", () => {
  const h = useScenario("redirect");

  for (const transport of TRANSPORTS) {
    it(`INVITE over ${transport.toUpperCase()} gets 302 Moved Temporarily, Contact <sip:voicemail@127.0.0.1>, Expires 600`, async () => {
      const r = await runSipp({
        scenarioXml: inviteFinalScenario("alice", {
          code: 302,
          reason: "Moved Temporarily",
          headers: ["Contact", "Expires"],
        }),
        target: h().target(transport),
        transport: sippTransport(transport),
      });
      expect(r.exitCode, r.summary).toBe(0);
      expect(distinctResponses(r)).toEqual(["100 INVITE", "302 INVITE"]);
      const moved = received(r, 302, "INVITE").text;
      expect(statusLine(moved)).toBe("SIP/2.0 302 Moved Temporarily");
      // {{request.host}} is the Request-URI host SIPp wrote: 127.0.0.1.
      expect(headerOfText(moved, "Contact")).toBe("<sip:voicemail@127.0.0.1>");
      expect(headerOfText(moved, "Expires")).toBe("600");
      expect(sentMethods(r)).toEqual(["INVITE", "ACK"]);
    });
  }

  describe("with REDIRECT_TO=<sip:elsewhere@example.test>", () => {
    const other = useScenario("redirect", { REDIRECT_TO: "<sip:elsewhere@example.test>" });

    it("INVITE over UDP gets 302 with Contact <sip:elsewhere@example.test>", async () => {
      const r = await runSipp({
        scenarioXml: inviteFinalScenario("alice", {
          code: 302,
          reason: "Moved Temporarily",
          headers: ["Contact", "Expires"],
        }),
        target: other().target("udp"),
        transport: "u1",
      });
      expect(r.exitCode, r.summary).toBe(0);
      const moved = received(r, 302, "INVITE").text;
      expect(headerOfText(moved, "Contact")).toBe("<sip:elsewhere@example.test>");
      expect(headerOfText(moved, "Expires")).toBe("600");
    });
  });
});

describe("scenarios/early-media.yaml (EARLY_MEDIA_FOR=200ms)", () => {
  const WAIT = 200;
  const h = useScenario("early-media", { EARLY_MEDIA_FOR: `${WAIT}ms` });

  it("INVITE over UDP: 100, 183 Session Progress with SDP, 200 OK with SDP after 200 ms; ACK; BYE 200", async () => {
    const r = await runSipp({
      scenarioXml: ringThenFinalScenario(
        "alice",
        { code: 183, reason: "Session Progress", sdp: true },
        { code: 200, reason: "OK" },
      ),
      target: h().target("udp"),
      transport: "u1",
    });
    expect(r.exitCode, r.summary).toBe(0);
    expect(distinctResponses(r)).toEqual(["100 INVITE", "183 INVITE", "200 INVITE", "200 BYE"]);
    for (const status of [183, 200]) {
      const m = received(r, status, "INVITE").text;
      expect(headerOfText(m, "Content-Type"), m).toBe("application/sdp");
      expect(bodyOf(m), m).toMatch(/^v=0\r\n/);
      expect(bodyOf(m), m).toMatch(/\r\nm=audio \d+ RTP\/AVP [0-9 ]+\r\n/);
    }
    expect(statusLine(received(r, 183, "INVITE").text)).toBe("SIP/2.0 183 Session Progress");
    expect(sentMethods(r)).toEqual(["INVITE", "ACK", "BYE"]);
    await settle();
    const seen = mockCall(h(), callIdOf(r));
    expect(seen.sent(), seen.flow()).toEqual(["100 Trying", "183 Session Progress", "200 OK", "200 OK"]);
    const gap = seen.firstOut("200").time - seen.firstOut("183").time;
    expect(gap, seen.flow()).toBeGreaterThanOrEqual(WAIT - 5);
    expect(gap, seen.flow()).toBeLessThan(WAIT + 1500);
    expect(h().mock.activeDialogs).toBe(0);
  });
});

describe("scenarios/hangup.yaml (TALK_TIME=400ms)", () => {
  const TALK = 400;
  const h = useScenario("hangup", { TALK_TIME: `${TALK}ms` });

  for (const transport of TRANSPORTS) {
    it(`INVITE over ${transport.toUpperCase()}: 200 with SDP, ACK, then the mock's BYE ${TALK} ms later, answered 200`, async () => {
      const r = await runSipp({
        scenarioXml: answeredThenHungUpScenario("anyone", 5000),
        target: h().target(transport),
        transport: transport === "udp" ? "u1" : "t1",
      });
      expect(r.exitCode, r.summary).toBe(0);
      // SIPp sent INVITE and ACK, then its 200 to the mock's BYE.
      expect(sentMethods(r)).toEqual(["INVITE", "ACK", "SIP/2.0"]);
      await settle();
      const seen = mockCall(h(), callIdOf(r));
      const bye = seen.firstOut("BYE");
      expect(seen.inbound.some((e) => e.summary.what.startsWith("200") && e.time >= bye.time)).toBe(true);
      const gap = bye.time - seen.firstOut("200").time;
      expect(gap, seen.flow()).toBeGreaterThanOrEqual(TALK - 5);
      expect(gap, seen.flow()).toBeLessThan(TALK + 1500);
      expect(h().mock.activeDialogs).toBe(0);
    });
  }
});

describe("scenarios/voicemail.yaml (NEW_MESSAGES=3, HEARD_AFTER=300ms)", () => {
  const h = useScenario("voicemail", { NEW_MESSAGES: "3", HEARD_AFTER: "300ms" });

  it("SUBSCRIBE message-summary over UDP: 200, a NOTIFY with 3 new messages, then one saying they were heard", async () => {
    const notify = (body: string, name: string) => `  <recv request="NOTIFY">
    <action>
      <ereg regexp="${body}" search_in="body" check_it="true" assign_to="${name}"/>
      <log message="notify [$${name}]"/>
    </action>
  </recv>
${reply200()}`;
    const xml = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="voicemail">
${subscribeSend("bob", "message-summary", 600)}  <recv response="200"/>
${notify("Messages-Waiting: yes.*Voice-Message: 3/0", "lit")}${notify("Messages-Waiting: no.*Voice-Message: 0/3", "heard")}</scenario>
`;
    const r = await runSipp({
      scenarioXml: xml,
      target: h().target("udp"),
      transport: "u1",
      timeoutMs: 8000,
    });
    expect(r.exitCode, r.summary).toBe(0);
    const notifies = r.parsed.filter((m) => m.direction === "received" && m.text.startsWith("NOTIFY "));
    expect(notifies.map((m) => bodyOf(m.text))).toEqual([
      "Messages-Waiting: yes\r\nMessage-Account: sip:bob@127.0.0.1\r\nVoice-Message: 3/0\r\n",
      "Messages-Waiting: no\r\nMessage-Account: sip:bob@127.0.0.1\r\nVoice-Message: 0/3\r\n",
    ]);
  });
});

describe("scenarios/auth.yaml", () => {
  const h = useScenario("auth");
  const credentials = ["-au", "alice", "-ap", "secret"];

  for (const transport of TRANSPORTS) {
    it(`REGISTER over ${transport.toUpperCase()}: 401 with WWW-Authenticate Digest, the retry with Authorization gets 200`, async () => {
      const r = await runSipp({
        scenarioXml: registerWithAuthScenario("alice"),
        target: h().target(transport),
        transport: sippTransport(transport),
        extraArgs: credentials,
      });
      expect(r.exitCode, r.summary).toBe(0);
      expect(distinctResponses(r)).toEqual(["401 REGISTER", "200 REGISTER"]);
      const challenge = received(r, 401, "REGISTER").text;
      expect(statusLine(challenge)).toBe("SIP/2.0 401 Unauthorized");
      expect(headerOfText(challenge, "WWW-Authenticate")).toMatch(/^Digest .*realm="[^"]+".*nonce="[^"]+"/);
      const sent = r.parsed.filter((m) => m.direction === "sent");
      expect(sent.map((m) => headerOfText(m.text, "CSeq"))).toEqual(["1 REGISTER", "2 REGISTER"]);
      expect(headerOfText(sent[0]!.text, "Authorization")).toBeUndefined();
      expect(headerOfText(sent[1]!.text, "Authorization")).toMatch(/^Digest .*username="alice"/);
    });

    it(`INVITE over ${transport.toUpperCase()}: 407 with Proxy-Authenticate, the retry with Proxy-Authorization rings and is answered; ACK, BYE 200`, async () => {
      const r = await runSipp({
        scenarioXml: inviteWithAuthScenario("bob"),
        target: h().target(transport),
        transport: sippTransport(transport),
        extraArgs: credentials,
      });
      expect(r.exitCode, r.summary).toBe(0);
      expect(distinctResponses(r).filter((s) => s !== "100 INVITE")).toEqual([
        "407 INVITE",
        "180 INVITE",
        "200 INVITE",
        "200 BYE",
      ]);
      const challenge = received(r, 407, "INVITE").text;
      expect(statusLine(challenge)).toBe("SIP/2.0 407 Proxy Authentication Required");
      expect(headerOfText(challenge, "Proxy-Authenticate")).toMatch(/^Digest .*realm="[^"]+".*nonce="[^"]+"/);
      const sent = r.parsed.filter((m) => m.direction === "sent");
      expect(sent.map((m) => headerOfText(m.text, "CSeq"))).toEqual([
        "1 INVITE",
        "1 ACK",
        "2 INVITE",
        "2 ACK",
        "3 BYE",
      ]);
      expect(headerOfText(sent[0]!.text, "Proxy-Authorization")).toBeUndefined();
      expect(headerOfText(sent[2]!.text, "Proxy-Authorization")).toMatch(/^Digest .*username="alice"/);
      await settle();
      const seen = mockCall(h(), callIdOf(r));
      expect(seen.sent(), seen.flow()).toEqual([
        "100 Trying",
        "407 Proxy Authentication Required",
        "100 Trying",
        "180 Ringing",
        "200 OK",
        "200 OK",
      ]);
    });
  }
});

describe("scenarios/flaky.yaml", () => {
  describe("REGISTER: the first of each AOR gets 503 with Retry-After, the next 200", () => {
    const h = useScenario("flaky");

    const register = (user: string, code: number, reason: string, headers: string[]) =>
      runSipp({
        scenarioXml: requestScenario("REGISTER", user, { code, reason, headers }, [
          `Contact: <sip:${user}@[local_ip]:[local_port];transport=[transport]>`,
        ]),
        target: h().target("udp"),
        transport: "u1",
      });

    it("dave: 503 Retry-After 5, then 200 with his Contact; erin: 503 again, then 200", async () => {
      for (const user of ["dave", "erin"]) {
        const first = await register(user, 503, "Service Unavailable", ["Retry-After"]);
        expect(first.exitCode, `${user}: ${first.summary}`).toBe(0);
        const unavailable = received(first, 503, "REGISTER").text;
        expect(statusLine(unavailable)).toBe("SIP/2.0 503 Service Unavailable");
        expect(headerOfText(unavailable, "Retry-After")).toBe("5");

        const second = await register(user, 200, "OK", ["Contact"]);
        expect(second.exitCode, `${user}: ${second.summary}`).toBe(0);
        const ok = received(second, 200, "REGISTER").text;
        expect(headerOfText(ok, "Contact"), ok).toMatch(new RegExp(`^<sip:${user}@127\\.0\\.0\\.1:\\d+`));
        expect(headerOfText(ok, "Retry-After")).toBeUndefined();
      }
    });
  });

  describe("INVITE with FLAKY_RATE=1: always 503 with Retry-After", () => {
    const h = useScenario("flaky", { FLAKY_RATE: "1" });

    it("5 calls over UDP all get 503 Service Unavailable, Retry-After 5", async () => {
      const r = await runSipp({
        scenarioXml: inviteFinalScenario("alice", {
          code: 503,
          reason: "Service Unavailable",
          headers: ["Retry-After"],
        }),
        target: h().target("udp"),
        transport: "u1",
        calls: 5,
      });
      expect(r.exitCode, r.summary).toBe(0);
      expect(r.stats.successful, r.summary).toBe(5);
      const finals = r.parsed.filter((m) => m.direction === "received" && statusOfText(m.text) >= 200);
      expect(finals.length).toBeGreaterThanOrEqual(5);
      for (const m of finals) {
        expect(statusLine(m.text)).toBe("SIP/2.0 503 Service Unavailable");
        expect(headerOfText(m.text, "Retry-After")).toBe("5");
      }
    });
  });

  describe("INVITE with FLAKY_RATE=0: always answered", () => {
    const h = useScenario("flaky", { FLAKY_RATE: "0" });

    it("3 calls over UDP are all answered 200 with SDP, ACKed and hung up", async () => {
      const r = await runSipp({
        scenarioXml: answeredCallScenario("alice"),
        target: h().target("udp"),
        transport: "u1",
        calls: 3,
      });
      expect(r.exitCode, r.summary).toBe(0);
      expect(r.stats.successful, r.summary).toBe(3);
      expect(receivedResponses(r).some((s) => s.startsWith("503"))).toBe(false);
      expect(receivedResponses(r).filter((s) => s === "200 INVITE").length).toBeGreaterThanOrEqual(3);
    });
  });
});

describe("scenarios/dropped.yaml", () => {
  const h = useScenario("dropped");

  it("INVITE over UDP gets no response at all, not even 100, while SIPp retransmits it", async () => {
    const WAIT = 1200;
    const r = await runSipp({
      scenarioXml: noResponseScenario("alice", WAIT, 200),
      target: h().target("udp"),
      transport: "u1",
    });
    // SIPp's verdict: the wait for any response timed out (a response would have failed the call).
    expect(r.exitCode, r.summary).toBe(0);
    expect(r.parsed.filter((m) => m.direction === "received")).toEqual([]);
    await settle();
    const seen = mockCall(h(), callIdOf(r));
    expect(seen.out, seen.flow()).toEqual([]);
    // SIPp's retransmissions (200, 400, 800 ms after the first) reached the mock.
    const invites = seen.inbound.filter((e) => e.summary.what === "INVITE");
    expect(invites.length, seen.flow()).toBeGreaterThan(1);
    expect(sentMethods(r).filter((m) => m === "INVITE").length).toBe(invites.length);
  });

  it("a REGISTER (not in the rule) still gets the built-in 200", async () => {
    const r = await runSipp({
      scenarioXml: requestScenario("REGISTER", "carol", { code: 200, reason: "OK" }, [
        "Contact: <sip:carol@[local_ip]:[local_port];transport=[transport]>",
      ]),
      target: h().target("udp"),
      transport: "u1",
    });
    expect(r.exitCode, r.summary).toBe(0);
    expect(distinctResponses(r)).toEqual(["200 REGISTER"]);
  });
});

describe("scenarios/every-code.yaml", () => {
  const h = useScenario("every-code");

  it("INVITE to sip:486@ over UDP gets 486 Busy Here", async () => {
    const r = await runSipp({
      scenarioXml: inviteFinalScenario("486", { code: 486, reason: "Busy Here" }),
      target: h().target("udp"),
      transport: "u1",
    });
    expect(r.exitCode, r.summary).toBe(0);
    expect(distinctResponses(r)).toEqual(["100 INVITE", "486 INVITE"]);
  });

  it("INVITE to sip:302@ over UDP gets 302 Moved Temporarily with a Contact", async () => {
    const r = await runSipp({
      scenarioXml: inviteFinalScenario("302", {
        code: 302,
        reason: "Moved Temporarily",
        headers: ["Contact"],
      }),
      target: h().target("udp"),
      transport: "u1",
    });
    expect(r.exitCode, r.summary).toBe(0);
    expect(distinctResponses(r)).toEqual(["100 INVITE", "302 INVITE"]);
    expect(headerOfText(received(r, 302, "INVITE").text, "Contact")).toMatch(/^<?sips?:[^\s]+/);
  });

  it('INVITE to sip:nobody@ over UDP gets 404 "Not Found (call sip:CODE@host)"', async () => {
    const r = await runSipp({
      scenarioXml: inviteFinalScenario("nobody", { code: 404, reason: "Not Found (call sip:CODE@host)" }),
      target: h().target("udp"),
      transport: "u1",
    });
    expect(r.exitCode, r.summary).toBe(0);
    expect(distinctResponses(r)).toEqual(["100 INVITE", "404 INVITE"]);
    expect(statusLine(received(r, 404, "INVITE").text)).toBe("SIP/2.0 404 Not Found (call sip:CODE@host)");
  });
});
