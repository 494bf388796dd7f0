/**
 * The HTML report file: the structure the app reads (#app, the data element,
 * one inline script and style sheet), a CSP whose hashes are those of
 * exactly the inline script and style sheet, message text that cannot end
 * the data element, ids numbered on when two runs share one JSONL, and a
 * cost linear in the number of entries.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { JournalEntry } from "../../src/control/journal.js";
import { ReportWriter, verdictsOf, writeReport } from "../../src/control/report.js";

const dir = mkdtempSync(join(tmpdir(), "sipmock-report-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ASSETS = {
  // An end tag inside a string literal must not end the inline element.
  js: 'document.getElementById("app").textContent = "</script><b>not markup</b>";\n',
  css: 'body::after { content: "</style>"; }\n',
};

const EVIL = `OPTIONS sip:bob@x SIP/2.0\r\nX-Evil: </script><script>window.__pwned=1</script>"><img src=x onerror="window.__pwned=2"><!--\r\nContact: <javascript:alert(1)>\r\n\r\n`;

function entry(id: number, raw = `OPTIONS sip:${id}@x SIP/2.0\r\nCall-ID: c${id}\r\n\r\n`): JournalEntry {
  return {
    id,
    time: new Date(1_700_000_000_000 + id).toISOString(),
    direction: "in",
    transport: "udp",
    local: { address: "127.0.0.1", port: 5060 },
    remote: { address: "127.0.0.1", port: 5070 },
    raw,
    kind: "request",
    method: "OPTIONS",
    callId: `c${id}`,
    retransmission: false,
  };
}

const sha = (s: string) => `'sha256-${createHash("sha256").update(s).digest("base64")}'`;

/** The parts of a report file. */
function parse(html: string) {
  const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html)?.[1];
  const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1];
  const data = /<script id="sipmock-data" type="application\/json">([\s\S]*?)<\/script>/.exec(html)?.[1];
  const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
  return { csp, style, data, scripts };
}

describe("the report file", () => {
  it("holds #app, the data (mode report, entries, verdicts, generatedAt), one inline script and style sheet allowed by hash", () => {
    const path = join(dir, "a.html");
    const entries = [entry(1), entry(2, EVIL)];
    const verdicts = [
      { description: "INVITE once", ok: true },
      { description: "BYE once", ok: false, detail: "received 0" },
    ];
    expect(writeReport(path, entries, verdicts, ASSETS)).toBe(2);
    const html = readFileSync(path, "utf8");
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<div id="app"></div>');
    const { csp, style, data, scripts } = parse(html);
    expect(scripts).toHaveLength(1);
    const script = scripts[0]!;
    // The end tags in the app's strings were escaped, and the hashes are of the text as inlined.
    expect(script).toBe('document.getElementById("app").textContent = "<\\/script><b>not markup</b>";\n');
    expect(style).toBe('body::after { content: "<\\/style>"; }\n');
    expect(csp).toBe(
      `default-src 'none'; script-src ${sha(script)}; style-src ${sha(style!)}; img-src data:; base-uri 'none'; form-action 'none'`,
    );
    // No network, no other script: nothing else in the page.
    const page = html.replace(data!, "");
    expect(page).not.toMatch(/\ssrc=|https?:\/\//);
    // The one link is the empty data: favicon (so the browser asks for no /favicon.ico).
    expect([...page.matchAll(/\shref="([^"]*)"/g)].map((m) => m[1])).toEqual(["data:,"]);
    // Message text never holds a "<" inside the data element.
    expect(data).not.toContain("<");
    const parsed = JSON.parse(data!);
    expect(parsed).toEqual({
      mode: "report",
      generatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      expectations: verdicts,
      entries: JSON.parse(JSON.stringify(entries)),
    });
    expect(parsed.entries[1].raw).toBe(EVIL);
  });

  it("without expectations the verdicts are null; ids that do not increase (two runs in one JSONL) are numbered on", () => {
    const path = join(dir, "b.html");
    const w = new ReportWriter(path, {
      expectations: null,
      assets: ASSETS,
      generatedAt: "2026-01-01T00:00:00.000Z",
    });
    for (const id of [1, 2, 3, 1, 2]) w.entry(entry(id));
    w.end();
    const parsed = JSON.parse(parse(readFileSync(path, "utf8")).data!);
    expect(parsed.expectations).toBeNull();
    expect(parsed.generatedAt).toBe("2026-01-01T00:00:00.000Z");
    expect(parsed.entries.map((e: JournalEntry) => e.id)).toEqual([1, 2, 3, 4, 5]);
    expect(parsed.entries.map((e: JournalEntry) => e.callId)).toEqual(["c1", "c2", "c3", "c1", "c2"]);
  });

  it("verdicts from expectation results: name, counts, and the detail of a failure", () => {
    expect(
      verdictsOf([
        { name: "one INVITE", ok: true, received: 1, expected: "exactly 1" },
        {
          name: "a BYE",
          ok: false,
          received: 0,
          expected: "at least 1",
          detail: "received 0, expected at least 1",
        },
      ]),
    ).toEqual([
      { description: "one INVITE: received 1, expected exactly 1", ok: true },
      {
        description: "a BYE: received 0, expected at least 1",
        ok: false,
        detail: "received 0, expected at least 1",
      },
    ]);
  });

  it("costs time linear in the entries (20,000 vs 2,000: well under the 100x of a quadratic build)", () => {
    const big = Array.from({ length: 20_000 }, (_, i) => entry(i + 1));
    const time = (n: number) => {
      const start = performance.now();
      writeReport(join(dir, `t${n}.html`), big.slice(0, n), null, ASSETS);
      return performance.now() - start;
    };
    time(2_000); // warm-up
    const small = Math.min(time(2_000), time(2_000));
    const large = Math.min(time(20_000), time(20_000));
    expect(large / small).toBeLessThan(30);
    const parsed = JSON.parse(parse(readFileSync(join(dir, "t20000.html"), "utf8")).data!);
    expect(parsed.entries).toHaveLength(20_000);
  });
});
