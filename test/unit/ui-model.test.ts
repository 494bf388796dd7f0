/** The browser UI's call grouping and list filters (ui/src/model.ts), and its page data check. */
import { describe, expect, it } from "vitest";
import {
  CallStore,
  callSummary,
  entryMatches,
  filterCalls,
  noteText,
  parseTimeInput,
} from "../../ui/src/model.js";
import { parsePageData } from "../../ui/src/types.js";
import { entries, request, response } from "./ui-fixtures.js";

const journal = entries([
  { direction: "in", raw: request("INVITE", { callId: "a" }), ms: 0 },
  { direction: "out", raw: response(100, "Trying", { callId: "a" }), ms: 1 },
  { direction: "in", raw: request("REGISTER", { callId: "reg" }), ms: 2, transport: "tcp" },
  { direction: "out", raw: response(486, "Busy Here", { callId: "a" }), ms: 3 },
  {
    direction: "out",
    raw: response(200, "OK", { callId: "reg", method: "REGISTER" }),
    ms: 4,
    transport: "tcp",
  },
  { direction: "in", raw: "\x00\x01 not SIP", ms: 5, remote: { address: "192.0.2.9", port: 9999 } },
  { direction: "in", raw: request("OPTIONS", { callId: "b" }), ms: 60_000 },
]);

function store(): CallStore {
  const s = new CallStore();
  s.addAll(journal);
  return s;
}

describe("calls from journal entries", () => {
  it("groups by Call-ID in order of the first message, messages without one apart", () => {
    const calls = store().calls();
    expect(calls.map((c) => [c.callId, c.entries.map((e) => e.id)])).toEqual([
      ["a", [1, 2, 4]],
      ["reg", [3, 5]],
      ["", [6]],
      ["b", [7]],
    ]);
    expect(calls.map(callSummary)).toEqual([
      "INVITE \u2192 486 Busy Here",
      "REGISTER \u2192 200 OK",
      "(unparsable)",
      "OPTIONS",
    ]);
  });

  it("keeps an entry once however often it arrives (stream and journal fetch overlap), in id order", () => {
    const s = new CallStore();
    s.addAll([journal[3]!, journal[0]!]);
    s.addAll(journal);
    expect(s.entryCount).toBe(journal.length);
    expect(s.get("a")!.entries.map((e) => e.id)).toEqual([1, 2, 4]);
    const before = s.version;
    expect(s.add(journal[0]!)).toBeUndefined();
    expect(s.version).toBe(before);
    expect(s.upsert(journal[0]!)).toBe(false);
    expect(s.upsert({ ...journal[0]!, rule: "r1", faults: ["drop (not answered)"] })).toBe(true);
    expect(s.get("a")!.entries[0]).toMatchObject({ id: 1, rule: "r1", faults: ["drop (not answered)"] });
    expect(s.get("a")!.entries).toHaveLength(3);
    s.clear();
    expect(s.size).toBe(0);
  });
});

describe("filters", () => {
  const ids = (f: Parameters<typeof filterCalls>[1]) => filterCalls(store().calls(), f).map((c) => c.callId);

  it("by method, the CSeq method of responses too", () => {
    expect(ids({ method: "invite" })).toEqual(["a"]);
    expect(ids({ method: "REGISTER" })).toEqual(["reg"]);
  });

  it("by status code or class", () => {
    expect(ids({ status: "486" })).toEqual(["a"]);
    expect(ids({ status: "2xx" })).toEqual(["reg"]);
    expect(ids({ status: "1" })).toEqual(["a"]);
    expect(ids({ status: "500" })).toEqual([]);
  });

  it("by Call-ID part, peer, transport and text", () => {
    expect(ids({ callId: "RE" })).toEqual(["reg"]);
    expect(ids({ peer: "192.0.2.9" })).toEqual([""]);
    expect(ids({ transport: "tcp" })).toEqual(["reg"]);
    expect(ids({ text: "busy here" })).toEqual(["a"]);
    expect(ids({ text: "sip:alice@example.test" })).toEqual(["a", "reg", "b"]);
  });

  it("by time, and every filter given must hold on the same message", () => {
    const start = Date.parse("2026-12-04T10:00:00.000Z");
    expect(ids({ since: start + 30_000 })).toEqual(["b"]);
    expect(ids({ until: start + 2 })).toEqual(["a", "reg"]);
    expect(ids({ method: "INVITE", transport: "tcp" })).toEqual([]);
    expect(entryMatches(journal[3]!, { method: "INVITE", status: "4xx", text: "486" })).toBe(true);
    expect(ids({})).toEqual(["a", "reg", "", "b"]);
  });

  it("reads a date/time input, ignores an empty or bad one", () => {
    expect(parseTimeInput("")).toBeUndefined();
    expect(parseTimeInput("not a time")).toBeUndefined();
    expect(parseTimeInput("2026-12-04T10:00:00Z")).toBe(Date.parse("2026-12-04T10:00:00Z"));
  });
});

describe("page data", () => {
  it("accepts the live and report shapes and refuses anything else", () => {
    expect(parsePageData('{"mode":"live","api":"/__admin","token":null}')).toEqual({
      mode: "live",
      api: "/__admin",
      token: null,
    });
    expect(parsePageData('{"mode":"report","entries":[],"expectations":null,"generatedAt":"x"}').mode).toBe(
      "report",
    );
    expect(() => parsePageData("")).toThrow(/no valid sipmock-data/);
    expect(() => parsePageData('{"mode":"live"}')).toThrow(/"api"/);
    expect(() => parsePageData('{"mode":"live","api":"/x","token":5}')).toThrow(/token/);
    expect(() => parsePageData('{"mode":"other"}')).toThrow(/mode/);
  });
});

describe("DTMF and media records", () => {
  it("become notes of their call, not ladder entries; a text line each", () => {
    const s = store();
    s.add({
      id: 100,
      time: "2026-11-26T10:00:01.250Z",
      kind: "dtmf",
      callId: "a",
      digit: "7",
      durationMs: 120,
      volume: 10,
      via: "rfc4733",
      remote: { address: "127.0.0.1", port: 6000 },
    });
    s.add({
      id: 101,
      time: "2026-11-26T10:00:02.000Z",
      kind: "media",
      callId: "a",
      codec: "PCMU",
      sent: { packets: 50, octets: 8000, lost: 0, jitterMs: 0 },
      received: { packets: 48, octets: 7680, lost: 2, jitterMs: 1.25 },
    });
    const a = s.get("a")!;
    expect(a.entries.every((e) => e.kind === "request" || e.kind === "response")).toBe(true);
    expect(a.notes.map((n) => n.id)).toEqual([100, 101]);
    expect(noteText(a.notes[0]!)).toBe("10:00:01.250 DTMF 7 (rfc4733, 120 ms) from 127.0.0.1:6000");
    expect(noteText(a.notes[1]!)).toBe(
      "10:00:02.000 RTP PCMU: sent 50 packets, 8000 octets, lost 0, jitter 0.0 ms; received 48 packets, 7680 octets, lost 2, jitter 1.3 ms",
    );
    // Seen once by id; upsert of a record changes nothing.
    expect(s.add({ ...a.notes[0]! })).toBeUndefined();
    expect(s.upsert({ ...a.notes[1]! })).toBe(false);
  });
});
