/**
 * Header parameter edits (src/sip/headers/params.ts), held to what they
 * are for: the server's Via annotation (RFC 3261 18.2.1, RFC 3581 4) read
 * back by the Via parser, and the registrar's Contact without its expires
 * (a parameter inside the URI's <...> or a quoted string is not a header
 * parameter, RFC 3261 20.10, 25.1).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fillAndDropParams, fillValuelessParam, withoutHeaderParam } from "../../src/sip/headers/params.js";
import { parseViaParm } from "../../src/sip/headers/via.js";

/** The parameters of a via-parm other than rport and received, in order. */
function others(via: string): Array<[string, string | null]> {
  return [...parseViaParm(via).params].filter(([n]) => n !== "rport" && n !== "received");
}

const token = fc.stringMatching(/^[A-Za-z0-9.!%*_+`'~-]{1,8}$/);
const space = fc.constantFrom("", " ", "\t ");
/** A generic-param (RFC 3261 25.1): token, token=token, token="quoted ; string". */
const param = fc.oneof(
  token,
  fc.tuple(token, token).map(([n, v]) => `${n}=${v}`),
  fc.tuple(token, fc.stringMatching(/^[a-z;=, ]{0,8}$/)).map(([n, v]) => `${n}="${v}"`),
);
/** A via-parm with any other parameters, at most one rport (valueless or valued) and received, any case. */
const via = fc
  .record({
    params: fc.array(param, { maxLength: 4 }),
    rport: fc.constantFrom(undefined, "rport", "RPort", "rport=5070"),
    received: fc.constantFrom(undefined, "received=10.0.0.9", "RECEIVED=10.0.0.9"),
    at: fc.nat(),
    sp: space,
  })
  .map(({ params, rport, received, at, sp }) => {
    const all = ["branch=z9hG4bK-p", ...params];
    if (rport) all.splice(at % (all.length + 1), 0, rport);
    if (received) all.splice((at >> 3) % (all.length + 1), 0, received);
    return `SIP/2.0/UDP 192.0.2.1:5060${all.map((p) => `${sp};${sp}${p}`).join("")}`;
  });

describe("the server's Via annotation (fillAndDropParams)", () => {
  it("RFC 3581 4's example: rport gets the source port, received the source address", () => {
    const v = "SIP/2.0/UDP 10.1.1.1:4540;branch=z9hG4bKkjshdyff;rport";
    expect(`${fillAndDropParams(v, "rport", "9988", "received")};received=192.0.2.1`).toBe(
      "SIP/2.0/UDP 10.1.1.1:4540;branch=z9hG4bKkjshdyff;rport=9988;received=192.0.2.1",
    );
  });

  it("read back by the Via parser: a valueless rport filled, received gone, every other parameter kept", () => {
    fc.assert(
      fc.property(via, (v) => {
        const before = parseViaParm(v);
        const out = fillAndDropParams(v, "rport", "5099", "received");
        const after = parseViaParm(out);
        expect([after.transport, after.host, after.port]).toEqual([
          before.transport,
          before.host,
          before.port,
        ]);
        expect(after.params.has("received")).toBe(false);
        const rport = before.params.get("rport");
        expect(after.params.get("rport")).toBe(rport === null ? "5099" : rport);
        expect(others(out)).toEqual(others(v));
        // Without a value to fill, only received goes.
        const dropped = parseViaParm(fillAndDropParams(v, "rport", undefined, "received"));
        expect(dropped.params.get("rport")).toBe(rport);
        expect(dropped.params.has("received")).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it("a ;rport inside a quoted value is not the parameter", () => {
    expect(fillValuelessParam('SIP/2.0/UDP h;x=";rport";rport ', "rport", "7")).toBe(
      'SIP/2.0/UDP h;x=";rport";rport=7 ',
    );
    expect(withoutHeaderParam('SIP/2.0/UDP h;x="a;received=1";Received=2;y', "received")).toBe(
      'SIP/2.0/UDP h;x="a;received=1";y',
    );
  });
});

describe("withoutHeaderParam on a Contact (the registrar's expires)", () => {
  it.each([
    ["<sip:a@h;expires=5>;expires=60;q=0.5", "<sip:a@h;expires=5>;q=0.5"],
    ['"x;expires=1" <sip:a@h>;EXPIRES=60', '"x;expires=1" <sip:a@h>'],
    ["<sip:a@h>;q=1", "<sip:a@h>;q=1"],
    ["<sip:a@h> ; expires = 60 ; q=1", "<sip:a@h> ; q=1"],
  ])("%s", (contact, expected) => {
    expect(withoutHeaderParam(contact, "expires")).toBe(expected);
  });
});
