import { describe, expect, it } from "vitest";
import {
  leadingDeltaSeconds,
  lenientEventPackage,
  lenientRAck,
  lenientSessionExpires,
} from "../../src/sip/headers/lenient.js";

describe("lenient header readings (what peers send beyond the ABNF)", () => {
  it.each([
    ["3600", 3600],
    [" 600;x", 600],
    ["600abc", 600],
    ["0;foo", 0],
    ["99999999999", 99999999999],
    ["abc", undefined],
    ["", undefined],
  ])("Expires %j -> %j", (value, expected) => {
    expect(leadingDeltaSeconds(value)).toBe(expected);
  });

  it("Session-Expires: strict when valid, else leading seconds and a refresher anywhere after", () => {
    expect(lenientSessionExpires("1800;refresher=uas")).toEqual({ seconds: 1800, refresher: "uas" });
    expect(lenientSessionExpires("1800abc;refresher=UAC")).toEqual({ seconds: 1800, refresher: "uac" });
    expect(lenientSessionExpires("1800;refresher=uasx")).toEqual({ seconds: 1800, refresher: "uas" });
    expect(lenientSessionExpires("90000000000")).toEqual({ seconds: 90000000000 });
    expect(lenientSessionExpires("soon")).toBeUndefined();
  });

  it("RAck: numbers of any length, the method as written", () => {
    expect(lenientRAck("1 1 INVITE")).toEqual({ rseq: 1, cseq: 1, method: "INVITE" });
    expect(lenientRAck("000000000001 2 invite")).toEqual({ rseq: 1, cseq: 2, method: "invite" });
    expect(lenientRAck("1 INVITE")).toBeUndefined();
  });

  it("Event: the package (RFC 6665), else what precedes the first ';' so the 489 names it", () => {
    expect(lenientEventPackage("Presence;id=7")).toBe("presence");
    expect(lenientEventPackage("message-summary")).toBe("message-summary");
    expect(lenientEventPackage("pres ence;id=1")).toBe("pres ence");
    expect(lenientEventPackage(" ;id=1")).toBeUndefined();
  });
});
