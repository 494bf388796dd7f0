// The README's node:test example: `node --test examples/busy.node-test.mjs`
// (run by test/integration/examples.test.ts).
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { after, before, test } from "node:test";
import { startSipMock, VerificationError } from "sipmock";

let mock;
before(async () => {
  // Defaults: 127.0.0.1, UDP and TCP on one free port, no console output.
  mock = await startSipMock({ scenario: "busy" });
});
after(() => mock.close());

test("a 486 is verified, and a missing request is reported with near misses", async () => {
  const { port } = mock.address("udp");
  const s = createSocket("udp4");
  await new Promise((r) => s.bind(0, "127.0.0.1", r));
  const answered = new Promise((r) => s.once("message", () => r()));
  s.send(
    `OPTIONS sip:bob@127.0.0.1:${port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${s.address().port};branch=z9hG4bK-nt\r\nMax-Forwards: 70\r\nFrom: <sip:alice@127.0.0.1>;tag=nt\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: node-test@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`,
    port,
    "127.0.0.1",
  );
  await answered;
  s.close();
  mock.verify({ method: "OPTIONS" }, { times: 1 });
  assert.throws(
    () => mock.verify({ method: "INVITE" }),
    (e) => e instanceof VerificationError && /closest requests/.test(e.message),
  );
});
