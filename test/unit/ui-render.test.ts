/**
 * The built UI bundle (app.js, app.css from scripts/build-ui.mjs) in
 * Chromium, in report mode under a strict Content-Security-Policy: hostile
 * message text renders as text, the ladder and raw message views, filters,
 * verdicts, and a 10,000-message journal.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JournalEntry, JournalRecord } from "../../ui/src/types.js";
import { entries, request, response } from "./ui-fixtures.js";

let browser: Browser;
let js: string;
let css: string;

beforeAll(async () => {
  // Built as `npm run build` builds it, into a directory of its own (dist/ui may be in use).
  const out = mkdtempSync(join(tmpdir(), "sipmock-ui-"));
  execFileSync(process.execPath, ["scripts/build-ui.mjs", out], { stdio: "inherit" });
  js = readFileSync(join(out, "app.js"), "utf8");
  css = readFileSync(join(out, "app.css"), "utf8");
  rmSync(out, { recursive: true, force: true });
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
  });
});

afterAll(async () => {
  await browser?.close();
});

const sha = (text: string) => `'sha256-${createHash("sha256").update(text).digest("base64")}'`;

/** A report page as `sipmock report` writes it: bundle inlined, allowed by hash only. */
function reportPage(data: unknown): string {
  const json = JSON.stringify(data).replace(/</g, "\\u003c");
  const csp = `default-src 'none'; script-src ${sha(js)}; style-src ${sha(css)}; img-src 'self' data:`;
  return `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${csp}"><style>${css}</style></head><body><div id="app"></div><script id="sipmock-data" type="application/json">${json}</script><script>${js}</script></body></html>`;
}

interface Opened {
  readonly page: Page;
  readonly problems: string[];
}

async function open(list: readonly JournalRecord[], expectations: unknown = null): Promise<Opened> {
  const page = await browser.newPage();
  page.setDefaultTimeout(5000);
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") problems.push(m.text());
  });
  page.on("pageerror", (e) => problems.push(e.message));
  page.on("dialog", (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  await page.setContent(
    reportPage({ mode: "report", entries: list, expectations, generatedAt: "2026-12-04T10:00:05.000Z" }),
  );
  await page.locator("[data-testid=call-row]").first().waitFor();
  return { page, problems };
}

const HOSTILE = {
  script: "<script>window.__pwned='script'</script>",
  img: `"><img src=x onerror="window.__pwned='img'">`,
  js: "javascript:window.__pwned='href'",
};

function hostileCall(): JournalEntry[] {
  const extra = [
    `Subject: ${HOSTILE.script}`,
    `X-Evil: ${HOSTILE.img}`,
    `Contact: <${HOSTILE.js}>`,
    `X-<svg/onload=window.__pwned='name'>: 1`,
  ];
  return entries([
    {
      direction: "in",
      raw: request("INVITE", { callId: "evil<b>1</b>", extra }),
      rule: `rule ${HOSTILE.img}`,
    },
    {
      direction: "out",
      raw: response(486, `Busy <img src=x onerror="window.__pwned='reason'">`, { callId: "evil<b>1</b>" }),
      ms: 12,
    },
  ]);
}

describe("the UI bundle in report mode", () => {
  it("renders hostile header values, names, reason phrases, Call-IDs and rule names as inert text", async () => {
    const { page, problems } = await open(hostileCall());
    await page.locator("[data-testid=call-row]").first().click();
    await page.locator("[data-testid=arrow]").first().click();
    const raw = page.locator("[data-testid=message-raw]");
    await raw.waitFor();
    const text = await raw.textContent();
    expect(text).toContain(HOSTILE.script);
    expect(text).toContain(HOSTILE.img);
    expect(text).toContain(HOSTILE.js);
    await page.locator("[data-testid=arrow]").nth(1).click();
    await page.locator("[data-testid=message-raw]", { hasText: "window.__pwned='reason'" }).waitFor();
    // A string, run in the page (the Node-side type check has no DOM).
    const found = await page.evaluate(`({
      pwned: window.__pwned,
      elements: document.querySelectorAll("#app img, #app script, #app iframe, #app a, #app b, #app svg svg").length,
      risky: [...document.querySelectorAll("#app *")].flatMap((el) =>
        [...el.attributes].map((a) => a.name).filter((n) => n.startsWith("on") || /href|src|style/.test(n)),
      ),
    })`);
    expect(found).toEqual({ pwned: undefined, elements: 0, risky: [] });
    expect(await page.locator("[data-testid=call-row]").getAttribute("data-call-id")).toBe("evil<b>1</b>");
    expect(await page.locator("[data-testid=arrow]").first().getAttribute("data-rule")).toBe(
      `rule ${HOSTILE.img}`,
    );
    expect(problems).toEqual([]);
    await page.close();
  });

  it("shows a call's DTMF and media entries as notes under its ladder, not arrows, as inert text", async () => {
    const call = hostileCall();
    const callId = call[0]!.callId!;
    const at = (ms: number) => new Date(Date.parse(call[0]!.time) + ms).toISOString();
    const notes: JournalRecord[] = [
      { id: 3, time: at(20), kind: "dtmf", callId, digit: "1", durationMs: 100, volume: 10, via: "rfc4733" },
      // A JSONL edited by hand: whatever the digit says stays text.
      {
        id: 4,
        time: at(30),
        kind: "dtmf",
        callId,
        digit: HOSTILE.img,
        durationMs: 90,
        volume: 0,
        via: "info",
      },
      {
        id: 5,
        time: at(40),
        kind: "media",
        callId,
        codec: "PCMU",
        remote: { address: "127.0.0.1", port: 6000 },
        sent: { packets: 50, octets: 8000, lost: 0, jitterMs: 0 },
        received: { packets: 40, octets: 160, lost: 1, jitterMs: 2 },
      },
    ];
    const { page, problems } = await open([...call, ...notes]);
    await page.locator("[data-testid=call-row]").first().click();
    await page.locator("[data-testid=media-notes]").waitFor();
    expect(await page.locator("[data-testid=arrow]").count()).toBe(2);
    expect(await page.locator("[data-testid=note-dtmf]").count()).toBe(2);
    expect(await page.locator("[data-testid=dtmf-digits]").textContent()).toBe(
      `DTMF received: 1${HOSTILE.img}`,
    );
    expect(await page.locator("[data-testid=note-media]").textContent()).toMatch(
      /RTP PCMU: sent 50 packets, 8000 octets, lost 0, jitter 0\.0 ms; received 40 packets, 160 octets, lost 1, jitter 2\.0 ms$/,
    );
    expect(await page.evaluate(`window.__pwned`)).toBeUndefined();
    expect(await page.locator("#app img").count()).toBe(0);
    expect(problems).toEqual([]);
    await page.close();
  });

  it("draws one lane per endpoint and one arrow per message, with timing and retransmissions", async () => {
    const vias = [
      "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-p",
      "SIP/2.0/UDP 198.51.100.9:5062;branch=z9hG4bK-u",
    ];
    const call = entries([
      { direction: "in", raw: request("INVITE", { vias }) },
      { direction: "out", raw: response(100, "Trying", { vias }), ms: 3 },
      { direction: "in", raw: request("INVITE", { vias }), ms: 503, retransmission: true },
      { direction: "out", raw: response(486, "Busy Here", { vias }), ms: 515 },
    ]);
    const { page, problems } = await open(call);
    await page.locator("[data-testid=call-row]").click();
    const lanes = await page
      .locator("[data-testid=ladder] [data-testid=lane]")
      .evaluateAll((ls) => ls.map((l) => l.getAttribute("data-endpoint")));
    expect(lanes).toEqual(["udp:198.51.100.9:5062", "udp:127.0.0.1:5070", "udp:127.0.0.1:5060"]);
    const arrows = await page
      .locator("[data-testid=arrow]")
      .evaluateAll((as) =>
        as.map((a) => [
          a.getAttribute("data-label"),
          a.getAttribute("data-from"),
          a.getAttribute("data-to"),
          a.getAttribute("data-retransmission"),
        ]),
      );
    expect(arrows).toEqual([
      ["INVITE", "udp:127.0.0.1:5070", "udp:127.0.0.1:5060", "false"],
      ["100 Trying", "udp:127.0.0.1:5060", "udp:127.0.0.1:5070", "false"],
      ["INVITE", "udp:127.0.0.1:5070", "udp:127.0.0.1:5060", "true"],
      ["486 Busy Here", "udp:127.0.0.1:5060", "udp:127.0.0.1:5070", "false"],
    ]);
    const ladderText = await page.locator("[data-testid=ladder]").textContent();
    expect(ladderText).toContain("+500 ms");
    expect(ladderText).toContain("+12 ms");
    const busy = page.locator("[data-testid=arrow]").nth(3);
    await busy.click();
    await page
      .locator(`[data-testid=message][data-entry-id="${await busy.getAttribute("data-entry-id")}"]`)
      .waitFor();
    const names = await page
      .locator("[data-testid=message-raw] .hname")
      .evaluateAll((hs) => hs.map((x) => [x.textContent, x.getAttribute("title")]));
    expect(names.find(([n]) => n === "Via")?.[1]).toMatch(/^RFC 3261 20\.42/);
    expect(names.find(([n]) => n === "CSeq")?.[1]).toMatch(/^RFC 3261 20\.16/);
    expect(await page.locator("[data-testid=message-raw] .start").getAttribute("title")).toMatch(
      /^486 Busy Here: RFC 3261 21\.4\.24/,
    );
    expect(await page.locator("[data-testid=control-panel]").count()).toBe(0);
    expect(problems).toEqual([]);
    await page.close();
  });

  it("shows the expectations' verdicts", async () => {
    const { page } = await open(hostileCall(), [
      { description: "INVITE answered 486", ok: true },
      { description: "a BYE <script>x</script>", ok: false, detail: "0 received" },
    ]);
    const verdicts = await page
      .locator("[data-testid=verdict]")
      .evaluateAll((vs) =>
        vs.map((v) => [v.getAttribute("data-ok"), v.textContent?.includes("<script>x</script>")]),
      );
    expect(verdicts).toEqual([
      ["true", false],
      ["false", true],
    ]);
    await page.close();
  });

  it("lists 10,000 messages as calls and filters them", async () => {
    const msgs = Array.from({ length: 2500 }, (_, i) => {
      const callId = `bulk-${i}`;
      const final = i % 5 === 0 ? response(486, "Busy Here", { callId }) : response(200, "OK", { callId });
      return [
        { direction: "in" as const, raw: request("INVITE", { callId }), ms: i * 4 },
        { direction: "out" as const, raw: response(100, "Trying", { callId }), ms: i * 4 + 1 },
        { direction: "out" as const, raw: final, ms: i * 4 + 2 },
        {
          direction: "in" as const,
          raw: request("ACK", { callId }),
          ms: i * 4 + 3,
          transport: "tcp" as const,
        },
      ];
    }).flat();
    const { page, problems } = await open(entries(msgs));
    expect(await page.locator("[data-testid=call-row]").count()).toBe(1000);
    expect(await page.locator("[data-testid=call-row]").first().getAttribute("data-call-id")).toBe(
      "bulk-2499",
    );
    await page.locator("[data-testid=filter-status]").fill("486");
    await expect.poll(() => page.locator("[data-testid=call-row]").count()).toBe(500);
    await page.locator("[data-testid=filter-callid]").fill("bulk-10");
    await expect
      .poll(() =>
        page
          .locator("[data-testid=call-row]")
          .evaluateAll((rs) => rs.map((r) => r.getAttribute("data-call-id"))),
      )
      .toEqual(
        Array.from({ length: 2500 }, (_, i) => i)
          .filter((i) => i % 5 === 0 && `bulk-${i}`.includes("bulk-10"))
          .reverse()
          .map((i) => `bulk-${i}`),
      );
    await page.locator("[data-testid=filter-status]").fill("");
    await page.locator("[data-testid=filter-callid]").fill("");
    await page.locator("[data-testid=filter-text]").fill("call-id: BULK-7\r");
    await page.locator("[data-testid=filter-text]").fill("bulk-77");
    await page.locator("[data-testid=filter-transport]").selectOption("tcp");
    await expect.poll(() => page.locator("[data-testid=call-row]").count()).toBe(11);
    await page.locator("[data-testid=filter-method]").fill("BYE");
    await expect.poll(() => page.locator("[data-testid=call-row]").count()).toBe(0);
    expect(problems).toEqual([]);
    await page.close();
  });

  it("draws a call of 1,200 messages 500 arrows at a time, paging through it", async () => {
    const call = entries(
      Array.from({ length: 1200 }, (_, i) => ({
        direction: i % 2 === 0 ? ("in" as const) : ("out" as const),
        raw:
          i % 2 === 0
            ? request("MESSAGE", { callId: "chatty" })
            : response(200, "OK", { callId: "chatty", method: "MESSAGE" }),
        ms: i,
      })),
    );
    const { page, problems } = await open(call);
    await page.locator("[data-testid=call-row]").click();
    await page.locator("[data-testid=ladder]").waitFor();
    expect(await page.locator("[data-testid=arrow]").count()).toBe(500);
    const firstId = () => page.locator("[data-testid=arrow]").first().getAttribute("data-entry-id");
    expect(await firstId()).toBe("1");
    await page.locator("[data-testid=ladder-next]").click();
    await expect.poll(firstId).toBe("501");
    await page.locator("[data-testid=ladder-next]").click();
    await expect.poll(() => page.locator("[data-testid=arrow]").count()).toBe(200);
    expect(await page.locator("[data-testid=ladder-next]").isDisabled()).toBe(true);
    expect(problems).toEqual([]);
    await page.close();
  });
});
