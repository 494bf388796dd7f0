/**
 * The caller's requests the in-process benchmarks (micro.ts, memory.ts)
 * inject: real SIP bytes from alice at 192.0.2.10:5062, call `i`.
 */

/** A plain audio offer (PCMU, PCMA, telephone-event). */
export const SDP = [
  "v=0",
  "o=alice 2890844526 2890844526 IN IP4 192.0.2.10",
  "s=-",
  "c=IN IP4 192.0.2.10",
  "t=0 0",
  "m=audio 49170 RTP/AVP 0 8 101",
  "a=rtpmap:0 PCMU/8000",
  "a=rtpmap:8 PCMA/8000",
  "a=rtpmap:101 telephone-event/8000",
  "a=fmtp:101 0-16",
  "",
].join("\r\n");

export interface BenchRequest {
  /** Which benchmark sends it: names the Call-ID, the branch and the User-Agent. */
  readonly label: string;
  /** The branch's suffix after the call number (default: the label). */
  readonly branch?: string;
  /** In-dialog: the To tag the mock chose. */
  readonly toTag?: string;
  readonly cseq?: number;
  readonly body?: string;
}

export function benchRequest(method: string, user: string, i: number, o: BenchRequest): Buffer {
  const body = o.body ?? "";
  return Buffer.from(
    [
      `${method} sip:${user}@127.0.0.1:5060 SIP/2.0`,
      `Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-${i}-${o.branch ?? o.label};rport`,
      "Max-Forwards: 70",
      `From: "Alice" <sip:alice@example.test>;tag=f${i}`,
      `To: <sip:${user}@example.test>${o.toTag ? `;tag=${o.toTag}` : ""}`,
      `Call-ID: ${i}-${o.label}@192.0.2.10`,
      `CSeq: ${o.cseq ?? 1} ${method}`,
      "Contact: <sip:alice@192.0.2.10:5062>",
      `User-Agent: ${o.label}/1.0`,
      ...(body ? ["Content-Type: application/sdp"] : []),
      `Content-Length: ${Buffer.byteLength(body, "latin1")}`,
      "",
      body,
    ].join("\r\n"),
    "latin1",
  );
}
