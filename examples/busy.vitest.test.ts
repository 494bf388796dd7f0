// The README's vitest example, run by the test suite (vitest.config.ts includes examples/).

import { type SipMock, startSipMock } from "sipmock";
import { afterAll, beforeAll, expect, test } from "vitest";

let mock: SipMock;
beforeAll(async () => {
  // Defaults: 127.0.0.1, UDP and TCP on one free port, no console output.
  mock = await startSipMock({ scenario: "busy", timers: { t1: 50 } });
});
afterAll(() => mock.close());

test("my softphone gives up on 486", async () => {
  const target = mock.uri("udp", "bob"); // sip:bob@127.0.0.1:PORT;transport=udp
  await placeCall(target); // your client code under test
  await mock.waitFor({ method: "ACK" }, { timeout: 2000 });
  mock.verify({ method: "INVITE", requestUri: { user: "^bob$" } }, { times: 1 });
});

/** Stands in for the client under test: an INVITE and the ACK for the final response, over UDP. */
async function placeCall(uri: string): Promise<void> {
  const { createSocket } = await import("node:dgram");
  const m = /@([^:]+):(\d+)/.exec(uri)!;
  const [host, port] = [m[1]!, Number(m[2])];
  const s = createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
  const me = s.address().port;
  const head = (method: string, to: string) =>
    `${method} ${uri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${me};branch=z9hG4bK-example\r\nMax-Forwards: 70\r\nFrom: <sip:alice@127.0.0.1>;tag=ex\r\nTo: ${to}\r\nCall-ID: example@127.0.0.1\r\nCSeq: 1 ${method}\r\nContent-Length: 0\r\n\r\n`;
  const final = new Promise<string>((resolve) =>
    s.on("message", (b) => {
      const t = b.toString("latin1");
      if (/^SIP\/2\.0 [2-6]/.test(t)) resolve(t);
    }),
  );
  s.send(head("INVITE", `<${uri}>`), port, host);
  const res = await final;
  expect(res.split("\r\n")[0]).toBe("SIP/2.0 486 Busy Here");
  const to = /\r\nTo: ([^\r\n]+)/.exec(res)![1]!;
  s.send(head("ACK", to), port, host);
  await new Promise((r) => setTimeout(r, 50));
  s.close();
}
