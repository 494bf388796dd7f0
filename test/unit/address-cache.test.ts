import type { networkInterfaces } from "node:os";
import { describe, expect, it } from "vitest";
import { AddressCache } from "../../src/ua/local-context.js";

type Interfaces = ReturnType<typeof networkInterfaces>;
const nic = (address: string, family: "IPv4" | "IPv6", internal = false) =>
  ({ address, family, internal, netmask: "", mac: "", cidr: null }) as unknown as Interfaces[string] extends
    | (infer T)[]
    | undefined
    ? T
    : never;

describe("local address cache", () => {
  it("reads the interfaces once per TTL and sees a change after it", () => {
    let t = 0;
    let reads = 0;
    let current: Interfaces = {
      lo: [nic("127.0.0.1", "IPv4", true), nic("::1", "IPv6", true)],
      eth0: [nic("fe80::1", "IPv6"), nic("192.0.2.5", "IPv4"), nic("2001:db8::5", "IPv6")],
    };
    const cache = new AddressCache(
      () => {
        reads++;
        return current;
      },
      5000,
      () => t,
    );
    expect(cache.get()).toEqual({ v4: "192.0.2.5", v6: "2001:db8::5" });
    for (let i = 0; i < 1000; i++) cache.get();
    expect(reads).toBe(1);
    current = { eth0: [nic("198.51.100.7", "IPv4")] };
    t = 4999;
    expect(cache.get().v4).toBe("192.0.2.5");
    t = 5000;
    expect(cache.get()).toEqual({ v4: "198.51.100.7" });
    expect(reads).toBe(2);
  });
});
