/**
 * The catalogue against its authorities: the IANA registry (transcribed in
 * test/fixtures/iana-sip-response-codes.csv), the user's seed list, and the
 * header rules of the RFCs. Then every code through the response builder and
 * back through our parser, so what the catalogue promises is what goes out.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatCatalogMarkdown, toCodesJson } from "../../src/catalog/format.js";
import { CATALOG, isCatalogued, lookupCode, reasonPhrase } from "../../src/catalog/index.js";
import { parseDatagram } from "../../src/sip/parser.js";
import { DEFAULT_CAPABILITIES } from "../../src/ua/local-context.js";
import { type BuildContext, buildResponse } from "../../src/ua/response-builder.js";

const ROOT = join(import.meta.dirname, "..", "..");

function readIana(): Array<{ code: number; description: string; reference: string }> {
  return readFileSync(join(ROOT, "test", "fixtures", "iana-sip-response-codes.csv"), "utf8")
    .split("\n")
    .filter((l) => /^\d{3},/.test(l))
    .map((l) => {
      const [code, description, reference] = l.split(",");
      return { code: Number(code), description: description!, reference: reference! };
    });
}

/** The seed file is code, name, description on consecutive lines. */
function readSeed(): Map<number, string> {
  const lines = readFileSync(join(ROOT, "test", "fixtures", "seed", "sip-response-codes.txt"), "utf8").split(
    /\r?\n/,
  );
  const out = new Map<number, string>();
  lines.forEach((l, i) => {
    if (/^[1-6]\d\d$/.test(l.trim())) out.set(Number(l.trim()), lines[i + 1]!.trim());
  });
  return out;
}

describe("catalogue vs the IANA registry", () => {
  const iana = readIana();

  it("transcription has the registry's 75 codes", () => {
    expect(iana).toHaveLength(75);
  });

  it.each(iana)("$code $description ($reference)", ({ code, description, reference }) => {
    const info = lookupCode(code);
    expect(info).toBeDefined();
    const deprecated = description.endsWith(" (Deprecated)");
    expect(info!.reason).toBe(description.replace(" (Deprecated)", ""));
    expect(info!.rfc).toBe(reference);
    expect(info!.status).toBe(deprecated ? "deprecated" : "current");
    expect(info!.class).toBe(Math.floor(code / 100));
  });

  it("anything not registered is marked obsolete and says where it comes from", () => {
    const registered = new Set(iana.map((r) => r.code));
    const extra = CATALOG.filter((c) => !registered.has(c.code));
    expect(extra.map((c) => c.code)).toEqual([409, 411]);
    for (const c of extra) {
      expect(c.status).toBe("obsolete");
      expect(c.rfc).toBe("RFC 2543");
      expect(c.note).toMatch(/seed/);
    }
  });
});

describe("catalogue vs the seed list", () => {
  const seed = readSeed();

  it("the seed parses into its codes", () => {
    expect(seed.size).toBeGreaterThan(70);
    expect(seed.get(486)).toBe("Busy Here");
  });

  it("every seed code is catalogued", () => {
    expect([...seed.keys()].filter((c) => !isCatalogued(c))).toEqual([]);
  });

  it("where the seed's name differs from IANA's, the entry says why", () => {
    const differing = [...seed].filter(([code, name]) => lookupCode(code)!.reason !== name);
    expect(differing).toEqual([[437, "Unsupported Certificate"]]);
    expect(lookupCode(437)!.note).toMatch(/RFC 8224/);
  });
});

describe("header rules from the defining RFCs", () => {
  const required = (code: number) => lookupCode(code)!.required.map((h) => h.name);
  const byDefault = (code: number) =>
    lookupCode(code)!
      .recommended.filter((h) => h.byDefault)
      .map((h) => h.name);

  it.each([
    [300, "Contact"],
    [301, "Contact"],
    [302, "Contact"],
    [305, "Contact"],
    [401, "WWW-Authenticate"],
    [405, "Allow"],
    [407, "Proxy-Authenticate"],
    [415, "Accept"],
    [420, "Unsupported"],
    [421, "Require"],
    [422, "Min-SE"],
    [423, "Min-Expires"],
    [424, "Geolocation-Error"],
    [425, "AlertMsg-Error"],
    [469, "Recv-Info"],
    [470, "Permission-Missing"],
    [489, "Allow-Events"],
    [494, "Security-Server"],
  ])("%d requires %s", (code, name) => {
    expect(required(code)).toContain(name);
  });

  it("503 carries Retry-After by default, 486 only when asked", () => {
    expect(byDefault(503)).toContain("Retry-After");
    expect(required(486)).not.toContain("Retry-After");
    expect(lookupCode(486)!.recommended.map((h) => h.name)).toContain("Retry-After");
  });

  it("199 requires a Reason (RFC 6228 7 and 8 say MUST); 415 carries Accept-Encoding and Accept-Language", () => {
    expect(required(199)).toEqual(["Reason"]);
    expect(lookupCode(199)!.required[0]!.rfc).toMatch(/^RFC 6228 7 \(UAS\) and 8 \(proxy\): .* MUST /);
    expect(lookupCode(199)!.recommended.map((h) => h.name)).not.toContain("Reason");
    expect(byDefault(415)).toEqual(["Accept-Encoding", "Accept-Language"]);
  });

  it("305's Contact is the mock itself (the proxy to use)", () => {
    expect(lookupCode(305)!.required[0]!.value).toBe("<{{localUri}}>");
  });

  it("every rule cites its RFC and section", () => {
    for (const c of CATALOG) {
      expect(c.section, `${c.code}`).toMatch(/^\d+(\.\d+)*$/);
      for (const h of [...c.required, ...c.recommended])
        expect(h.rfc, `${c.code} ${h.name}`).toMatch(/RFC \d+ \d/);
    }
  });
});

describe("uncatalogued codes", () => {
  it("get the reason of their class's x00 code", () => {
    expect(isCatalogued(499)).toBe(false);
    expect(reasonPhrase(499)).toBe("Bad Request");
    expect(reasonPhrase(299)).toBe("OK");
    expect(reasonPhrase(699)).toBe("Busy Everywhere");
  });

  it("outside 100..699 is an error", () => {
    expect(() => reasonPhrase(99)).toThrow(RangeError);
    expect(() => reasonPhrase(700)).toThrow(RangeError);
  });
});

/** A real INVITE (RFC 4475 3.1.1.13-style minimal request, with Require and Supported). */
const INVITE = Buffer.from(
  [
    "INVITE sip:bob@127.0.0.1:5060 SIP/2.0",
    "Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bK-cat-1;rport",
    "Via: SIP/2.0/TCP proxy.example.test;branch=z9hG4bK-proxy-1",
    "Max-Forwards: 70",
    "From: Alice <sip:alice@example.test>;tag=a1",
    "To: <sip:bob@127.0.0.1>",
    "Call-ID: catalog-test@192.0.2.10",
    "CSeq: 7 INVITE",
    "Require: frobnicate",
    "Record-Route: <sip:proxy.example.test;lr>",
    "Contact: <sip:alice@192.0.2.10:5070>",
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n"),
  "latin1",
);

/** The headers of a built response, as a peer parses them. */
function headersOf(built: { bytes: Buffer }) {
  const r = parseDatagram(built.bytes);
  if (!r.ok) throw new Error(r.error.detail);
  return r.message.headers;
}

const CTX: BuildContext = {
  local: { host: "127.0.0.1", port: 5060, transport: "udp" },
  capabilities: { ...DEFAULT_CAPABILITIES, allowEvents: ["presence"] },
  server: "sipmock-test",
  toTag: "mocktag",
  realm: "example.test",
  nonce: () => "n0nce",
  opaque: "0paque",
};

describe("every catalogued code through the builder and back through the parser", () => {
  const parsed = parseDatagram(INVITE);
  if (!parsed.ok || parsed.message.kind !== "request") throw new Error("fixture INVITE must parse");
  const req = parsed.message;

  it.each(CATALOG.map((c) => [c.code, c.reason] as const))("%d %s", (code) => {
    const info = lookupCode(code)!;
    const built = buildResponse(
      { method: "INVITE", headers: req.headers, requestUser: "bob" },
      { status: code },
      CTX,
    );
    const back = parseDatagram(built.bytes);
    if (!back.ok) throw new Error(`${code} does not re-parse: ${back.error.detail}`);
    const res = back.message;
    if (res.kind !== "response") throw new Error("not a response");
    expect([res.status, res.reason]).toEqual([code, info.reason]);
    const h = res.headers;
    expect(h.getRows("Via")).toEqual(req.headers.getRows("Via"));
    expect(h.get("From")).toBe(req.headers.get("From"));
    expect(h.get("Call-ID")).toBe("catalog-test@192.0.2.10");
    expect(h.get("CSeq")).toBe("7 INVITE");
    expect(h.get("To")).toBe(code === 100 ? "<sip:bob@127.0.0.1>" : "<sip:bob@127.0.0.1>;tag=mocktag");
    expect(h.get("Content-Length")).toBe("0");
    for (const rule of [...info.required, ...info.recommended.filter((r) => r.byDefault)]) {
      expect(h.has(rule.name), `${code} lacks ${rule.name}`).toBe(true);
      expect(h.get(rule.name), `${code} ${rule.name} has an unfilled placeholder`).not.toMatch(/\{\{/);
      // Only Recv-Info may be empty (RFC 6086: "Recv-Info" HCOLON [Info-package-list]).
      if (rule.name !== "Recv-Info") expect(h.get(rule.name), `${code} ${rule.name} is empty`).not.toBe("");
    }
    for (const rule of info.recommended.filter((r) => !r.byDefault)) {
      if (!info.required.some((r) => r.name === rule.name)) expect(h.has(rule.name)).toBe(false);
    }
  });

  it("fills placeholders from the request and the listener", () => {
    const hdr = (code: number, name: string) =>
      headersOf(
        buildResponse({ method: "INVITE", headers: req.headers, requestUser: "bob" }, { status: code }, CTX),
      ).get(name);
    expect(hdr(420, "Unsupported")).toBe("frobnicate");
    expect(hdr(405, "Allow")).toBe(
      "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, PRACK, UPDATE, INFO, MESSAGE, SUBSCRIBE, PUBLISH, REFER",
    );
    expect(hdr(401, "WWW-Authenticate")).toBe(
      'Digest realm="example.test", nonce="n0nce", opaque="0paque", algorithm=MD5, qop="auth"',
    );
    expect(hdr(305, "Contact")).toBe("<sip:127.0.0.1:5060;transport=udp>");
    expect(hdr(302, "Contact")).toBe("<sip:redirected-bob@127.0.0.1:5060;transport=udp>");
    expect(hdr(489, "Allow-Events")).toBe("presence");
    const noEvents = { ...CTX, capabilities: { ...DEFAULT_CAPABILITIES, allowEvents: [] } };
    expect(
      headersOf(buildResponse({ method: "SUBSCRIBE", headers: req.headers }, { status: 489 }, noEvents)).get(
        "Allow-Events",
      ),
    ).toBe("x-sipmock-none");
    expect(hdr(503, "Retry-After")).toBe("30");
  });

  it("a scenario header replaces the default; removing a required one is recorded", () => {
    const built = buildResponse(
      { method: "INVITE", headers: req.headers },
      { status: 503, headers: [["Retry-After", "120"]] },
      CTX,
    );
    expect(headersOf(built).getRows("Retry-After")).toEqual(["120"]);
    const faulty = buildResponse(
      { method: "INVITE", headers: req.headers },
      { status: 405, removeHeaders: ["Allow"] },
      CTX,
    );
    expect(headersOf(faulty).has("Allow")).toBe(false);
    expect(faulty.omittedRequired).toEqual(["Allow"]);
  });

  it("Record-Route is copied on dialog-creating responses only", () => {
    const rr = (code: number) =>
      headersOf(buildResponse({ method: "INVITE", headers: req.headers }, { status: code }, CTX)).getRows(
        "Record-Route",
      );
    expect(rr(180)).toEqual(["<sip:proxy.example.test;lr>"]);
    expect(rr(200)).toEqual(["<sip:proxy.example.test;lr>"]);
    expect(rr(486)).toEqual([]);
  });
});

describe("renderings", () => {
  it("JSON has the documented fields for every code", () => {
    const json = toCodesJson(CATALOG);
    expect(json).toHaveLength(CATALOG.length);
    expect(json.find((c) => c.code === 405)).toMatchObject({
      reason: "Method Not Allowed",
      rfc: "RFC 3261",
      status: "current",
      requiredHeaders: ["Allow"],
      recommendedHeaders: [],
    });
  });

  it("the README's catalogue table is the generated one (run scripts/update-readme-catalog.mjs)", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const between = readme.split("<!-- catalog:start -->")[1]?.split("<!-- catalog:end -->")[0]?.trim();
    expect(between).toBe(formatCatalogMarkdown(CATALOG));
  });
});
