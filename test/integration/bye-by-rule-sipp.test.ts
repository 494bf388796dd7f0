/**
 * RFC 3261 15.1.2: a BYE answered 2xx ends its dialog and session, whoever
 * answers it. SIPp places a call the built-in UAS answers (with RTP) and
 * hangs up; a scenario rule answers its BYE 200. Before, only the built-in
 * BYE handler ended the dialog: a rule's 200 (and dial-a-code's, a BYE to
 * sip:200@) left the call held and its RTP running.
 */
import { afterEach, describe, expect, it } from "vitest";
import { type SipMock, silentLogger, startSipMock } from "../../src/index.js";
import { answeredCallScenario, headerOfText, runSipp, statusOfText } from "../peers/sipp.js";

const SCENARIO = `name: bye by rule
rules:
  - name: hang-up
    match: { method: BYE }
    respond: 200
    headers: { X-Answered-By: hang-up rule }
  - name: built-in UAS
    default: true
`;

let mock: SipMock | undefined;
afterEach(async () => {
  await mock?.close();
  mock = undefined;
});

describe("a BYE answered 2xx by a scenario rule", () => {
  for (const transport of ["u1", "t1"] as const) {
    it(`ends the call and its media (SIPp over ${transport === "u1" ? "UDP" : "TCP"})`, async () => {
      mock = await startSipMock({ listen: ["udp:127.0.0.1:0", "tcp:127.0.0.1:0"], logger: silentLogger });
      mock.setScenario(SCENARIO);
      const r = await runSipp({
        scenarioXml: answeredCallScenario("alice"),
        target: `127.0.0.1:${mock.address(transport === "u1" ? "udp" : "tcp").port}`,
        transport,
      });
      expect(r.exitCode, r.summary).toBe(0);
      const byeOk = r.parsed.find(
        (m) => m.direction === "received" && / BYE\s*$/.test(headerOfText(m.text, "CSeq") ?? ""),
      );
      expect(byeOk && statusOfText(byeOk.text)).toBe(200);
      expect(headerOfText(byeOk!.text, "X-Answered-By")).toBe("hang-up rule");
      // The call had media (answered with RTP), and it ended with the BYE.
      expect(mock.media()).toHaveLength(1);
      expect(mock.activeDialogs).toBe(0);
      expect(mock.trackedCalls).toBe(0);
    });
  }
});
