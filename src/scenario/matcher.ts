/**
 * Request matching (WireMock's "request matching"): a rule's `match` block
 * compiled once into a predicate over the request. Every condition given
 * must hold.
 */
import { BlockList, isIP } from "node:net";
import { RE2JS } from "re2js";
import { parse as parseSdp } from "sdp-transform";
import type { NameAddr } from "../sip/message.js";
import { isSipUri, type Uri, uriUser } from "../sip/uri.js";
import { unmapIpv4 } from "../transport/address.js";
import { plainRegex } from "./plain-regex.js";
import type { MatchT, StringMatchT } from "./schema.js";
import type { RequestFacts } from "./types.js";

export type Predicate = (facts: RequestFacts) => boolean;
type ValueTest = (value: string | undefined) => boolean;

/**
 * A user's regular expression, run by RE2 (re2js): time linear in the input
 * whatever the pattern, so a pattern like ^(a+)+$ cannot freeze the server.
 * RE2 has no backreferences or lookaround; such a pattern is refused here,
 * at load time, with the reason. A pattern without repetition, alternation
 * or groups is run by V8 instead (plain-regex.ts: as linear, and faster).
 */
export function compileRegex(pattern: string): (input: string) => boolean {
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern);
  } catch (e) {
    const why = (e as Error).message.replace(/^error parsing regexp: /, "");
    throw new SyntaxError(
      `invalid regular expression ${JSON.stringify(pattern)}: ${why} (RE2 syntax: no backreferences or lookaround)`,
    );
  }
  return plainRegex(pattern) ?? ((input) => re.test(input));
}

/** A plain string is a regular expression; the object forms are explicit. */
export function compileStringMatch(m: StringMatchT): ValueTest {
  if (typeof m === "string") {
    const test = compileRegex(m);
    return (v) => v !== undefined && test(v);
  }
  const tests: ValueTest[] = [];
  if (m.absent !== undefined) tests.push((v) => (v === undefined) === m.absent);
  if (m.equals !== undefined) tests.push((v) => v === m.equals);
  if (m.equalsIgnoreCase !== undefined) {
    const want = m.equalsIgnoreCase.toLowerCase();
    tests.push((v) => v?.toLowerCase() === want);
  }
  if (m.contains !== undefined) tests.push((v) => v?.includes(m.contains!) ?? false);
  if (m.regex !== undefined) {
    const test = compileRegex(m.regex);
    tests.push((v) => v !== undefined && test(v));
  }
  return (v) => {
    for (let i = 0; i < tests.length; i++) if (!tests[i]!(v)) return false;
    return true;
  };
}

/** The parts of an address a `match` block can test. */
type AddressPart = "user" | "host" | "uri" | "displayName";

/** One part of a URI (the user decoded; the host of a sip/sips URI only), read without building an object. */
function uriPart(uri: Uri, key: AddressPart): string | undefined {
  switch (key) {
    case "user":
      return uriUser(uri);
    case "host":
      return isSipUri(uri) ? uri.host : undefined;
    case "uri":
      return uri.raw;
    default:
      return undefined;
  }
}

function nameAddrPart(na: NameAddr, key: AddressPart): string | undefined {
  return key === "displayName" ? na.displayName : uriPart(na.uri, key);
}

function compileAddress(
  m: NonNullable<MatchT["to"]>,
  get: (f: RequestFacts, key: AddressPart) => string | undefined,
): Predicate | undefined {
  const keys: AddressPart[] = [];
  const tests: ValueTest[] = [];
  for (const key of ["user", "host", "uri", "displayName"] as const) {
    const spec = m[key];
    if (spec === undefined) continue;
    keys.push(key);
    tests.push(compileStringMatch(spec));
  }
  if (keys.length === 0) return undefined;
  return (f) => {
    for (let i = 0; i < keys.length; i++) if (!tests[i]!(get(f, keys[i]!))) return false;
    return true;
  };
}

/** "10.0.0.0/8", "::1", "fd00::/8" into a BlockList (node:net). */
export function compileSource(sources: readonly string[]): (address: string) => boolean {
  const list = new BlockList();
  for (const s of sources) {
    const [addr, prefix] = s.split("/");
    const family = isIP(addr ?? "");
    if (family === 0) throw new RangeError(`"${s}" is not an IP address or CIDR`);
    const type = family === 6 ? "ipv6" : "ipv4";
    if (prefix === undefined) list.addAddress(addr!, type);
    else {
      const bits = Number(prefix);
      if (!/^\d+$/.test(prefix) || bits > (family === 6 ? 128 : 32))
        throw new RangeError(`"${s}": bad prefix length`);
      list.addSubnet(addr!, bits, type);
    }
  }
  return (raw) => {
    // An IPv4 client on a dual-stack (::) listener shows as ::ffff:a.b.c.d.
    const address = unmapIpv4(raw);
    const family = isIP(address);
    if (family === 0) return false;
    return list.check(address, family === 6 ? "ipv6" : "ipv4");
  };
}

function sdpHasCodec(body: Buffer, codec: string): boolean {
  try {
    const sdp = parseSdp(body.toString("latin1"));
    const want = codec.toLowerCase();
    return sdp.media.some((m) => m.rtp.some((r) => r.codec.toLowerCase() === want));
  } catch {
    return false;
  }
}

/** Compiles a match block; throws (with a message naming the field) on a bad regex or CIDR. */
export function compileMatch(m: MatchT | undefined): Predicate {
  if (!m) return (f) => f.trigger !== "dtmf";
  const preds: Predicate[] = [];
  if (m.method !== undefined) {
    const methods = new Set((Array.isArray(m.method) ? m.method : [m.method]).map((x) => x.toUpperCase()));
    preds.push((f) => methods.has(f.method.toUpperCase()));
  }
  const addr = (spec: MatchT["to"], get: (f: RequestFacts, key: AddressPart) => string | undefined) => {
    if (!spec) return;
    const p = compileAddress(spec, get);
    if (p) preds.push(p);
  };
  addr(m.requestUri, (f, key) => uriPart(f.request.uri, key));
  addr(m.to, (f, key) => nameAddrPart(f.request.core.to, key));
  addr(m.from, (f, key) => nameAddrPart(f.request.core.from, key));
  for (const [name, spec] of Object.entries(m.headers ?? {})) {
    if (typeof spec === "object" && "present" in spec) {
      const want = spec.present;
      preds.push((f) => f.request.headers.has(name) === want);
    } else {
      const test = compileStringMatch(spec);
      // Any value of the header may match (repeated or comma-joined rows).
      preds.push((f) => {
        const rows = f.request.headers.getRows(name);
        return rows.length === 0 ? test(undefined) : rows.some((v) => test(v));
      });
    }
  }
  if (m.body) {
    const b = m.body;
    if (b.empty !== undefined) preds.push((f) => (f.request.body.length === 0) === b.empty);
    if (b.contains !== undefined) preds.push((f) => f.request.body.toString("latin1").includes(b.contains!));
    if (b.regex !== undefined) {
      const test = compileRegex(b.regex);
      preds.push((f) => test(f.request.body.toString("latin1")));
    }
    if (b.sdpCodec !== undefined) preds.push((f) => sdpHasCodec(f.request.body, b.sdpCodec!));
  }
  if (m.transport !== undefined) {
    const set = new Set(Array.isArray(m.transport) ? m.transport : [m.transport]);
    preds.push((f) => set.has(f.transport as typeof set extends Set<infer T> ? T : never));
  }
  if (m.source !== undefined) {
    const test = compileSource(Array.isArray(m.source) ? m.source : [m.source]);
    preds.push((f) => test(f.sourceAddress));
  }
  if (m.dtmf !== undefined) {
    const test = compileStringMatch(m.dtmf);
    preds.push((f) => test(f.dtmf ?? ""));
  } else {
    // A digit arriving re-asks only the rules that look at digits.
    preds.push((f) => f.trigger !== "dtmf");
  }
  return allOf(preds);
}

/** Every predicate holds (a loop: no closure per request, as preds.every((p) => p(f)) would make). */
function allOf(preds: readonly Predicate[]): Predicate {
  return (f) => {
    for (let i = 0; i < preds.length; i++) if (!preds[i]!(f)) return false;
    return true;
  };
}
