/**
 * Which listener a flow belongs to (issue 10 item 1): by transport, local
 * address and port; a wildcard owns its family, a dual-stack :: IPv4 too.
 */
import { describe, expect, it } from "vitest";
import { ListenerTable } from "../../src/transport/listener-table.js";
import type { Flow, Listener, ListenerInfo } from "../../src/transport/types.js";

const listener = (info: ListenerInfo): Listener => ({ info, send: async () => {}, close: async () => {} });
const flow = (transport: Flow["transport"], address: string, port: number): Flow => ({
  transport,
  local: { address, port },
  remote: { address: "198.51.100.1", port: 5060 },
});

describe("ListenerTable.find", () => {
  it("exact address first, then the family's wildcard, then (IPv4) a dual-stack ::", () => {
    const t = new ListenerTable();
    const v4 = listener({ transport: "udp", address: "127.0.0.1", port: 5060 });
    const v6 = listener({ transport: "udp", address: "::1", port: 5060 });
    const any6 = listener({ transport: "udp", address: "::", port: 5070 });
    const any4 = listener({ transport: "tcp", address: "0.0.0.0", port: 5070 });
    const mapped = listener({ transport: "tls", address: "::FFFF:127.0.0.1", port: 5061 });
    for (const l of [v4, v6, any6, any4, mapped]) t.add(l);
    expect(t.find(flow("udp", "127.0.0.1", 5060))).toBe(v4);
    expect(t.find(flow("udp", "::ffff:127.0.0.1", 5060))).toBe(v4);
    expect(t.find(flow("udp", "::1", 5060))).toBe(v6);
    expect(t.find(flow("tcp", "127.0.0.1", 5060))).toBeUndefined();
    expect(t.find(flow("udp", "127.0.0.2", 5060))).toBeUndefined();
    expect(t.find(flow("udp", "10.1.2.3", 5070))).toBe(any6);
    expect(t.find(flow("udp", "fe80::1", 5070))).toBe(any6);
    expect(t.find(flow("tcp", "10.1.2.3", 5070))).toBe(any4);
    expect(t.find(flow("tcp", "::1", 5070))).toBeUndefined();
    expect(t.find(flow("tls", "127.0.0.1", 5061))).toBe(mapped);
    expect(t.find(flow("udp", "127.0.0.1", 9999))).toBeUndefined();
  });
});
