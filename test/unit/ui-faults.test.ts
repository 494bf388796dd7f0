/**
 * Faults a scenario injects are recorded in the journal (src/control/journal.ts
 * faultFor) and marked on the UI's ladder arrows: a real mock running the
 * bundled "faults" scenario, requests over UDP.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SipMock, startSipMock } from "../../src/index.js";
import { layoutLadder } from "../../ui/src/ladder.js";
import { request, udpClient, type WireClient } from "../helpers/wire-client.js";

let mock: SipMock;
let client: WireClient;

beforeAll(async () => {
  mock = await startSipMock({ listen: ["udp:127.0.0.1:0"], scenario: "faults" });
  client = await udpClient({ host: "127.0.0.1", port: mock.address("udp").port });
});

afterAll(async () => {
  await client?.close();
  await mock?.close();
});

const target = () => ({ host: "127.0.0.1", port: mock.address("udp").port });

function arrowsOf(callId: string) {
  return layoutLadder(mock.journal.entries({ callId })).arrows.map((a) => [a.label, a.fault]);
}

describe("faults in the journal and on the ladder", () => {
  it("marks a duplicated response and each of its copies, not the 100 Trying before it", async () => {
    const callId = "fault-duplicate";
    await client.send(request("INVITE", "duplicate", target(), { callId, localPort: client.port }));
    const busy486 = () => client.received.filter((m) => m.text.startsWith("SIP/2.0 486")).length;
    await client.waitFor(() => busy486() >= 3);
    const arrows = arrowsOf(callId);
    const busy = arrows.filter(([label]) => label === "486 Busy Here");
    expect(busy.length).toBeGreaterThanOrEqual(3);
    for (const [, fault] of busy) expect(fault).toBe("duplicate (the 486 sent 2 more time(s))");
    expect(arrows.filter(([label]) => label !== "486 Busy Here").map(([, f]) => f)).toEqual(
      arrows.filter(([label]) => label !== "486 Busy Here").map(() => ""),
    );
  });

  it("marks a response sent without a header its code requires", async () => {
    const callId = "fault-noallow";
    await client.send(request("INVITE", "noallow", target(), { callId, localPort: client.port }));
    await client.waitFor((m) => m.text.startsWith("SIP/2.0 405") && m.text.includes(callId));
    const arrows = arrowsOf(callId);
    expect(arrows.find(([label]) => label === "405 Method Not Allowed")?.[1]).toBe(
      "omitHeaders (the 405 without Allow)",
    );
  });

  it("marks a request the scenario dropped", async () => {
    const callId = "fault-drop";
    const seen = new Promise<void>((resolve) => {
      const off = mock.journal.subscribe((e) => {
        if (e.callId === callId) {
          off();
          // The scenario decides right after the journal takes the message.
          setImmediate(resolve);
        }
      });
    });
    await client.send(request("INVITE", "drop", target(), { callId, localPort: client.port }));
    await seen;
    expect(arrowsOf(callId)).toEqual([["INVITE", "drop (not answered)"]]);
  });
});
