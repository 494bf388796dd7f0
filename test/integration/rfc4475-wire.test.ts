/**
 * RFC 4475 on the wire: each torture message is sent byte for byte to a fresh
 * server over UDP (and over TCP where stream framing gives it the same
 * meaning) and the answer is checked against what RFC 4475 says. A fresh
 * server per message because several files share a Via branch and would
 * otherwise be (correctly) absorbed as retransmissions.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { silentLogger, startSipMock } from "../../src/index.js";
import { RFC4475_CASES } from "../fixtures/rfc4475-expectations.js";
import { header, type Received, statusOf, tcpClient, udpClient } from "../helpers/wire-client.js";

const DIR = join(import.meta.dirname, "..", "fixtures", "rfc4475");

/**
 * Files whose meaning depends on datagram boundaries (RFC 4475 3.1.1.8 extra
 * octets after the body; 3.1.2.2 Content-Length beyond the datagram): on a
 * stream the first is two messages and the second waits for more octets.
 */
const DATAGRAM_ONLY = new Set(["dblreq.dat", "clerr.dat"]);

async function exchange(transport: "udp" | "tcp", bytes: Buffer): Promise<Received[]> {
  await using mock = await startSipMock({
    listen: [`${transport}:127.0.0.1:0`],
    logger: silentLogger,
    forceRport: true,
    timers: { t1: 100 },
    ringTimeoutMs: 60_000,
  });
  const target = { host: "127.0.0.1", port: mock.address(transport).port };
  const client = transport === "udp" ? await udpClient(target) : await tcpClient(target);
  await client.send(bytes);
  const got = await client.collect(250);
  await client.close();
  return got.filter((r) => statusOf(r) > 0);
}

for (const transport of ["udp", "tcp"] as const) {
  const cases = RFC4475_CASES.filter(
    (c) => transport === "udp" || (c.isRequest && !DATAGRAM_ONLY.has(c.file)),
  );
  describe(`RFC 4475 over ${transport.toUpperCase()}`, () => {
    it.each(cases)("$section $file: $outcome.kind", async (c) => {
      const bytes = readFileSync(join(DIR, c.file));
      const answers = await exchange(transport, bytes);
      const finals = answers.filter((r) => statusOf(r) >= 200);
      const o = c.outcome;
      switch (o.kind) {
        case "drop":
        case "parse-response":
          expect(answers).toEqual([]);
          break;
        case "answer-normally":
          expect(finals.length).toBeGreaterThan(0);
          expect([400, 505]).not.toContain(statusOf(finals[0]!));
          break;
        case "answer":
          expect(finals.map(statusOf)[0]).toBe(o.status);
          break;
        case "reject": {
          expect(finals.map(statusOf)[0]).toBe(o.status);
          const r = finals[0]!;
          const explained = `${r.text.split("\r\n")[0]} ${header(r, "Warning") ?? ""}`.toLowerCase();
          if (o.status === 400 || o.status === 505) expect(explained).toContain(o.mention.toLowerCase());
          break;
        }
      }
    });
  });
}
