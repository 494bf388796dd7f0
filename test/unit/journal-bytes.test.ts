/**
 * The journal's octets live in shared chunks that are written again once
 * none of their messages is in the journal (src/control/journal-bytes.ts,
 * issue 12); an entry lent out (to a caller of record(), a listener,
 * onMessage) keeps its octets whatever comes after.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { JsonlSink } from "../../src/control/capture/jsonl.js";
import { describeMessage, Journal, type JournalMessage } from "../../src/control/journal.js";
import { silentLogger } from "../../src/control/logger.js";
import { Metrics } from "../../src/control/metrics.js";
import { Recorder } from "../../src/control/mock/recorder.js";
import { parseDatagram } from "../../src/sip/parser.js";

const local = { address: "127.0.0.1", port: 5060 };
const remote = { address: "192.0.2.7", port: 5070 };
const turn = () => new Promise<void>((r) => setImmediate(r));

/** An OPTIONS of about 400 octets, its Call-ID numbered. */
function options(n: number): Buffer {
  return Buffer.from(
    [
      "OPTIONS sip:bob@127.0.0.1 SIP/2.0",
      `Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK-${n}`,
      "Max-Forwards: 70",
      "From: <sip:alice@example.test>;tag=a1",
      "To: <sip:bob@127.0.0.1>",
      `Call-ID: call-${n}@example.test`,
      `CSeq: ${n} OPTIONS`,
      `X-Filler: ${"x".repeat(200)}`,
      "Content-Length: 0",
      "",
      "",
    ].join("\r\n"),
    "latin1",
  );
}

/** Journals a message as the recorder does (not lent), or as any other caller (lent). */
function journal(j: Journal, n: number, lent: boolean): JournalMessage {
  const wire = options(n);
  const args = [Date.now(), "udp", local, remote, false, wire, describeMessage(wire)] as const;
  return lent ? j.recordReceived(...args) : (j.entryOf(j.receive(...args), false) as JournalMessage);
}

const allocated = (j: Journal) =>
  (j as unknown as { rows: { shelf: { allocated: number } } }).rows.shelf.allocated;

describe("the journal's octets in shared chunks", () => {
  it("a journal of 16 entries under 20,000 messages writes a few chunks again instead of new ones", async () => {
    const j = new Journal(16);
    for (let n = 0; n < 20_000; n++) {
      journal(j, n, false);
      if (n % 100 === 99) await turn();
    }
    // 20,000 messages of ~400 octets fill ~120 chunks of 64 KiB; reused, a handful do.
    expect(allocated(j)).toBeLessThanOrEqual(4);
    expect(j.entries().map((e) => e.callId)).toEqual(
      Array.from({ length: 16 }, (_, i) => `call-${20_000 - 16 + i}@example.test`),
    );
  });

  for (const how of ["record()'s caller", "a listener"] as const) {
    it(`an entry lent to ${how} keeps its octets after it left the journal and its chunk's other messages were overwritten`, async () => {
      const j = new Journal(16);
      let kept: JournalMessage | undefined;
      if (how === "a listener") {
        const stop = j.subscribe((e) => {
          kept = e as JournalMessage;
        });
        journal(j, 0, false);
        stop();
      } else kept = journal(j, 0, true);
      for (let n = 1; n < 5_000; n++) {
        journal(j, n, false);
        if (n % 100 === 99) await turn();
      }
      expect(kept!.raw).toBe(options(0).toString("latin1"));
      expect(kept!.bytes.equals(options(0))).toBe(true);
      expect(kept!.callId).toBe("call-0@example.test");
      // Its chunk was given up, not reused: a new one took its place.
      expect(allocated(j)).toBeGreaterThan(1);
    });
  }

  it("an entry read in a setImmediate queued in its turn still reads its own octets, however many messages followed in that turn", async () => {
    const j = new Journal(4);
    const queued: JournalMessage[] = [];
    j.subscribe((e) => queued.push(e as JournalMessage), true);
    const read: string[] = [];
    setImmediate(() => {
      for (const e of queued) read.push(e.raw);
    });
    // Far more than the journal holds, all in one turn: their chunks are evicted before the read.
    for (let n = 0; n < 600; n++) journal(j, n, false);
    await turn();
    await turn();
    expect(read).toEqual(Array.from({ length: 600 }, (_, n) => options(n).toString("latin1")));
  });

  it("clear() gives every chunk back; entries lent out before keep their octets", async () => {
    const j = new Journal(1_000);
    const kept = journal(j, 0, true);
    for (let n = 1; n < 500; n++) journal(j, n, false);
    const before = allocated(j);
    j.clear();
    await turn();
    for (let n = 500; n < 1_000; n++) journal(j, n, false);
    expect(allocated(j)).toBeLessThanOrEqual(before + 1);
    expect(kept.raw).toBe(options(0).toString("latin1"));
  });
});

describe("readers of the journal's octets", () => {
  it("a --journal capture of a 16-entry journal writes every message's own octets, 400 messages a turn", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sipmock-jsonl-"));
    const file = join(dir, "journal.jsonl");
    const j = new Journal(16);
    const recorder = new Recorder(j, new Metrics(), silentLogger, [new JsonlSink(file)]);
    const flow = { transport: "udp" as const, local, remote };
    let n = 0;
    for (let t = 0; t < 10; t++) {
      for (let k = 0; k < 400; k++, n++) {
        const bytes = options(n);
        recorder.received(
          { flow, bytes, result: parseDatagram(bytes), receivedAt: Date.now() },
          undefined,
          false,
        );
      }
      await turn();
    }
    await turn();
    await recorder.closeSinks();
    const lines = readFileSync(file, "utf8").trim().split("\n");
    rmSync(dir, { recursive: true, force: true });
    expect(lines).toHaveLength(4_000);
    const wrong = lines.filter((l, i) => JSON.parse(l).raw !== options(i).toString("latin1"));
    expect(wrong).toEqual([]);
  });

  it("entries keep the fields they were given while someone reads every message, and read their octets again otherwise", () => {
    const j = new Journal(16);
    expect(journal(j, 0, false).fieldsGiven).toBe(false);
    const stop = j.subscribe(() => {});
    expect(journal(j, 1, false).fieldsGiven).toBe(true);
    stop();
    stop();
    expect(journal(j, 2, false).fieldsGiven).toBe(false);
    const stopLater = j.subscribe(() => {}, true, false);
    expect(journal(j, 3, false).fieldsGiven).toBe(false);
    stopLater();
  });
});
