/**
 * Scenario validation: every problem reported as file:line:col with a fix,
 * all at once; environment variables; the published JSON Schema; and every
 * shipped scenario valid.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { ScenarioEngine } from "../../src/scenario/engine.js";
import {
  formatProblem,
  loadScenarioFiles,
  parseScenario,
  ScenarioLoadError,
} from "../../src/scenario/load.js";
import { scenarioJsonSchema } from "../../src/scenario/schema.js";

const ROOT = join(import.meta.dirname, "..", "..");
const FIXTURES = relative(process.cwd(), join(ROOT, "test", "fixtures", "scenarios"));

function problems(name: string, env: NodeJS.ProcessEnv = {}): string[] {
  const file = join(FIXTURES, name);
  const r = parseScenario(readFileSync(file, "utf8"), file, env);
  return r.ok ? [] : r.problems.map(formatProblem);
}

describe("validation messages (file:line:col: message; fix: ...)", () => {
  const f = (name: string) => join(FIXTURES, name);

  it("reports every problem of a file with its position and fix", () => {
    expect(problems("bad-rules.yaml")).toEqual([
      `${f("bad-rules.yaml")}:3:14: unknown key "methd"; fix: did you mean "method"?`,
      `${f("bad-rules.yaml")}:6:14: respond: 180 is provisional, but this rule can match non-INVITE requests; fix: RFC 4320: a non-INVITE request needs a final answer; use a final code or match: { method: INVITE }`,
      `${f("bad-rules.yaml")}:11:9: step 3 comes after the final answer (step 2); fix: the final response ends the transaction (RFC 3261 17.2.1); remove the step or move it up`,
      `${f("bad-rules.yaml")}:12:14: 499 is not in the catalogue; fix: give it a reason phrase: reason: "..." (sipmock codes lists the catalogue)`,
      `${f("bad-rules.yaml")}:13:23: unknown template variable {{from.usr}}; fix: did you mean {{from.user}}?`,
      `${f("bad-rules.yaml")}:14:5: rule 5 is unreachable: rule 4 above it matches every request it matches and always applies; fix: move it above rule 4, narrow rule 4's match, or give that rule times:, probability: or requireState:`,
      `${f("bad-rules.yaml")}:16:21: Allow is required in a 405 response (RFC 3261 21.4.6); fix: to leave it out on purpose, use fault: { omitHeaders: [Allow] }`,
      `${f("bad-rules.yaml")}:17:14: "respond" must be a number, not string "abc"; fix: a status code 100..699, e.g. respond: 486`,
      `${f("bad-rules.yaml")}:18:5: rule 7 is unreachable: rule 4 above it matches every request it matches and always applies; fix: move it above rule 4, narrow rule 4's match, or give that rule times:, probability: or requireState:`,
      `${f("bad-rules.yaml")}:19:5: rule 8 is unreachable: rule 4 above it matches every request it matches and always applies; fix: move it above rule 4, narrow rule 4's match, or give that rule times:, probability: or requireState:`,
      `${f("bad-rules.yaml")}:21:5: unknown key "respnd"; fix: did you mean "respond"?`,
    ]);
  });

  it("YAML syntax errors", () => {
    expect(problems("bad-yaml.yaml")).toEqual([
      `${f("bad-yaml.yaml")}:4:5: YAML: Flow map in block collection must be sufficiently indented and end with a }; fix: check indentation, quotes and colons`,
    ]);
    // One line, not the parser's cascade; an unquoted ${VAR} in a flow map is named.
    expect(problems("bad-yaml-cascade.yaml")).toEqual([
      `${f("bad-yaml-cascade.yaml")}:2:56: YAML: Unexpected flow-map-start at node end; fix: quote a value that holds { or [, e.g. "\${VAR:-2}"`,
    ]);
  });

  it("top-level keys", () => {
    expect(problems("bad-top.yaml")).toEqual([
      `${f("bad-top.yaml")}:1:1: missing "rules"; fix: rules: [ ... ]`,
      `${f("bad-top.yaml")}:2:1: unknown key "rulez"; fix: did you mean "rules"?`,
    ]);
  });

  it("then: options that belong to another request, in-dialog requests without a dialog, unknown requests", () => {
    expect(problems("bad-then.yaml")).toEqual([
      `${f("bad-then.yaml")}:5:11: send: BYE needs the dialog a 2xx to INVITE creates, but this rule matches REGISTER; fix: put it on a rule that answers INVITE with 2xx, or send INVITE, NOTIFY or OPTIONS to the registered client`,
      `${f("bad-then.yaml")}:6:25: "direction" does not apply to send: NOTIFY; fix: it goes with send: re-INVITE`,
      `${f("bad-then.yaml")}:10:22: send: re-INVITE needs a dialog, but this rule answers 486 (only a 2xx to INVITE makes one); fix: answer 200, or drop this then: entry`,
    ]);
    expect(problems("bad-then-keys.yaml")).toEqual([
      `${f("bad-then-keys.yaml")}:5:9: missing "send"; fix: send: BYE, re-INVITE, UPDATE, DTMF (in the call) or INVITE, NOTIFY, OPTIONS (to the registered client)`,
      `${f("bad-then-keys.yaml")}:5:11: unknown key "sned"; fix: did you mean "send"?`,
      `${f("bad-then-keys.yaml")}:6:18: "after": a duration like "500ms", "2s" or "1m"; fix: milliseconds or "500ms", "2s"`,
      `${f("bad-then-keys.yaml")}:7:17: "send": Invalid option: expected one of "BYE"|"re-INVITE"|"UPDATE"|"INVITE"|"NOTIFY"|"OPTIONS"|"DTMF"; fix: send: BYE, re-INVITE, UPDATE, DTMF (in the call) or INVITE, NOTIFY, OPTIONS (to the registered client)`,
    ]);
  });

  it("bodies and delays", () => {
    expect(problems("bad-body.yaml")).toEqual([
      `${f("bad-body.yaml")}:5:19: body file missing.txt does not exist (looked at ${join(FIXTURES, "missing.txt")}); fix: paths are relative to the scenario file`,
      `${f("bad-body.yaml")}:8:11: an SDP answer in a 486 response means nothing to the client; fix: SDP goes in 18x or 2xx`,
      `${f("bad-body.yaml")}:11:12: delay min is larger than max; fix: swap them`,
    ]);
  });

  it("an unset environment variable without a default", () => {
    expect(problems("bad-env.yaml")).toEqual([
      `${f("bad-env.yaml")}:4:14: environment variable BUSY_CODE is not set; fix: set it, or give a default: \${BUSY_CODE:-value}`,
    ]);
    expect(problems("bad-env.yaml", { BUSY_CODE: "600" })).toEqual([]);
  });

  it("environment variables and their defaults fill values; a lone number stays a number", () => {
    const file = join(FIXTURES, "good-env.yaml");
    const text = readFileSync(file, "utf8");
    const d = (env: NodeJS.ProcessEnv) => {
      const r = parseScenario(text, file, env);
      if (!r.ok) throw new Error(r.problems.map(formatProblem).join("\n"));
      return r.source.definition.rules[0]!;
    };
    expect(d({})).toMatchObject({
      respond: 486,
      headers: { "X-Realm": "example.test" },
      match: { requestUri: { user: "^bob$" } },
    });
    expect(d({ BUSY_CODE: "603", SIP_REALM: "corp.test", TARGET_USER: "carol" })).toMatchObject({
      respond: 603,
      headers: { "X-Realm": "corp.test" },
      match: { requestUri: { user: "^carol$" } },
    });
  });

  it("several files: problems of all of them in one error; rules merged in order", () => {
    try {
      loadScenarioFiles([join(FIXTURES, "bad-top.yaml"), join(FIXTURES, "bad-env.yaml")], {});
      throw new Error("expected a ScenarioLoadError");
    } catch (e) {
      expect(e).toBeInstanceOf(ScenarioLoadError);
      expect((e as ScenarioLoadError).problems.map((p) => p.file)).toEqual([
        join(FIXTURES, "bad-top.yaml"),
        join(FIXTURES, "bad-top.yaml"),
        join(FIXTURES, "bad-env.yaml"),
      ]);
    }
    const merged = new ScenarioEngine(
      loadScenarioFiles([join(ROOT, "scenarios", "busy.yaml"), join(ROOT, "scenarios", "default.yaml")]),
    );
    expect(merged.describe()[0]).toBe("scenario: busy + dial-a-code");
    expect(merged.status().map((s) => s.rule)).toEqual([
      'busy rule 1 "busy"',
      'dial-a-code rule 1 "dial-a-code"',
      'dial-a-code rule 2 "built-in UAS"',
    ]);
  });

  it("an unreadable file is a problem, not a crash", () => {
    // Said plainly, without a position: there is no text to point into.
    expect(() => loadScenarioFiles(["/nonexistent/x.yaml"])).toThrow(
      /^\/nonexistent\/x\.yaml: no such file; fix: check the path$/,
    );
  });
});

describe("unknown keys: what is allowed comes from the schema", () => {
  const unknownKeyHints = (yaml: string) => {
    const r = parseScenario(yaml, "k.yaml", {});
    if (r.ok) throw new Error("expected a problem");
    return r.problems.filter((p) => p.message.startsWith("unknown key")).map((p) => p.hint);
  };

  it("suggests keys a hand-kept table forgot (media, dtmf, digits, media's own keys)", () => {
    expect(unknownKeyHints("rules:\n  - respond: 200\n    medai: echo\n")).toEqual(['did you mean "media"?']);
    expect(unknownKeyHints("rules:\n  - match: { dtfm: '1' }\n    respond: 200\n")).toEqual([
      'did you mean "dtmf"?',
    ]);
    expect(
      unknownKeyHints(
        "rules:\n  - match: { method: INVITE }\n    respond: 200\n    then: [{ send: DTMF, digts: '1' }]\n",
      ),
    ).toEqual(['did you mean "digits"?']);
    expect(unknownKeyHints("rules:\n  - respond: 200\n    media: { early: echo, answerd: echo }\n")).toEqual([
      'did you mean "answered"?',
    ]);
  });

  /** The object keys the published JSON Schema allows at a path (every anyOf branch): a second, independent reading. */
  function jsonSchemaKeys(path: ReadonlyArray<string | number>): string[] {
    type J = { properties?: Record<string, J>; items?: J; anyOf?: J[]; additionalProperties?: J | boolean };
    const branches = (j: J): J[] => (j.anyOf ? j.anyOf.flatMap(branches) : [j]);
    let here = branches(scenarioJsonSchema() as J);
    for (const seg of path) {
      here = here.flatMap((j) => {
        const next =
          typeof seg === "number"
            ? j.items
            : (j.properties?.[seg] ??
              (typeof j.additionalProperties === "object" ? j.additionalProperties : undefined));
        return next ? branches(next) : [];
      });
    }
    return [...new Set(here.flatMap((j) => Object.keys(j.properties ?? {})))];
  }

  it.each([
    ["zzz: 1\nrules: []\n", []],
    ["rules:\n  - respond: 200\n    zzz: 1\n", ["rules", 0]],
    ["rules:\n  - respond: 200\n    match: { zzz: 1 }\n", ["rules", 0, "match"]],
    ["rules:\n  - respond: 200\n    match: { to: { zzz: 1 } }\n", ["rules", 0, "match", "to"]],
    [
      "rules:\n  - respond: 200\n    match: { to: { user: { zzz: 1 } } }\n",
      ["rules", 0, "match", "to", "user"],
    ],
    [
      "rules:\n  - respond: 200\n    match: { headers: { X-A: { zzz: 1 } } }\n",
      ["rules", 0, "match", "headers", "X-A"],
    ],
    ["rules:\n  - respond: 200\n    match: { body: { zzz: 1 } }\n", ["rules", 0, "match", "body"]],
    ["rules:\n  - respond: 200\n    fault: { zzz: 1 }\n", ["rules", 0, "fault"]],
    ["rules:\n  - respond: 200\n    body: { zzz: 1 }\n", ["rules", 0, "body"]],
    ["rules:\n  - respond: 200\n    delay: { zzz: 1 }\n", ["rules", 0, "delay"]],
    ["rules:\n  - respond: 200\n    media: { zzz: 1 }\n", ["rules", 0, "media"]],
    [
      "rules:\n  - respond: 200\n    media: { early: { tone: { zzz: 1 } } }\n",
      ["rules", 0, "media", "early", "tone"],
    ],
    ["rules:\n  - respond: 200\n    media: { faults: { zzz: 1 } }\n", ["rules", 0, "media", "faults"]],
    ["rules:\n  - respond: 200\n    then: [{ send: BYE, zzz: 1 }]\n", ["rules", 0, "then", 0]],
    ["rules:\n  - match: { method: INVITE }\n    steps: [{ zzz: 1 }]\n", ["rules", 0, "steps", 0]],
    ["rules:\n  - sequence: { answers: [{ respond: 200 }], zzz: 1 }\n", ["rules", 0, "sequence"]],
    ["rules:\n  - sequence: [{ respond: 200, zzz: 1 }]\n", ["rules", 0, "sequence", 0]],
    ["auth: { users: {}, zzz: 1 }\nrules: []\n", ["auth"]],
    ["messageSummary: { messagesWaiting: true, zzz: 1 }\nrules: []\n", ["messageSummary"]],
    ["rules: []\nexpectations: [{ match: {}, zzz: 1 }]\n", ["expectations", 0]],
  ] as const)("%j lists the keys the schema allows there", (yaml, path) => {
    const allowed = jsonSchemaKeys(path);
    expect(allowed.length).toBeGreaterThan(0);
    expect(unknownKeyHints(yaml)).toEqual([`allowed here: ${allowed.join(", ")}`]);
  });
});

describe("shipped scenarios", () => {
  const dir = join(ROOT, "scenarios");
  const files = readdirSync(dir).filter((f) => f.endsWith(".yaml"));

  it("there are the ready-made ones the README lists", () => {
    expect(files.sort()).toEqual(
      [
        "auth.yaml",
        "busy.yaml",
        "decline.yaml",
        "default.yaml",
        "dropped.yaml",
        "early-media.yaml",
        "echo.yaml",
        "ivr.yaml",
        "hangup.yaml",
        "voicemail.yaml",
        "every-code.yaml",
        "faults.yaml",
        "flaky.yaml",
        "no-answer.yaml",
        "redirect.yaml",
        "ring-forever.yaml",
      ].sort(),
    );
  });

  it.each(files)("%s is valid and points editors at the published schema", (name) => {
    const text = readFileSync(join(dir, name), "utf8");
    expect(text.split("\n")[0]).toBe("# yaml-language-server: $schema=../schema/scenario.schema.json");
    const r = parseScenario(text, join(dir, name), {});
    if (!r.ok) throw new Error(r.problems.map(formatProblem).join("\n"));
  });
});

describe("README", () => {
  it("every YAML example in the README is a valid scenario", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(blocks.length).toBeGreaterThan(0);
    for (const [i, text] of blocks.entries()) {
      const r = parseScenario(text, `README.md yaml block ${i + 1}`, {});
      if (!r.ok) throw new Error(r.problems.map(formatProblem).join("\n"));
    }
  });
});

describe("published JSON Schema", () => {
  it("schema/scenario.schema.json is the one generated from src/scenario/schema.ts (npm run schema)", () => {
    const published = JSON.parse(readFileSync(join(ROOT, "schema", "scenario.schema.json"), "utf8"));
    expect(published).toEqual(scenarioJsonSchema());
  });

  it("rejects unknown keys (additionalProperties: false), so editors flag typos too", () => {
    const s = scenarioJsonSchema() as { additionalProperties?: boolean; required?: string[] };
    expect(s.additionalProperties).toBe(false);
    expect(s.required).toEqual(["rules"]);
  });
});
