/**
 * IPv6 on UDP and TCP: the listener binds [::1], the Via gets received=::1
 * (RFC 3261 25.1 via-received = IPv4address / IPv6address, no brackets) and
 * rport, and the Contact of the answer carries the bracketed host (RFC 5118 4.1).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SipMock, silentLogger, startSipMock } from "../../src/index.js";
import { header, statusOf, tcpClient, udpClient } from "../helpers/wire-client.js";

let mock: SipMock;

beforeAll(async () => {
  mock = await startSipMock({
    listen: ["udp:[::1]:0", "tcp:[::1]:0"],
    logger: silentLogger,
    timers: { t1: 50 },
  });
});
afterAll(() => mock.close());

function invite(transport: "UDP" | "TCP", port: number, localPort: number): string {
  const sdp = [
    "v=0",
    "o=a 1 1 IN IP6 ::1",
    "s=-",
    "c=IN IP6 ::1",
    "t=0 0",
    "m=audio 40000 RTP/AVP 0",
    "",
  ].join("\r\n");
  return [
    `INVITE sip:alice@[::1]:${port} SIP/2.0`,
    `Via: SIP/2.0/${transport} [::1]:${localPort};branch=z9hG4bK-v6-${transport}-${localPort};rport`,
    "Max-Forwards: 70",
    "From: <sip:v6@[::1]>;tag=v6",
    `To: <sip:alice@[::1]:${port}>`,
    `Call-ID: v6-${transport}-${localPort}@[::1]`,
    "CSeq: 1 INVITE",
    `Contact: <sip:v6@[::1]:${localPort}>`,
    "Content-Type: application/sdp",
    `Content-Length: ${Buffer.byteLength(sdp)}`,
    "",
    sdp,
  ].join("\r\n");
}

describe("IPv6 [::1]", () => {
  it("listens on [::1] and reports it", () => {
    expect(mock.address("udp").host).toBe("::1");
    expect(mock.uri("udp")).toMatch(/^sip:\[::1\]:\d+;transport=udp$/);
  });

  it.each(["udp", "tcp"] as const)(
    "an INVITE over %s is answered with bracketed hosts and received=::1",
    async (t) => {
      const port = mock.address(t).port;
      const target = { host: "::1", port };
      const c = t === "udp" ? await udpClient(target, "::1") : await tcpClient(target);
      await c.send(invite(t === "udp" ? "UDP" : "TCP", port, c.port));
      const ok = await c.waitFor((m) => statusOf(m) === 200);
      expect(header(ok, "Via")).toBe(
        `SIP/2.0/${t.toUpperCase()} [::1]:${c.port};branch=z9hG4bK-v6-${t.toUpperCase()}-${c.port};rport=${c.port};received=::1`,
      );
      expect(header(ok, "Contact")).toBe(`<sip:sipmock@[::1]:${port};transport=${t}>`);
      expect(ok.text).toMatch(/\r\nc=IN IP6 ::1\r\n/);
      await c.close();
    },
  );
});
