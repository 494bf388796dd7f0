/**
 * The address spellings of src/transport/address.ts (issue 11: bracket
 * stripping and ::ffff: mapping were written in seven places).
 */
import { describe, expect, it } from "vitest";
import {
  isIpLiteralHost,
  isIpv4Mapped,
  isWildcard,
  mapIpv4,
  stripBrackets,
  unmapIpv4,
} from "../../src/transport/address.js";

describe("transport/address", () => {
  it("strips the brackets of an IPv6 reference, each if present", () => {
    expect(stripBrackets("[::1]")).toBe("::1");
    expect(stripBrackets("[2001:db8::5]")).toBe("2001:db8::5");
    expect(stripBrackets("::1")).toBe("::1");
    expect(stripBrackets("127.0.0.1")).toBe("127.0.0.1");
    expect(stripBrackets("[::1")).toBe("::1");
    expect(stripBrackets("::1]")).toBe("::1");
    expect(stripBrackets("")).toBe("");
  });

  it("unmaps ::ffff:a.b.c.d (any case) and leaves every other address alone", () => {
    expect(unmapIpv4("::ffff:127.0.0.1")).toBe("127.0.0.1");
    expect(unmapIpv4("::FFFF:10.1.2.3")).toBe("10.1.2.3");
    expect(unmapIpv4("::ffff:7f00:1")).toBe("::ffff:7f00:1");
    expect(unmapIpv4("::1")).toBe("::1");
    expect(unmapIpv4("127.0.0.1")).toBe("127.0.0.1");
    expect(unmapIpv4("::ffff:")).toBe("::ffff:");
    expect(isIpv4Mapped("::ffff:192.0.2.1")).toBe(true);
    expect(isIpv4Mapped("192.0.2.1")).toBe(false);
  });

  it("maps IPv4 for a dual-stack socket, and only IPv4", () => {
    expect(mapIpv4("192.0.2.1")).toBe("::ffff:192.0.2.1");
    expect(mapIpv4("::1")).toBe("::1");
    expect(mapIpv4("::ffff:192.0.2.1")).toBe("::ffff:192.0.2.1");
    expect(mapIpv4("example.test")).toBe("example.test");
    expect(unmapIpv4(mapIpv4("198.51.100.7"))).toBe("198.51.100.7");
  });

  it("knows the wildcards and IP-literal URI hosts", () => {
    expect(isWildcard("0.0.0.0")).toBe(true);
    expect(isWildcard("::")).toBe(true);
    expect(isWildcard("::1")).toBe(false);
    expect(isIpLiteralHost("[::1]")).toBe(true);
    expect(isIpLiteralHost("192.0.2.1")).toBe(true);
    expect(isIpLiteralHost("::1")).toBe(false);
    expect(isIpLiteralHost("example.test")).toBe(false);
  });
});
