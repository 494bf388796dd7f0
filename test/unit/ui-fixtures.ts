/** Journal entries for the UI tests, made by the real journal (src/control/journal.ts) from message text. */
import { describeMessage, Journal } from "../../src/control/journal.js";
import type { JournalEntry } from "../../ui/src/types.js";

export const MOCK = { address: "127.0.0.1", port: 5060 };
export const PHONE = { address: "127.0.0.1", port: 5070 };

export function request(
  method: string,
  o: { callId?: string; vias?: string[]; extra?: string[]; cseq?: number; body?: string } = {},
): string {
  const body = o.body ?? "";
  return [
    `${method} sip:bob@127.0.0.1:5060 SIP/2.0`,
    ...(o.vias ?? ["SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1"]).map((v) => `Via: ${v}`),
    "Max-Forwards: 70",
    "From: <sip:alice@example.test>;tag=a1",
    "To: <sip:bob@127.0.0.1>",
    `Call-ID: ${o.callId ?? "call-1"}`,
    `CSeq: ${o.cseq ?? 1} ${method}`,
    ...(o.extra ?? []),
    `Content-Length: ${body.length}`,
    "",
    body,
  ].join("\r\n");
}

export function response(
  status: number,
  reason: string,
  o: { callId?: string; method?: string; vias?: string[]; extra?: string[]; contentLength?: number } = {},
): string {
  return [
    `SIP/2.0 ${status} ${reason}`,
    ...(o.vias ?? ["SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1"]).map((v) => `Via: ${v}`),
    "From: <sip:alice@example.test>;tag=a1",
    "To: <sip:bob@127.0.0.1>;tag=b2",
    `Call-ID: ${o.callId ?? "call-1"}`,
    `CSeq: 1 ${o.method ?? "INVITE"}`,
    ...(o.extra ?? []),
    `Content-Length: ${o.contentLength ?? 0}`,
    "",
    "",
  ].join("\r\n");
}

export interface Msg {
  readonly direction: "in" | "out";
  readonly raw: string;
  readonly ms?: number;
  readonly retransmission?: boolean;
  readonly transport?: "udp" | "tcp";
  readonly remote?: { address: string; port: number };
  /** The scenario rule that answered this request (the journal gives it to its responses too). */
  readonly rule?: string;
}

/**
 * Journal entries for the messages, `ms` milliseconds after a fixed start,
 * as the browser gets them: the journal's JSON (plain objects).
 */
export function entries(messages: readonly Msg[]): JournalEntry[] {
  const j = new Journal();
  const start = Date.parse("2026-12-04T10:00:00.000Z");
  return messages.map((m) => {
    const e = j.add({
      time: new Date(start + (m.ms ?? 0)).toISOString(),
      direction: m.direction,
      transport: m.transport ?? "udp",
      local: MOCK,
      remote: m.remote ?? PHONE,
      raw: m.raw,
      ...describeMessage(m.raw),
      retransmission: m.retransmission ?? false,
    });
    if (m.rule) j.ruleFor(e, m.rule);
    return JSON.parse(JSON.stringify(e)) as JournalEntry;
  });
}
