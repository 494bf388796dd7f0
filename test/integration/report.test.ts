/// <reference lib="dom" />
/**
 * The self-contained HTML report, from the real CLI: `serve --journal` while
 * SIPp places a 486 call, an answered call and an OPTIONS with markup in its
 * headers; `sipmock report journal.jsonl -o report.html`; then the file is
 * opened from file:// in headless Chromium with the network off and every
 * non-file request refused: the calls and the ladder arrows are those of the
 * JSONL, message text is inert. `serve --report` with --until-expectations
 * writes the verdicts at the top. 10,000 messages open and draw.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isMessage, type JournalEntry, type JournalRecord } from "../../src/control/journal.js";
import { launchChromium, screenshot } from "../helpers/chromium.js";
import { freeUdpPort, run, start } from "../helpers/cli.js";
import {
  answeredCallScenario,
  headerOfText,
  inviteFinalScenario,
  requestScenario,
  runSipp,
  type SippResult,
} from "../peers/sipp.js";

const dir = mkdtempSync(join(tmpdir(), "sipmock-report-"));
const EVIL_HEADER = `X-Evil: <script>window.__pwned=1</script>"><img src=x onerror="window.__pwned=2">`;
const EVIL_CONTACT = "Contact: <javascript:window.__pwned=3>";

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

const sipp = (port: number, scenarioXml: string) =>
  runSipp({ scenarioXml, target: `127.0.0.1:${port}`, transport: "u1" });

function callIdOf(r: SippResult): string {
  const first = r.parsed.find((m) => m.direction === "sent");
  const id = first ? headerOfText(first.text, "Call-ID") : undefined;
  if (!id) throw new Error(`no Call-ID in SIPp's trace: ${r.summary}`);
  return id;
}

/** Runs `serve` with `args` while `drive` sends traffic; stops it (SIGTERM unless it exits itself). */
async function serve(args: string[], drive: (port: number) => Promise<void>, stopIt = true) {
  const port = await freeUdpPort();
  const s = await start(["serve", "--listen", `udp:127.0.0.1:${port}`, ...args]);
  const exit = new Promise<number | null>((r) => s.child.on("exit", (code) => r(code)));
  await drive(port);
  if (stopIt) s.child.kill("SIGTERM");
  return { code: await exit, output: s.output() };
}

/** Opens a report file offline: the network is off and any request but file:// is refused and recorded. */
async function openReport(
  path: string,
): Promise<{ context: BrowserContext; page: Page; requests: string[] }> {
  const context = await browser.newContext({ offline: true, viewport: { width: 1400, height: 900 } });
  const requests: string[] = [];
  await context.route(/^(?!file:)/, (route) => {
    requests.push(route.request().url());
    return route.abort();
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("pageerror", (e) => problems.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(m.text());
  });
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      const w = window as unknown as { __csp?: string[] };
      w.__csp = [...(w.__csp ?? []), `${e.violatedDirective} ${e.blockedURI}`];
    });
  });
  await page.goto(pathToFileURL(path).href);
  await page.locator("[data-testid=call-row]").first().waitFor({ timeout: 20_000 });
  requests.push(...problems.map((p) => `problem: ${p}`));
  return { context, page, requests };
}

function arrowsOf(page: Page) {
  return page.evaluate(() =>
    [...document.querySelectorAll("svg[data-testid=ladder] [data-testid=arrow]")].map((g) => ({
      label: g.getAttribute("data-label") ?? "",
      from: g.getAttribute("data-from") ?? "",
      to: g.getAttribute("data-to") ?? "",
    })),
  );
}

async function openCall(page: Page, callId: string, count: number) {
  await page.locator(`[data-testid=call-row][data-call-id="${callId}"]`).click();
  await page.waitForFunction(
    ([id, n]) =>
      document.querySelectorAll("svg[data-testid=ladder] [data-testid=arrow]").length === n &&
      document.querySelector(`[data-testid=call-row][data-call-id="${id}"]`) !== null,
    [callId, count] as const,
  );
  return arrowsOf(page);
}

/** A journal entry as serve --journal writes it: requests in, responses out, four a call. */
function sampleEntry(id: number, callId: string): JournalEntry {
  const incoming = id % 2 === 1;
  const raw = `${incoming ? "OPTIONS sip:bob@127.0.0.1:5060 SIP/2.0" : "SIP/2.0 200 OK"}\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK${id - (incoming ? 0 : 1)}\r\nFrom: <sip:alice@example.test>;tag=a\r\nTo: <sip:bob@example.test>\r\nCall-ID: ${callId}\r\nCSeq: ${id} OPTIONS\r\nContent-Length: 0\r\n\r\n`;
  return {
    id,
    time: new Date(1_780_000_000_000 + id).toISOString(),
    direction: incoming ? "in" : "out",
    transport: "udp",
    local: { address: "127.0.0.1", port: 5060 },
    remote: { address: "127.0.0.1", port: 5070 },
    raw,
    ...(incoming
      ? { kind: "request" as const, method: "OPTIONS" }
      : { kind: "response" as const, status: 200, reason: "OK" }),
    callId,
    cseq: `${id} OPTIONS`,
    retransmission: false,
  };
}

/** What the arrows of a call must be, from the JSONL. */
function expectedArrows(entries: JournalEntry[], callId: string) {
  return entries
    .filter((e) => e.callId === callId)
    .map((e) => {
      const peer = `${e.transport}:${e.remote.address}:${e.remote.port}`;
      const self = `${e.transport}:${e.local.address}:${e.local.port}`;
      return {
        label: e.kind === "response" ? `${e.status} ${e.reason}` : e.method!,
        from: e.direction === "in" ? peer : self,
        to: e.direction === "in" ? self : peer,
      };
    });
}

describe("sipmock report journal.jsonl -o report.html", () => {
  it("renders the calls and the same ladder arrows as the JSONL serve --journal wrote, offline, message text inert", async () => {
    const journal = join(dir, "journal.jsonl");
    const report = join(dir, "report.html");
    const ids: Record<string, string> = {};
    const served = await serve(["--journal", journal], async (port) => {
      const busy = await sipp(port, inviteFinalScenario("486", { code: 486, reason: "Busy Here" }));
      expect(busy.exitCode, busy.summary).toBe(0);
      const answered = await sipp(port, answeredCallScenario("bob"));
      expect(answered.exitCode, answered.summary).toBe(0);
      const evil = await sipp(
        port,
        requestScenario("OPTIONS", "carol", { code: 200, reason: "OK" }, [EVIL_HEADER, EVIL_CONTACT]),
      );
      expect(evil.exitCode, evil.summary).toBe(0);
      ids.busy = callIdOf(busy);
      ids.answered = callIdOf(answered);
      ids.evil = callIdOf(evil);
    });
    expect(served.code, served.output).toBe(0);
    const records = readFileSync(journal, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as JournalRecord);
    // The SIP messages are the arrows; the answered call's RTP statistics (kind media) are a note.
    const entries = records.filter(isMessage);
    expect(records.filter((e) => e.kind === "media").map((e) => e.callId)).toEqual([ids.answered]);

    const r = run(["report", journal, "-o", report]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe(`sipmock: wrote ${report} (${entries.length} messages, 1 media entry)\n`);

    const { context, page, requests } = await openReport(report);
    try {
      const rows = await page.evaluate(() =>
        [...document.querySelectorAll("[data-testid=call-row]")].map((e) => e.getAttribute("data-call-id")),
      );
      expect(rows.sort()).toEqual([ids.busy, ids.answered, ids.evil].sort());
      const busy = await openCall(page, ids.busy!, expectedArrows(entries, ids.busy!).length);
      expect(busy.map((a) => a.label)).toEqual(["INVITE", "100 Trying", "486 Busy Here", "ACK"]);
      expect(busy).toEqual(expectedArrows(entries, ids.busy!));
      await screenshot(page, "report-ladder-486.png");
      const answered = await openCall(page, ids.answered!, expectedArrows(entries, ids.answered!).length);
      expect(answered).toEqual(expectedArrows(entries, ids.answered!));
      expect(answered.map((a) => a.label)).toEqual([
        "INVITE",
        "100 Trying",
        "180 Ringing",
        "200 OK",
        "ACK",
        "BYE",
        "200 OK",
      ]);
      // Its RTP statistics under the ladder, not as an arrow.
      await expect.poll(() => page.locator("[data-testid=note-media]").count()).toBe(1);
      await openCall(page, ids.evil!, 2);
      await page.locator("svg[data-testid=ladder] [data-testid=arrow]").first().click();
      const text = await page.locator("[data-testid=message-raw]").textContent();
      expect(text).toContain(EVIL_HEADER);
      expect(text).toContain(EVIL_CONTACT);
      const state = await page.evaluate(() => ({
        pwned: (window as unknown as { __pwned?: number }).__pwned,
        images: document.querySelectorAll("img").length,
        csp: document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.getAttribute("content"),
        violations: (window as unknown as { __csp?: string[] }).__csp ?? [],
      }));
      expect(state.pwned).toBeUndefined();
      expect(state.images).toBe(0);
      expect(state.csp).toMatch(
        /^default-src 'none'; script-src 'sha256-[A-Za-z0-9+/]+=*'; style-src 'sha256-[A-Za-z0-9+/]+=*'; img-src data:;/,
      );
      // The inline script and style sheet ran under the hash policy: nothing was blocked, nothing fetched.
      expect(state.violations).toEqual([]);
      expect(requests).toEqual([]);
      await screenshot(page, "report-xss-inert.png");
    } finally {
      await context.close();
    }
  });

  it("a missing file or a line that is not a journal entry: one line naming file:line:col, exit 1, no report left", () => {
    const missing = run(["report", join(dir, "nope.jsonl"), "-o", join(dir, "nope.html")]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^sipmock: cannot read .*nope\.jsonl: ENOENT/);
    expect(existsSync(join(dir, "nope.html"))).toBe(false);
    const bad = join(dir, "bad.jsonl");
    const good = JSON.stringify(sampleEntry(1, "one@example.test"));
    writeFileSync(bad, `${good}\n{"id": 2, oops}\n`);
    const r = run(["report", bad, "-o", join(dir, "bad.html")]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `^${bad.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}:2:\\d+: not JSON \\(.*\\); fix: give the JSONL file serve --journal wrote`,
      ),
    );
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(existsSync(join(dir, "bad.html"))).toBe(false);
    writeFileSync(bad, `${good}\n{"id": 2}\n`);
    const r2 = run(["report", bad, "-o", join(dir, "bad.html")]);
    expect(r2.status).toBe(1);
    expect(r2.stderr).toContain(":2:1: not a journal entry: no raw message text; fix:");
  });

  it("10,000 messages: the report is written, opens offline and draws a call's ladder", async () => {
    const journal = join(dir, "big.jsonl");
    const report = join(dir, "big.html");
    const lines: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      lines.push(JSON.stringify(sampleEntry(i + 1, `bulk-${Math.floor(i / 4)}@example.test`)));
    }
    writeFileSync(journal, `${lines.join("\n")}\n`);
    const r = run(["report", journal, "-o", report]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain("(10000 messages)");
    const { context, page, requests } = await openReport(report);
    try {
      // 2,500 calls: the one wanted is found through the Call-ID filter.
      await page.locator("[data-testid=filter-callid]").fill("bulk-1234@");
      const arrows = await openCall(page, "bulk-1234@example.test", 4);
      expect(arrows).toHaveLength(4);
      expect(requests).toEqual([]);
      await screenshot(page, "report-10000.png");
    } finally {
      await context.close();
    }
  });
});

describe("serve --report", () => {
  const SCENARIO = `
name: busy with verdict
rules:
  - match: { method: INVITE, requestUri: { user: "^486$" } }
    respond: 486
expectations:
  - name: exactly one INVITE to 486
    match: { method: INVITE, requestUri: { user: "^486$" } }
    times: 1
  - name: a BYE
    match: { method: BYE }
`;

  it("with --until-expectations writes the report at exit, the verdicts at the top as the run gave them", async () => {
    const scenario = join(dir, "verdict.yaml");
    const report = join(dir, "verdict.html");
    writeFileSync(scenario, SCENARIO);
    let callId = "";
    const served = await serve(
      ["--scenario", scenario, "--until-expectations", "--timeout", "3s", "--report", report],
      async (port) => {
        const r = await sipp(port, inviteFinalScenario("486", { code: 486, reason: "Busy Here" }));
        expect(r.exitCode, r.summary).toBe(0);
        callId = callIdOf(r);
      },
      false,
    );
    // The BYE never came: the verdict is a failure, and the report is written all the same.
    expect(served.code, served.output).toBe(1);
    expect(served.output).toContain("PASS exactly one INVITE to 486");
    expect(served.output).toContain("FAIL a BYE");
    expect(served.output).toMatch(/sipmock: report .*verdict\.html written \(\d+ messages\)/);
    const { context, page, requests } = await openReport(report);
    try {
      const verdicts = await page.evaluate(() =>
        [...document.querySelectorAll("[data-testid=verdict]")].map((v) => ({
          ok: v.getAttribute("data-ok"),
          text: v.textContent ?? "",
        })),
      );
      expect(verdicts.map((v) => v.ok)).toEqual(["true", "false"]);
      expect(verdicts[0]!.text).toContain("exactly one INVITE to 486: received 1, expected exactly 1");
      expect(verdicts[1]!.text).toContain("a BYE: received 0");
      const arrows = await openCall(page, callId, 4);
      expect(arrows.map((a) => a.label)).toEqual(["INVITE", "100 Trying", "486 Busy Here", "ACK"]);
      expect(requests).toEqual([]);
      await screenshot(page, "report-verdicts.png");
    } finally {
      await context.close();
    }
  });

  it("stopped by a signal, without expectations: the report holds the journal and no verdicts", async () => {
    const report = join(dir, "signal.html");
    const served = await serve(["--report", report], async (port) => {
      const r = await sipp(port, requestScenario("OPTIONS", "bob", { code: 200, reason: "OK" }));
      expect(r.exitCode, r.summary).toBe(0);
    });
    expect(served.code, served.output).toBe(0);
    expect(served.output).toMatch(/sipmock: report .*signal\.html written \(2 messages\)/);
    const html = readFileSync(report, "utf8");
    const data = JSON.parse(
      /<script id="sipmock-data" type="application\/json">([^<]*)<\/script>/.exec(html)![1]!,
    );
    expect(data.expectations).toBeNull();
    expect(data.entries.map((e: JournalEntry) => `${e.direction} ${e.method ?? e.status}`)).toEqual([
      "in OPTIONS",
      "out 200",
    ]);
  });

  it("when the expectations hold, every verdict row is ok and the exit code stays 0", async () => {
    const scenario = join(dir, "pass.yaml");
    const report = join(dir, "pass.html");
    writeFileSync(scenario, SCENARIO.replace(/ {2}- name: a BYE\n.*\n/, ""));
    const served = await serve(
      ["--scenario", scenario, "--until-expectations", "--timeout", "20s", "--report", report],
      async (port) => {
        const r = await sipp(port, inviteFinalScenario("486", { code: 486, reason: "Busy Here" }));
        expect(r.exitCode, r.summary).toBe(0);
      },
      false,
    );
    expect(served.code, served.output).toBe(0);
    const html = readFileSync(report, "utf8");
    const data = JSON.parse(
      /<script id="sipmock-data" type="application\/json">([^<]*)<\/script>/.exec(html)![1]!,
    );
    expect(data.expectations).toEqual([
      { description: "exactly one INVITE to 486: received 1, expected exactly 1", ok: true },
    ]);
    expect(data.entries.length).toBeGreaterThanOrEqual(4);
    const { context, page } = await openReport(report);
    try {
      const oks = await page.evaluate(() =>
        [...document.querySelectorAll("[data-testid=verdict]")].map((v) => v.getAttribute("data-ok")),
      );
      expect(oks).toEqual(["true"]);
    } finally {
      await context.close();
    }
  });
});
