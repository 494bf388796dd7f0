/**
 * The journal keeps no header text per message (issue 12): an entry reads
 * its header fields (Call-ID, CSeq, From, To, transaction, dialog, reason)
 * again from its octets when first asked. Here that reading is compared,
 * entry by entry, with the fields the journal was given when the message
 * was journaled (the transport's parse of what came in, the serializer's
 * record of what went out): for SIPp's calls over UDP and TCP, for every
 * RFC 4475 torture message, and for odd but valid shapes (compact header
 * names, several Via rows, folded lines).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Journal, type JournalMessage, type MessageFields } from "../../src/control/journal.js";
import { type SipMock, silentLogger, startSipMock } from "../../src/index.js";
import { tcpClient, udpClient } from "../helpers/wire-client.js";
import { runSipp, type SippTransport } from "../peers/sipp.js";

const BENCH = join(import.meta.dirname, "..", "..", "bench", "scenarios");
const RFC4475 = join(import.meta.dirname, "..", "fixtures", "rfc4475");

/** Each message journaled (its journal and id) with the fields it was given (a copy: the recorder reuses one object). */
const given: Array<[Journal, number, MessageFields]> = [];
let mock: SipMock;

beforeAll(async () => {
  // The recorder journals through receive() and store(): rows only. Entries
  // are made from those rows when the test reads them, as any reader's are.
  const receive = Journal.prototype.receive;
  const store = Journal.prototype.store;
  vi.spyOn(Journal.prototype, "receive").mockImplementation(function (this: Journal, ...args) {
    const fields = { ...args[6] };
    const id = receive.apply(this, args);
    given.push([this, id, fields]);
    return id;
  });
  vi.spyOn(Journal.prototype, "store").mockImplementation(function (this: Journal, ...args) {
    const fields = { ...args[7] };
    const id = store.apply(this, args);
    given.push([this, id, fields]);
    return id;
  });
  mock = await startSipMock({
    listen: ["udp:127.0.0.1:0", "tcp:127.0.0.1:0"],
    logger: silentLogger,
    mediaPort: 40000,
  });
});
afterAll(async () => {
  await mock?.close();
  vi.restoreAllMocks();
});

/** The header fields an entry reads from its octets. */
function read(e: JournalMessage): MessageFields {
  const { kind, method, status, reason, callId, cseq, from, to, transaction, dialog } = e;
  return { kind, method, status, reason, callId, cseq, from, to, transaction, dialog };
}

/** Compares the entries journaled since `from`; returns them. */
function expectSameFields(from: number): Array<[JournalMessage, MessageFields]> {
  const mine = given
    .slice(from)
    .map(([journal, id, fields]): [JournalMessage, MessageFields] => [
      journal.entryOf(id, false) as JournalMessage,
      fields,
    ]);
  // Read before anything else reads them: what the entry has is what it read from its octets.
  const lazy = mine.filter(([e]) => !e.fieldsGiven).length;
  expect(lazy, "entries that read their fields from their octets").toBeGreaterThan(0);
  for (const [e, fields] of mine)
    expect(read(e), `#${e.id} ${e.transport} ${e.direction} ${e.raw.slice(0, 60)}`).toEqual(fields);
  return mine;
}

describe("journal entries read their fields again from their octets, as they were given", () => {
  for (const transport of ["u1", "t1"] as SippTransport[]) {
    for (const [file, service] of [
      ["uac-invite-answer.xml", "bench"],
      ["uac-invite-486.xml", "486"],
      ["uac-options.xml", "bench"],
    ]) {
      it(`SIPp ${file} over ${transport === "u1" ? "UDP" : "TCP"}`, async () => {
        const from = given.length;
        const port = mock.address(transport === "u1" ? "udp" : "tcp").port;
        const r = await runSipp({
          scenarioXml: readFileSync(join(BENCH, file!), "latin1"),
          target: `127.0.0.1:${port}`,
          transport,
          calls: 5,
          rate: 50,
          extraArgs: ["-s", service!],
        });
        expect(r.exitCode, r.summary).toBe(0);
        // A call's messages in and out, each compared, each read from its octets.
        const mine = expectSameFields(from);
        expect(mine.length).toBeGreaterThanOrEqual(10);
        expect(mine.filter(([e]) => e.fieldsGiven)).toEqual([]);
      });
    }
  }

  it("every RFC 4475 torture message over UDP and over TCP, and the answers to them", async () => {
    const from = given.length;
    const udp = await udpClient({ host: "127.0.0.1", port: mock.address("udp").port });
    const files = readdirSync(RFC4475).filter((f) => f.endsWith(".dat"));
    for (const f of files) {
      const bytes = readFileSync(join(RFC4475, f));
      await udp.send(bytes);
      // A connection each: one message's framing (a wrong Content-Length) does not swallow the next.
      const tcp = await tcpClient({ host: "127.0.0.1", port: mock.address("tcp").port });
      await tcp.send(bytes);
      await tcp.collect(50);
      await tcp.close();
    }
    // The mock has journaled each datagram when its answer (or none) is out; a last OPTIONS marks the end.
    const end = `OPTIONS sip:200@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${udp.port};branch=z9hG4bK-end\r\nFrom: <sip:a@example.test>;tag=1\r\nTo: <sip:b@example.test>\r\nCall-ID: end-4475\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`;
    await udp.send(end);
    await udp.waitFor((r) => r.text.includes("end-4475"), 5000);
    await udp.close();
    const mine = expectSameFields(from);
    const inOver = (t: string) => mine.filter(([e]) => e.direction === "in" && e.transport === t).length;
    expect(inOver("udp")).toBeGreaterThanOrEqual(files.length + 1);
    // Over TCP a message whose Content-Length is larger than what follows waits for the rest (then the close).
    expect(inOver("tcp")).toBeGreaterThan(files.length / 2);
  });

  it("compact header names, several Via rows, a folded line", async () => {
    const from = given.length;
    const udp = await udpClient({ host: "127.0.0.1", port: mock.address("udp").port });
    const rows = [
      `OPTIONS sip:bob@127.0.0.1 SIP/2.0`,
      `v: SIP/2.0/UDP 127.0.0.1:${udp.port};branch=z9hG4bK-compact;rport`,
      `Via: SIP/2.0/UDP proxy.example.test;branch=z9hG4bK-second, SIP/2.0/TCP p2.example.test;branch=z9hG4bK-3`,
      `f: "A, the tester" <sip:a@example.test;transport=udp>;tag=ft`,
      `t: sip:bob@example.test`,
      `i: compact-1`,
      `CSeq:`,
      `  7 OPTIONS`,
      `Max-Forwards: 70`,
      `l: 0`,
      ``,
      ``,
    ];
    await udp.send(rows.join("\r\n"));
    await udp.waitFor((r) => r.text.includes("compact-1"), 3000);
    await udp.close();
    // The request and its answer (a message the last test's connections left may come in between).
    expect(expectSameFields(from).filter(([e]) => e.callId === "compact-1")).toHaveLength(2);
  });
});
