/**
 * The registrar (RFC 3261 10.3) with its limits configured: 423 with
 * Min-Expires, the newest bindings kept per AOR, query, removal by
 * Expires: 0 and by "Contact: *", a Date in every 200.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SipMock, silentLogger, startSipMock } from "../../src/index.js";
import { headerRows, request, statusOf, udpClient, type WireClient } from "../helpers/wire-client.js";

let mock: SipMock;
let c: WireClient;
let target: { host: string; port: number };

beforeAll(async () => {
  mock = await startSipMock({
    listen: ["udp:127.0.0.1:0"],
    logger: silentLogger,
    registrar: { minExpires: 300, maxBindingsPerAor: 2 },
  });
  target = { host: "127.0.0.1", port: mock.address("udp").port };
  c = await udpClient(target);
});
afterAll(async () => {
  await c.close();
  await mock.close();
});

let cseq = 0;
async function register(extra: string[]) {
  cseq++;
  const from = c.received.length;
  await c.send(
    request("REGISTER", "dave", target, { localPort: c.port, callId: "reg-dave@test", cseq, extra }),
  );
  return c.waitFor((m) => c.received.indexOf(m) >= from && statusOf(m) >= 200);
}

describe("registrar limits", () => {
  it("a registration shorter than --min-expires gets 423 with Min-Expires (10.3 step 7)", async () => {
    const r = await register(["Contact: <sip:dave@192.0.2.1>;expires=120"]);
    expect(r.text.split("\r\n")[0]).toBe("SIP/2.0 423 Interval Too Brief");
    expect(headerRows(r, "Min-Expires")).toEqual(["300"]);
  });

  it("keeps the newest bindings per AOR, lists them all with expires and a Date", async () => {
    await register(["Contact: <sip:dave@192.0.2.1>", "Expires: 600"]);
    await register(["Contact: <sip:dave@192.0.2.2>", "Expires: 600"]);
    const r = await register(["Contact: <sip:dave@192.0.2.3>", "Expires: 600"]);
    expect(statusOf(r)).toBe(200);
    expect(headerRows(r, "Contact").map((v) => v.replace(/;expires=\d+$/, ""))).toEqual([
      "<sip:dave@192.0.2.2>",
      "<sip:dave@192.0.2.3>",
    ]);
    expect(headerRows(r, "Date")).toHaveLength(1);
    const query = await register([]);
    expect(headerRows(query, "Contact")).toHaveLength(2);
    expect(mock.registrations()).toEqual([
      {
        aor: "sip:dave@example.test",
        contacts: expect.arrayContaining([expect.objectContaining({ uri: "sip:dave@192.0.2.3" })]),
      },
    ]);
  });

  it("Expires: 0 removes one binding; Contact: * with Expires: 0 removes them all", async () => {
    const one = await register(["Contact: <sip:dave@192.0.2.2>;expires=0"]);
    expect(headerRows(one, "Contact").map((v) => v.replace(/;expires=\d+$/, ""))).toEqual([
      "<sip:dave@192.0.2.3>",
    ]);
    const all = await register(["Contact: *", "Expires: 0"]);
    expect(statusOf(all)).toBe(200);
    expect(headerRows(all, "Contact")).toEqual([]);
    expect(mock.registrations()).toEqual([]);
  });

  it("Path (RFC 3327 5.3): echoed in the 200 to a UA that says Supported: path, not to one that does not", async () => {
    const path = ["Path: <sip:edge1.example.test;lr>", "Path: <sip:edge2.example.test;lr>"];
    const supported = await register([
      "Contact: <sip:dave@192.0.2.4>",
      "Expires: 600",
      "Supported: path",
      ...path,
    ]);
    expect(statusOf(supported)).toBe(200);
    expect(headerRows(supported, "Path")).toEqual([
      "<sip:edge1.example.test;lr>",
      "<sip:edge2.example.test;lr>",
    ]);
    const unsupported = await register(["Contact: <sip:dave@192.0.2.4>", "Expires: 600", ...path]);
    expect(statusOf(unsupported)).toBe(200);
    expect(headerRows(unsupported, "Path")).toEqual([]);
    await register(["Contact: *", "Expires: 0"]);
  });
});
