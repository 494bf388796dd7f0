/**
 * A transaction kept by a CompletedStore answers for itself with what it
 * was, not with what its stored response's bytes say: a fault may have made
 * those bytes unreadable (a wrong Content-Length, a broken header), and the
 * 200 to a CANCEL (RFC 3261 9.2) must still carry the To tag of the INVITE's
 * responses, as it did before the store (a `tag=` without a value is not
 * even a token, 25.1).
 */
import { afterEach, describe, expect, it } from "vitest";
import type { ParsedRequest } from "../../src/sip/message.js";
import { parseDatagram } from "../../src/sip/parser.js";
import { methodOfKey } from "../../src/transaction/completed-store.js";
import { transactionKey } from "../../src/transaction/transaction-layer.js";
import { createHarness, type Harness } from "../harness/harness.js";
import { ack, cancel, invite, peer } from "../harness/messages.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const tagOf = (text: string) => /\r\nTo:[^\r]*;tag=([^;\r]*)/i.exec(text)?.[1];

describe("a stored INVITE transaction whose final response a fault broke", () => {
  for (const status of [486, 200]) {
    it(`CANCEL after a ${status} with a wrong Content-Length: its 200 carries the transaction's To tag`, async () => {
      h = await createHarness({
        scenario: `name: t\nrules:\n  - match: { method: INVITE }\n    respond: ${status}\n    fault: { contentLength: 50 }\n`,
      });
      const p = peer();
      const inv = invite(p);
      await h.send(inv.text);
      const final = h.next({ where: (x) => x.text.startsWith(`SIP/2.0 ${status}`) });
      const tag = tagOf(final.text);
      expect(tag).toMatch(/^[0-9a-f]+$/);
      if (status >= 300) await h.send(ack(p, inv, { for2xx: false, toTag: tag! }));
      await h.advance(10);
      await h.send(cancel(p, inv));
      const ok = h.next({ where: (x) => /^SIP\/2.0 200/.test(x.text) && /CSeq: *\d+ CANCEL/i.test(x.text) });
      expect(tagOf(ok.text)).toBe(tag);
    });
  }
});

describe("methodOfKey", () => {
  const request = (via: string): ParsedRequest => {
    const r = parseDatagram(
      Buffer.from(
        `OPTIONS sip:u@example.test SIP/2.0\r\nVia: ${via}\r\nFrom: <sip:a@example.test>;tag=1\r\nTo: <sip:u@example.test>\r\nCall-ID: k1\r\nCSeq: 7 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`,
        "latin1",
      ),
    );
    if (!r.ok || r.message.kind !== "request") throw new Error("did not parse");
    return r.message;
  };

  it("reads the method of RFC 3261 and RFC 2543 keys, also when the top Via holds a |", () => {
    for (const via of [
      "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-a1",
      "SIP/2.0/UDP 192.0.2.1:5060;branch=1234",
      'SIP/2.0/UDP 192.0.2.1:5060;branch=1234;x="a|b"',
    ]) {
      const r = request(via);
      expect(methodOfKey(transactionKey(r, "OPTIONS"))).toBe("OPTIONS");
      expect(methodOfKey(transactionKey(r, "INVITE"))).toBe("INVITE");
    }
  });
});
