/**
 * The journal's entries as rows (src/control/journal-ring.ts,
 * journal-rows.ts, issue 12): the ring against a list model across its
 * growth and wrap, the journal against a model of what it must hold
 * (budgets in entries and octets, rules and faults noted after the fact,
 * entries lent out), and no entry object for a message nobody reads.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { describeMessage, Journal, type JournalEntry } from "../../src/control/journal.js";
import { JournalRing } from "../../src/control/journal-ring.js";
import { silentLogger } from "../../src/control/logger.js";
import { Metrics } from "../../src/control/metrics.js";
import { Recorder } from "../../src/control/mock/recorder.js";
import { parseDatagram } from "../../src/sip/parser.js";
import { ITEM_OVERHEAD, JOURNAL_OBJECT_OVERHEAD } from "../../src/transaction/budget.js";

const local = { address: "127.0.0.1", port: 5060 };
const remote = { address: "192.0.2.7", port: 5070 };
const turn = () => new Promise<void>((r) => setImmediate(r));

describe("JournalRing", () => {
  it("keeps consecutive ids, oldest first, across growth and wrap (fast-check against a list)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 700 }),
        // Runs of appends and shifts, so the ring fills, wraps and grows with its head anywhere.
        fc.array(
          fc.oneof(
            { weight: 5, arbitrary: fc.tuple(fc.constant("append"), fc.integer({ min: 1, max: 400 })) },
            { weight: 4, arbitrary: fc.tuple(fc.constant("shift"), fc.integer({ min: 1, max: 300 })) },
            { weight: 1, arbitrary: fc.tuple(fc.constant("clear"), fc.constant(1)) },
          ),
          { maxLength: 30 },
        ),
        (max, runs) => {
          const ring = new JournalRing(max);
          let model: number[] = [];
          let next = 1;
          for (const [op, times] of runs) {
            for (let t = 0; t < times; t++) {
              if (op === "append") {
                if (ring.count >= max) {
                  ring.shift();
                  model.shift();
                }
                const row = ring.append("request", next, 0, "tcp", 1);
                ring.rule[row] = `r${next}`;
                model.push(next++);
              } else if (op === "shift" && ring.count > 0) {
                const row = ring.head;
                ring.shift();
                model.shift();
                // What the row held is let go.
                expect(ring.rule[row]).toBeUndefined();
              } else if (op === "clear") {
                ring.clear();
                model = [];
              }
            }
            expect(ring.count).toBe(model.length);
            expect(ring.nextId).toBe(next);
            expect(ring.capacity).toBeLessThanOrEqual(max);
          }
          for (let i = 0; i < model.length; i++) {
            const id = model[i]!;
            const row = ring.rowOf(id);
            expect(row).toBe(ring.rowAt(i));
            expect(ring.idOf(row)).toBe(id);
            expect(ring.at[row]).toBe(id);
            expect(ring.rule[row]).toBe(`r${id}`);
            expect(ring.transportOf(row)).toBe("tcp");
            expect(ring.kindOf(row)).toBe("request");
          }
          expect(ring.rowOf(next)).toBe(-1);
          expect(ring.rowOf((model[0] ?? next) - 1)).toBe(-1);
        },
      ),
      { numRuns: 200 },
    );
  });
});

/** A message of about `pad` + 300 octets; odd ones are responses. */
function message(n: number, pad: number): Buffer {
  const response = n % 2 === 1;
  return Buffer.from(
    [
      response ? "SIP/2.0 486 Busy Here" : "OPTIONS sip:bob@127.0.0.1 SIP/2.0",
      `Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK-${n}`,
      "From: <sip:alice@example.test>;tag=a1",
      "To: <sip:bob@127.0.0.1>",
      `Call-ID: call-${n}@example.test`,
      `CSeq: ${n} OPTIONS`,
      `X-Filler: ${"x".repeat(pad)}`,
      "Content-Length: 0",
      "",
      "",
    ].join("\r\n"),
    "latin1",
  );
}

interface Held {
  id: number;
  raw: string;
  size: number;
  kind: string;
  /** Whether its object was made (and is counted from then on). */
  made?: boolean;
}

type Op =
  | { op: "receive" | "store"; pad: number }
  | { op: "media" | "rule" | "fault" | "lend" | "turn" | "clear" };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  // ~300-3,300 octets: 200 of them fill several 64 KiB chunks, which are written again once free.
  { weight: 24, arbitrary: fc.record({ op: fc.constantFrom("receive", "store"), pad: fc.nat(3000) }) },
  // Some messages longer than a shared chunk's quarter: a buffer of their own.
  { weight: 2, arbitrary: fc.record({ op: fc.constantFrom("receive", "store"), pad: fc.constant(20_000) }) },
  { weight: 10, arbitrary: fc.record({ op: fc.constantFrom("rule", "fault", "lend") }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constantFrom("media", "turn") }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("clear") }) },
) as fc.Arbitrary<Op>;

describe("the journal's rows against a model", () => {
  it("hold the newest entries within both budgets; rules, faults and lent entries read as noted (fast-check)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 24 }),
        fc.integer({ min: 1_000, max: 200_000 }),
        fc.array(opArb, { minLength: 100, maxLength: 400 }),
        fc.boolean(),
        async (maxEntries, maxBytes, ops, listening) => {
          const j = new Journal(maxEntries, maxBytes);
          // A listener (the web UI, waitFor) is handed every message's entry as it is journaled.
          const heard: JournalEntry[] = [];
          if (listening) j.subscribe((e) => (e.kind === "dtmf" ? undefined : heard.push(e as JournalEntry)));
          let held: Held[] = [];
          let bytes = 0;
          const rules = new Map<number, string>();
          const faults = new Map<number, string[]>();
          const lent: JournalEntry[] = [];
          /** Every message's octets, by id. */
          const raws = new Map<number, string>();
          let lastReceived = 0;
          let n = 0;
          const keep = (h: Held) => {
            if (held.length >= Math.max(1, maxEntries)) bytes -= held.shift()!.size;
            held.push(h);
            bytes += h.size;
            while (held.length > 1 && bytes > maxBytes) bytes -= held.shift()!.size;
          };
          // An entry's object, once made, is counted too; the next message evicts to the budget.
          const made = (h: Held | undefined) => {
            if (h === undefined || h.made) return;
            h.made = true;
            h.size += JOURNAL_OBJECT_OVERHEAD;
            bytes += JOURNAL_OBJECT_OVERHEAD;
          };
          for (const o of ops) {
            if (o.op === "receive" || o.op === "store") {
              const wire = message(n, o.pad);
              const fields = describeMessage(wire);
              const id =
                o.op === "receive"
                  ? j.receive(n, "udp", local, remote, false, wire, fields)
                  : j.store(n, "out", "udp", local, remote, false, wire, fields);
              n++;
              if (o.op === "receive") lastReceived = id;
              const size = wire.length + ITEM_OVERHEAD.journal;
              raws.set(id, wire.toString("latin1"));
              keep({ id, raw: wire.toString("latin1"), size, kind: fields.kind });
              if (listening) made(held[held.length - 1]);
            } else if (o.op === "media") {
              const e = j.addMedia({
                time: "2026-12-05T12:00:00.000Z",
                kind: "dtmf",
                direction: "in",
                callId: "c",
                digit: "5",
                durationMs: 100,
                volume: 10,
                via: "rfc4733",
                transport: "udp",
              });
              keep({ id: e.id, raw: "", size: 400 + ITEM_OVERHEAD.journal, kind: "dtmf", made: true });
            } else if (o.op === "rule" && lastReceived !== 0) {
              j.ruleForId(lastReceived, `rule ${lastReceived}`);
              rules.set(lastReceived, `rule ${lastReceived}`);
            } else if (o.op === "fault" && lastReceived !== 0) {
              j.markFaultId(lastReceived, "drop");
              faults.set(lastReceived, [...(faults.get(lastReceived) ?? []), "drop"]);
            } else if (o.op === "lend" && held.length > 0) {
              const e = j.entryOf(held[held.length - 1]!.id);
              made(held[held.length - 1]);
              if (e !== undefined && e.kind !== "dtmf" && e.kind !== "media") lent.push(e);
            } else if (o.op === "turn") await turn();
            else if (o.op === "clear") {
              j.clear();
              held = [];
              bytes = 0;
              lastReceived = 0;
            }
          }
          const records = j.records();
          for (const h of held) made(h);
          expect(records.map((e) => e.id)).toEqual(held.map((h) => h.id));
          expect(records.map((e) => (e.kind === "dtmf" ? "" : (e as JournalEntry).raw))).toEqual(
            held.map((h) => h.raw),
          );
          expect(records.map((e) => e.kind)).toEqual(held.map((h) => h.kind));
          for (const e of j.entries()) {
            expect(e.rule).toBe(rules.get(e.id));
            expect(e.faults).toEqual(faults.get(e.id));
          }
          // Read from an id on (the web UI's catch-up, the event stream's Last-Event-ID).
          const since = held[Math.floor(held.length / 2)]?.id ?? 0;
          expect(j.records({ sinceId: since }).map((e) => e.id)).toEqual(
            held.filter((h) => h.id > since).map((h) => h.id),
          );
          expect(j.size).toBe(held.length);
          expect(j.octets).toBe(bytes);
          // Lent entries keep their octets and see what was noted of them after they were lent.
          for (const e of [...lent, ...heard]) {
            expect(e.raw).toBe(raws.get(e.id));
            expect(e.callId).toBe(`call-${e.cseq!.split(" ")[0]}@example.test`);
            expect(e.rule).toBe(rules.get(e.id));
            expect(e.faults).toEqual(faults.get(e.id));
          }
        },
      ),
      { numRuns: 120 },
    );
  });

  it("a rule named after the request's row left still reaches the entry lent for it", () => {
    const j = new Journal(1);
    const wire = message(0, 0);
    const id = j.receive(0, "udp", local, remote, false, wire, describeMessage(wire));
    const lentEntry = j.entryOf(id) as JournalEntry;
    const answer = message(1, 0);
    // The answer goes out before the decision is noted: the request's row is evicted (one entry kept).
    j.store(1, "out", "udp", local, remote, false, answer, describeMessage(answer));
    j.ruleForId(id, "late rule");
    j.markFaultId(id, "drop");
    expect(lentEntry.rule).toBe("late rule");
    expect(lentEntry.faults).toEqual(["drop"]);
    expect(j.entries().map((e) => e.id)).toEqual([id + 1]);
  });
});

describe("the recorder's hot path", () => {
  it("makes no entry object for a message nobody reads, and one for each once someone listens", () => {
    const j = new Journal(64);
    const metrics = new Metrics();
    const recorder = new Recorder(j, metrics, silentLogger, []);
    const flow = { transport: "udp" as const, local, remote };
    const receive = (n: number) => {
      const bytes = message(2 * n, 10);
      recorder.received({ flow, bytes, result: parseDatagram(bytes), receivedAt: n }, undefined, false);
    };
    for (let n = 0; n < 40; n++) receive(n);
    const objs = (j as unknown as { ring: JournalRing }).ring.objs;
    expect(objs.filter((o) => o !== undefined)).toEqual([]);
    // Metrics count each message as it is journaled, without an entry.
    expect(metrics.render({ transactions: 0, dialogs: 0, journalEntries: 0, overrides: 0 })).toMatch(
      /sipmock_requests_received_total\{method="OPTIONS"\} 40/,
    );
    const seen: number[] = [];
    const stop = j.subscribe((e) => seen.push(e.id));
    for (let n = 40; n < 45; n++) receive(n);
    stop();
    expect(seen).toEqual([41, 42, 43, 44, 45]);
    expect(objs.filter((o) => o !== undefined)).toHaveLength(5);
    // Read back, every entry is whole.
    expect(j.entries().map((e) => e.callId)).toEqual(
      Array.from({ length: 45 }, (_, n) => `call-${2 * n}@example.test`),
    );
  });
});

/** Subscribes a listener that journals one more message (with `journal`) for each entry, not for its own. */
function journalsFromListener(j: Journal, journal: () => void): void {
  let journaling = false;
  j.subscribe(() => {
    if (journaling) return;
    journaling = true;
    journal();
    journaling = false;
  });
}

describe("the journal's edges", () => {
  const msg = (n: number) => message(n, 0);
  const fieldsOf = (n: number) => describeMessage(msg(n));

  it("store() and record() give their own message's id, even when a listener journals another and evicts it", () => {
    const j = new Journal(1);
    journalsFromListener(j, () => {
      j.store(9, "out", "udp", local, remote, false, msg(9), fieldsOf(9));
    });
    const id = j.store(1, "out", "udp", local, remote, false, msg(1), fieldsOf(1));
    expect(id).toBe(1);
    const e = j.record(2, "in", "udp", local, remote, false, msg(2), fieldsOf(2));
    expect([e.id, e.callId]).toEqual([3, "call-2@example.test"]);
  });

  it("record(), recordReceived() and add() give their own entry when a listener journals with record() meanwhile", () => {
    const j = new Journal(100);
    journalsFromListener(j, () => {
      expect(j.record(9, "out", "udp", local, remote, false, msg(9), fieldsOf(9)).callId).toBe(
        "call-9@example.test",
      );
    });
    expect(j.record(1, "out", "udp", local, remote, false, msg(1), fieldsOf(1)).callId).toBe(
      "call-1@example.test",
    );
    expect(j.recordReceived(2, "udp", local, remote, false, msg(2), fieldsOf(2)).callId).toBe(
      "call-2@example.test",
    );
    const raw = msg(3).toString("latin1");
    const added = j.add({
      time: "2026-12-05T12:00:00.000Z",
      direction: "in",
      transport: "udp",
      local,
      remote,
      raw,
      ...fieldsOf(3),
      retransmission: false,
    });
    expect(added.callId).toBe("call-3@example.test");
  });

  it("a message that fails to journal leaves no wanted entry behind for the next one", () => {
    const j = new Journal(100);
    // add() without raw text: it throws before the message is journaled.
    expect(() => j.add({ direction: "in" } as never)).toThrow();
    j.store(1, "out", "udp", local, remote, false, msg(1), fieldsOf(1));
    const objs = (j as unknown as { ring: JournalRing }).ring.objs;
    expect(objs.filter((o) => o !== undefined)).toEqual([]);
  });

  it("onEntry() tells of each entry without making it; a query keeps the entries it made with their rows", () => {
    const j = new Journal(100);
    let told = 0;
    const stop = j.onEntry(() => told++);
    for (let n = 0; n < 5; n++) j.store(n, "out", "udp", local, remote, false, msg(n), fieldsOf(n));
    stop();
    j.store(5, "out", "udp", local, remote, false, msg(5), fieldsOf(5));
    expect(told).toBe(5);
    const objs = (j as unknown as { ring: JournalRing }).ring.objs;
    expect(objs.filter((o) => o !== undefined)).toEqual([]);
    // The next query finds the fields this one read from the octets.
    expect(j.entries().map((e) => e.callId)).toHaveLength(6);
    expect(objs.filter((o) => o !== undefined)).toHaveLength(6);
  });

  it("an entry object a query made is counted in the octet budget; the next message evicts to it", () => {
    let unread = 0;
    for (let n = 0; n < 10; n++) unread += msg(n).length + ITEM_OVERHEAD.journal;
    // Room for ten entries unread (and the next message), for fewer once read.
    const budget = unread + 100;
    const j = new Journal(100, budget);
    for (let n = 0; n < 10; n++) j.store(n, "out", "udp", local, remote, false, msg(n), fieldsOf(n));
    expect(j.octets).toBe(unread);
    expect(j.entries()).toHaveLength(10);
    expect(j.octets).toBe(unread + 10 * JOURNAL_OBJECT_OVERHEAD);
    j.store(10, "out", "udp", local, remote, false, msg(10), fieldsOf(10));
    expect(j.octets).toBeLessThanOrEqual(budget);
    const ids = j.entries().map((e) => e.id);
    expect(ids[ids.length - 1]).toBe(11);
    expect(ids.length).toBeLessThan(10);
  });

  it("sinceId need not be a whole number; journal sizes are whole numbers", () => {
    const j = new Journal(2.5);
    for (let n = 0; n < 4; n++) j.store(n, "out", "udp", local, remote, false, msg(n), fieldsOf(n));
    expect(j.records().map((e) => e.id)).toEqual([3, 4]);
    expect(j.records({ sinceId: 3.5 }).map((e) => e.id)).toEqual([4]);
    // NaN bounds nothing by count (as before rows): the octet budget still does.
    const k = new Journal(Number.NaN);
    for (let n = 0; n < 300; n++) k.store(n, "out", "udp", local, remote, false, msg(n), fieldsOf(n));
    expect(k.size).toBe(300);
  });

  it("a rule named for the message being handled after a clear() still reaches its responses", () => {
    const j = new Journal();
    const wire = msg(0);
    const id = j.receive(0, "udp", local, remote, false, wire, describeMessage(wire));
    j.clear();
    j.ruleForId(id, "R");
    // The request's answer: its transaction key (the request's branch and method) finds the rule.
    const answer = Buffer.from(
      msg(0).toString("latin1").replace("OPTIONS sip:bob@127.0.0.1 SIP/2.0", "SIP/2.0 200 OK"),
      "latin1",
    );
    j.store(1, "out", "udp", local, remote, false, answer, describeMessage(answer));
    expect(j.entries().map((e) => [e.status, e.rule])).toEqual([[200, "R"]]);
  });

  it("markFault() of a copy given out earlier adds to the faults the journal has", () => {
    const j = new Journal();
    const wire = msg(0);
    const id = j.receive(0, "udp", local, remote, false, wire, describeMessage(wire));
    const copy = j.entries()[0]!;
    j.markFaultId(id, "a");
    j.markFault(copy, "b");
    expect(j.entries()[0]!.faults).toEqual(["a", "b"]);
    expect(copy.faults).toEqual(["a", "b"]);
  });

  it("a transport name outside SIP's, journaled by add(), is kept as given", () => {
    const j = new Journal();
    const raw = msg(0).toString("latin1");
    j.add({
      time: "2026-12-05T12:00:00.000Z",
      direction: "in",
      transport: "sctp" as never,
      local,
      remote,
      raw,
      ...describeMessage(Buffer.from(raw, "latin1")),
      retransmission: false,
    });
    expect(j.entries()[0]!.transport).toBe("sctp");
    // Past 255 names, the rest are "other" (a code in one octet).
    for (let n = 0; n < 300; n++) j.add({ ...j.entries()[0]!, transport: `t${n}` as never });
    const names = j.entries().map((e) => e.transport as string);
    expect(names.slice(-1)).toEqual(["other"]);
    expect(new Set(names).size).toBe(255 - 5 + 1); // 250 names kept as given, then "other"
  });

  it("faults noted of a response after it was sent reach the entry a listener holds, and its retransmissions", () => {
    const j = new Journal();
    const heard: JournalEntry[] = [];
    j.subscribe((e) => heard.push(e as JournalEntry));
    const busy = message(1, 0);
    const fields = describeMessage(busy);
    j.store(0, "out", "udp", local, remote, false, busy, fields);
    j.faultFor(fields.transaction!, 486, ["duplicate"]);
    j.store(1, "out", "udp", local, remote, true, busy, fields);
    expect(heard.map((e) => [e.retransmission, e.faults])).toEqual([
      [false, ["duplicate"]],
      [true, ["duplicate"]],
    ]);
    expect(j.entries().map((e) => e.faults)).toEqual([["duplicate"], ["duplicate"]]);
  });

  it("onMessage gets each message's own entry, even when a journal listener journals another and evicts its row", () => {
    const j = new Journal(1);
    const recorder = new Recorder(j, new Metrics(), silentLogger, []);
    const events: Array<[string, number, string | undefined]> = [];
    recorder.onMessage((e) => events.push([e.direction, e.entry.id, e.entry.callId]));
    journalsFromListener(j, () => {
      j.store(9, "out", "udp", local, remote, false, message(9, 0), describeMessage(message(9, 0)));
    });
    const flow = { transport: "udp" as const, local, remote };
    const bytes = message(0, 0);
    recorder.received({ flow, bytes, result: parseDatagram(bytes), receivedAt: 0 }, undefined, false);
    recorder.sent(flow, message(1, 0), false);
    expect(events).toEqual([
      ["in", 1, "call-0@example.test"],
      ["out", 3, "call-1@example.test"],
    ]);
  });

  it("the recorder counts what it sends as it journals it: responses by code, retransmissions apart", () => {
    const metrics = new Metrics();
    const recorder = new Recorder(new Journal(), metrics, silentLogger, []);
    const flow = { transport: "udp" as const, local, remote };
    recorder.sent(flow, message(1, 0), false);
    recorder.sent(flow, message(1, 0), true);
    const text = metrics.render({ transactions: 0, dialogs: 0, journalEntries: 0, overrides: 0 });
    expect(text).toMatch(/sipmock_responses_sent_total\{code="486"\} 1\n/);
    expect(text).toMatch(/sipmock_retransmissions_total\{direction="sent"\} 1\n/);
  });
});
