/**
 * Where the mock's own requests go (RFC 3261 8.1.2, 10.3, 18.1.1; RFC 3263
 * 4.1; RFC 5626 5.3; RFC 7118 5): the flow chosen for a registered contact
 * (bindingFlow) and for a request within a dialog (targetFlow). The wire
 * behaviour is proven against Kamailio in test/integration/kamailio.test.ts;
 * these pin every rule, including the ones a proxy in front does not reach.
 */
import { describe, expect, it } from "vitest";
import type { Flow, ListenerInfo, TransportName } from "../../src/transport/types.js";
import { bindingFlow, type ListenerLookup, registeredFlow, targetFlow } from "../../src/ua/request-target.js";

const LISTENERS: ListenerInfo[] = [
  { transport: "udp", address: "127.0.0.1", port: 5060 },
  { transport: "tcp", address: "127.0.0.1", port: 5070 },
  { transport: "tls", address: "127.0.0.1", port: 5071 },
];
const listenerOn: ListenerLookup = (t: TransportName) => LISTENERS.find((l) => l.transport === t);

/** The TCP connection a proxy opened to the mock (from an ephemeral port) and relayed a REGISTER on. */
const proxyTcp: Flow = {
  transport: "tcp",
  local: { address: "127.0.0.1", port: 5070 },
  remote: { address: "127.0.0.1", port: 41234 },
  connectionId: 7,
};
const proxyUdp: Flow = {
  transport: "udp",
  local: { address: "127.0.0.1", port: 5060 },
  remote: { address: "127.0.0.1", port: 5080 },
};

describe("bindingFlow: a request to a registered contact", () => {
  it("a UDP Contact registered through a TCP proxy: UDP to the Contact, from the UDP listener", () => {
    expect(bindingFlow(proxyTcp, "sip:x@127.0.0.1:5090;transport=udp", false, listenerOn)).toEqual({
      transport: "udp",
      local: { address: "127.0.0.1", port: 5060 },
      remote: { address: "127.0.0.1", port: 5090 },
    });
  });

  it("no transport parameter means UDP for sip (RFC 3263 4.1), even when registered over TCP", () => {
    expect(bindingFlow(proxyTcp, "sip:x@127.0.0.1:5090", false, listenerOn)).toMatchObject({
      transport: "udp",
      remote: { address: "127.0.0.1", port: 5090 },
    });
  });

  it("a TCP Contact that is not the connection's source: a connection of its own to the Contact", () => {
    const f = bindingFlow(proxyTcp, "sip:x@127.0.0.1:5090;transport=tcp", false, listenerOn);
    expect(f).toEqual({
      transport: "tcp",
      local: proxyTcp.local,
      remote: { address: "127.0.0.1", port: 5090 },
    });
    expect(f.connectionId).toBeUndefined();
  });

  it("a TCP Contact registered through a UDP proxy: TCP from the TCP listener; a sips Contact: TLS, port 5061", () => {
    expect(bindingFlow(proxyUdp, "sip:x@127.0.0.1:5090;transport=tcp", false, listenerOn)).toEqual({
      transport: "tcp",
      local: { address: "127.0.0.1", port: 5070 },
      remote: { address: "127.0.0.1", port: 5090 },
    });
    expect(bindingFlow(proxyUdp, "sips:x@127.0.0.1", false, listenerOn)).toMatchObject({
      transport: "tls",
      remote: { address: "127.0.0.1", port: 5061 },
    });
    expect(bindingFlow(proxyUdp, "sips:x@127.0.0.1:5091;transport=tcp", false, listenerOn)).toMatchObject({
      transport: "tls",
      local: { port: 5071 },
      remote: { address: "127.0.0.1", port: 5091 },
    });
  });

  it("a UDP Contact registered over UDP through a proxy: to the Contact from the same socket", () => {
    expect(bindingFlow(proxyUdp, "sip:x@127.0.0.1:5090", false, listenerOn)).toEqual({
      ...proxyUdp,
      replyTo: { address: "127.0.0.1", port: 5090 },
    });
  });

  it("the registration's flow where the RFCs say so: the Contact names its source, ;ob, WebSocket, a host name, NAT mode", () => {
    expect(bindingFlow(proxyTcp, "sip:x@127.0.0.1:41234;transport=tcp", false, listenerOn)).toEqual(proxyTcp);
    expect(bindingFlow(proxyTcp, "sip:x@127.0.0.1:41234", false, listenerOn)).toEqual(proxyTcp);
    const tls: Flow = { ...proxyTcp, transport: "tls", local: { address: "127.0.0.1", port: 5071 } };
    expect(bindingFlow(tls, "sips:x@127.0.0.1:41234;transport=tcp", false, listenerOn)).toEqual(tls);
    // RFC 5626 5.3: the flow and only the flow (closed: 430 Flow Failed, no fallback to the Contact).
    expect(bindingFlow(proxyTcp, "sip:x@127.0.0.1:5090;transport=tcp;ob", false, listenerOn)).toEqual({
      ...proxyTcp,
      flowOnly: true,
    });
    expect(bindingFlow(proxyTcp, "sip:x@127.0.0.1:5090;ob", false, listenerOn)).toEqual({
      ...proxyTcp,
      flowOnly: true,
    });
    expect(bindingFlow(proxyUdp, "sip:x@127.0.0.1:5090;ob", false, listenerOn)).toEqual(proxyUdp);
    const ws: Flow = { ...proxyTcp, transport: "ws" };
    expect(bindingFlow(ws, "sip:x@df7jal23ls0d.invalid;transport=ws", false, listenerOn)).toEqual(ws);
    expect(bindingFlow(proxyTcp, "sip:x@phone.example.com;transport=udp", false, listenerOn)).toEqual(
      proxyTcp,
    );
    expect(bindingFlow(proxyTcp, "sip:x@127.0.0.1:5090;transport=udp", true, listenerOn)).toEqual(proxyTcp);
  });

  it("an IPv4 UDP Contact through a dual-stack [::] UDP listener: written ::ffff:a.b.c.d (else EINVAL)", () => {
    const dual: ListenerLookup = (t) => ({ transport: t, address: "::", port: t === "udp" ? 5060 : 5070 });
    const tcpOnDual: Flow = { ...proxyTcp, remote: { address: "::ffff:127.0.0.1", port: 41234 } };
    expect(bindingFlow(tcpOnDual, "sip:x@127.0.0.1:5090;transport=udp", false, dual)).toEqual({
      transport: "udp",
      local: { address: "127.0.0.1", port: 5060 },
      remote: { address: "::ffff:127.0.0.1", port: 5090 },
    });
    expect(targetFlow(tcpOnDual, "sip:x@127.0.0.1:5090;transport=udp", false, dual)).toMatchObject({
      remote: { address: "::ffff:127.0.0.1", port: 5090 },
    });
    // An IPv4 listener keeps the IPv4 form.
    expect(
      bindingFlow(proxyTcp, "sip:x@127.0.0.1:5090;transport=udp", false, listenerOn).remote.address,
    ).toBe("127.0.0.1");
  });

  it("without a listener for the Contact's transport, the registration's flow", () => {
    expect(bindingFlow(proxyTcp, "sip:x@127.0.0.1:5090;transport=udp", false, () => undefined)).toEqual(
      proxyTcp,
    );
  });
});

describe("targetFlow: a request within a dialog", () => {
  it("over a connection: the connection, with the target's address should it have closed", () => {
    expect(targetFlow(proxyTcp, "sip:127.0.0.1:5090;transport=tcp;lr", false, listenerOn)).toEqual({
      ...proxyTcp,
      replyTo: { address: "127.0.0.1", port: 5090 },
    });
  });

  it("a target on another transport: through that transport's listener", () => {
    expect(targetFlow(proxyTcp, "sip:x@127.0.0.1:5090;transport=udp", false, listenerOn)).toEqual({
      transport: "udp",
      local: { address: "127.0.0.1", port: 5060 },
      remote: { address: "127.0.0.1", port: 5090 },
    });
  });
});

describe("registeredFlow: a registered contact with a Path (RFC 3327 5.4)", () => {
  it("toward the first Path URI: the proxy's connection while it lives, else a new one to that address", () => {
    expect(
      registeredFlow(
        proxyTcp,
        "sip:x@127.0.0.1:5090;transport=udp",
        ["<sip:127.0.0.1:5080;transport=tcp;lr>", "<sip:10.0.0.9;lr>"],
        false,
        listenerOn,
      ),
    ).toEqual({ ...proxyTcp, replyTo: { address: "127.0.0.1", port: 5080 } });
  });

  it("without a Path, or with one that does not parse, the Contact rules", () => {
    const contact = "sip:x@127.0.0.1:5090;transport=udp";
    const direct = bindingFlow(proxyTcp, contact, false, listenerOn);
    expect(registeredFlow(proxyTcp, contact, undefined, false, listenerOn)).toEqual(direct);
    expect(registeredFlow(proxyTcp, contact, ["<not a uri"], false, listenerOn)).toEqual(direct);
  });
});
