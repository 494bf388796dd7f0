/**
 * The live web UI in Debian's headless Chromium (playwright-core), fed by
 * real SIP traffic from SIPp: an answered call, a 486, a CANCEL of a ringing
 * call, a digest REGISTER, and an OPTIONS carrying markup and a javascript:
 * URI. The page is opened before the traffic, so what it shows came over the
 * event stream. Asserted in the browser: the call rows, the ladder's arrows
 * (order, labels, lanes), filtering, the registration, the control panel's
 * 486 (the next SIPp INVITE gets it), inert message text, the CSP.
 * Screenshots go to test-artifacts/.
 */
/// <reference lib="dom" />
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AdminServer, startAdmin } from "../../src/control/admin.js";
import { type SipMock, scenarioFromYaml, silentLogger, startSipMock } from "../../src/index.js";
import { launchChromium, screenshot, watchedPage } from "../helpers/chromium.js";
import {
  answeredCallScenario,
  answeredThenHungUpScenario,
  cancelScenario,
  headerOfText,
  inviteFinalScenario,
  registerWithAuthScenario,
  requestScenario,
  runSipp,
  type SippResult,
} from "../peers/sipp.js";

const TOKEN = "ui-test-token";
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const EVIL_HEADER = `X-Evil: <script>window.__pwned=1</script>"><img src=x onerror="window.__pwned=2">`;
const EVIL_CONTACT = "Contact: <javascript:window.__pwned=3>";

const SCENARIO = `
name: ui
auth:
  realm: sipmock
  users: { alice: secret }
  algorithms: [MD5]
  methods: [REGISTER]
rules:
  - name: dial-a-code
    match: { requestUri: { user: "^[1-6][0-9][0-9]$" } }
    dialACode: true
  - name: built-in UAS
    default: true
`;

let mock: SipMock;
let admin: AdminServer;
let browser: Browser;
let page: Page;
let problems: string[];
let cspHeader: string | undefined;
/** Every request the page made (path and query). */
const requests: string[] = [];
const calls: Record<"answered" | "busy" | "cancelled" | "register" | "evil" | "tcp", string> = {
  tcp: "",
  answered: "",
  busy: "",
  cancelled: "",
  register: "",
  evil: "",
};

function sipp(
  scenarioXml: string,
  extraArgs: string[] = [],
  transport: "udp" | "tcp" = "udp",
): Promise<SippResult> {
  return runSipp({
    scenarioXml,
    target: `127.0.0.1:${mock.address(transport).port}`,
    transport: transport === "udp" ? "u1" : "t1",
    extraArgs,
  });
}

function callIdOf(r: SippResult): string {
  const first = r.parsed.find((m) => m.direction === "sent");
  const id = first ? headerOfText(first.text, "Call-ID") : undefined;
  if (!id) throw new Error(`no Call-ID in SIPp's trace: ${r.summary}`);
  return id;
}

/** Call-IDs of the call rows shown (visible), top to bottom. */
const visibleRows = () =>
  page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>("[data-testid=call-row]")]
      .filter((r) => r.offsetParent !== null)
      .map((r) => r.getAttribute("data-call-id")),
  );

interface ArrowInfo {
  readonly label: string;
  readonly from: string;
  readonly to: string;
  readonly retransmission: string;
  readonly rule: string;
}

/** Clicks a call's row and returns the ladder's arrows (originals only) and lanes. */
async function openLadder(callId: string): Promise<{ arrows: ArrowInfo[]; lanes: string[] }> {
  await page.locator(`[data-testid=call-row][data-call-id="${callId}"]`).click();
  // The ladder of this call: its arrows are exactly the journal entries of the Call-ID.
  const ids = mock.journal.entries({ callId }).map((e) => String(e.id));
  await page.waitForFunction(
    (want) =>
      [...document.querySelectorAll("svg[data-testid=ladder] [data-testid=arrow]")]
        .map((g) => g.getAttribute("data-entry-id"))
        .join(",") === want.join(","),
    ids,
  );
  return page.evaluate(() => ({
    arrows: [...document.querySelectorAll("svg[data-testid=ladder] [data-testid=arrow]")]
      .map((g) => ({
        label: g.getAttribute("data-label") ?? "",
        from: g.getAttribute("data-from") ?? "",
        to: g.getAttribute("data-to") ?? "",
        retransmission: g.getAttribute("data-retransmission") ?? "",
        rule: g.getAttribute("data-rule") ?? "",
      }))
      .filter((a) => a.retransmission !== "true"),
    lanes: [...document.querySelectorAll("svg[data-testid=ladder] [data-testid=lane]")].map(
      (l) => l.getAttribute("data-endpoint") ?? "",
    ),
  }));
}

/** What the journal says the arrows of a call must be: label, from, to. */
function journalArrows(callId: string) {
  return mock.journal
    .entries({ callId })
    .filter((e) => !e.retransmission)
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

async function setFilter(id: string, value: string): Promise<void> {
  await page.locator(`[data-testid=filter-${id}]`).fill(value);
}

beforeAll(async () => {
  mock = await startSipMock({
    listen: ["udp:127.0.0.1:0", "tcp:127.0.0.1:0"],
    logger: silentLogger,
    scenario: scenarioFromYaml(SCENARIO),
  });
  admin = await startAdmin(mock, { port: 0, token: TOKEN });
  browser = await launchChromium();
  ({ page, problems } = await watchedPage(browser));
  page.on("request", (r) => {
    const u = new URL(r.url());
    requests.push(`${r.method()} ${u.pathname}${u.search}`);
  });
  const res = await page.goto(`${admin.url}/__admin/ui?token=${TOKEN}`);
  cspHeader = res?.headers()["content-security-policy"];
  await page.locator("[data-testid=filters]").waitFor();

  // The traffic, after the page is open: it arrives over the event stream.
  const answered = await sipp(answeredCallScenario("bob"));
  expect(answered.exitCode, answered.summary).toBe(0);
  const busy = await sipp(inviteFinalScenario("486", { code: 486, reason: "Busy Here" }));
  expect(busy.exitCode, busy.summary).toBe(0);
  const cancelled = await sipp(cancelScenario(180, "Ringing"));
  expect(cancelled.exitCode, cancelled.summary).toBe(0);
  const register = await sipp(registerWithAuthScenario("alice"), ["-au", "alice", "-ap", "secret"]);
  expect(register.exitCode, register.summary).toBe(0);
  const evil = await sipp(
    requestScenario("OPTIONS", "carol", { code: 200, reason: "OK" }, [EVIL_HEADER, EVIL_CONTACT]),
  );
  expect(evil.exitCode, evil.summary).toBe(0);
  const tcp = await sipp(requestScenario("OPTIONS", "erin", { code: 200, reason: "OK" }), [], "tcp");
  expect(tcp.exitCode, tcp.summary).toBe(0);
  calls.tcp = callIdOf(tcp);
  calls.answered = callIdOf(answered);
  calls.busy = callIdOf(busy);
  calls.cancelled = callIdOf(cancelled);
  calls.register = callIdOf(register);
  calls.evil = callIdOf(evil);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await admin?.close();
  await mock?.close();
});

describe("the live web UI in headless Chromium, SIPp traffic", () => {
  it("is served with the strict CSP, and nothing on the page breaks it", async () => {
    expect(cspHeader).toBe(CSP);
    // The token left the address bar once the page had it.
    expect(page.url()).toBe(`${admin.url}/__admin/ui`);
    const violations = await page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? []);
    expect(violations).toEqual([]);
    expect(problems).toEqual([]);
  });

  it("shows every call live (over the event stream), with the registration", async () => {
    await page.waitForFunction(
      (ids) => ids.every((id) => document.querySelector(`[data-testid=call-row][data-call-id="${id}"]`)),
      Object.values(calls),
      { timeout: 10_000 },
    );
    const rows = await visibleRows();
    expect(rows).toEqual(expect.arrayContaining(Object.values(calls)));
    // They came over the event stream: the journal was read once, when the page opened, before any traffic.
    expect(requests).toContain(`GET /__admin/events?token=${TOKEN}`);
    expect(requests.filter((r) => r.startsWith("GET /__admin/journal"))).toEqual(["GET /__admin/journal"]);
    const aor = mock.registrations()[0]!.aor;
    await page.locator(`[data-testid=registration-row][data-aor="${aor}"]`).waitFor({ timeout: 10_000 });
    await expect(page.locator(`[data-testid=registration-row][data-aor="${aor}"]`).count()).resolves.toBe(1);
    await screenshot(page, "ui-calls.png");
  });

  it("the 486 call's ladder: INVITE, 100 Trying, 486 Busy Here, ACK between SIPp's lane and the mock's", async () => {
    const { arrows, lanes } = await openLadder(calls.busy);
    expect(arrows.map((a) => a.label)).toEqual(["INVITE", "100 Trying", "486 Busy Here", "ACK"]);
    expect(arrows.map(({ label, from, to }) => ({ label, from, to }))).toEqual(journalArrows(calls.busy));
    const [invite, trying] = arrows;
    expect(invite!.from).toBe(trying!.to);
    expect(invite!.to).toBe(`udp:127.0.0.1:${mock.address("udp").port}`);
    expect(lanes).toEqual([invite!.from, invite!.to]);
    await screenshot(page, "ui-ladder-486.png");
  });

  it("the answered call's and the cancelled call's ladders follow the journal, arrow by arrow", async () => {
    const answered = await openLadder(calls.answered);
    expect(answered.arrows.map((a) => a.label)).toEqual([
      "INVITE",
      "100 Trying",
      "180 Ringing",
      "200 OK",
      "ACK",
      "BYE",
      "200 OK",
    ]);
    expect(answered.arrows.map(({ label, from, to }) => ({ label, from, to }))).toEqual(
      journalArrows(calls.answered),
    );
    // The 200 OK with its SDP opened under the ladder (the README's picture, docs/ui.png).
    await page.locator("svg[data-testid=ladder] [data-testid=arrow]").nth(3).click();
    await expect
      .poll(() => page.locator("[data-testid=message-raw]").textContent())
      .toMatch(/^SIP\/2\.0 200 OK/);
    await screenshot(page, "ui-ladder-answered.png");
    const cancelled = await openLadder(calls.cancelled);
    expect(cancelled.arrows.map((a) => a.label)).toEqual([
      "INVITE",
      "100 Trying",
      "180 Ringing",
      "CANCEL",
      "200 OK",
      "487 Request Terminated",
      "ACK",
    ]);
    expect(cancelled.arrows.map(({ label, from, to }) => ({ label, from, to }))).toEqual(
      journalArrows(calls.cancelled),
    );
    const register = await openLadder(calls.register);
    expect(register.arrows.map((a) => a.label)).toEqual([
      "REGISTER",
      "401 Unauthorized",
      "REGISTER",
      "200 OK",
    ]);
  });

  it("filters by method, status, text, Call-ID, peer and transport", async () => {
    await setFilter("method", "CANCEL");
    await expect.poll(visibleRows).toEqual([calls.cancelled]);
    await setFilter("method", "");
    await setFilter("text", "Busy Here");
    await expect.poll(visibleRows).toEqual([calls.busy]);
    await screenshot(page, "ui-filter-text.png");
    await setFilter("text", "");
    await setFilter("status", "401");
    await expect.poll(visibleRows).toEqual([calls.register]);
    await setFilter("status", "");
    await setFilter("callid", calls.answered.slice(0, 12));
    await expect.poll(visibleRows).toEqual([calls.answered]);
    await setFilter("callid", "");
    const busyPeer = journalArrows(calls.busy)[0]!.from;
    await setFilter("peer", busyPeer);
    await expect.poll(visibleRows).toEqual([calls.busy]);
    await setFilter("peer", "");
    await page.locator("[data-testid=filter-transport]").selectOption("tcp");
    await expect.poll(visibleRows).toEqual([calls.tcp]);
    await page.locator("[data-testid=filter-transport]").selectOption("udp");
    await expect
      .poll(async () => (await visibleRows()).sort())
      .toEqual(
        Object.entries(calls)
          .filter(([k]) => k !== "tcp")
          .map(([, id]) => id)
          .sort(),
      );
    await page.locator("[data-testid=filter-transport]").selectOption("");
    await expect.poll(async () => (await visibleRows()).length).toBe(6);
  });

  it("message text is inert: a header with <script>, an onerror <img> and a javascript: Contact show as text", async () => {
    await openLadder(calls.evil);
    await page.locator("svg[data-testid=ladder] [data-testid=arrow]").first().click();
    const raw = page.locator("[data-testid=message-raw]");
    await raw.waitFor();
    const text = await raw.textContent();
    expect(text).toContain(EVIL_HEADER);
    expect(text).toContain(EVIL_CONTACT);
    const state = await page.evaluate(() => ({
      pwned: (window as unknown as { __pwned?: number }).__pwned,
      images: document.querySelectorAll("img").length,
      scripts: document.querySelectorAll("script").length,
      javascriptLinks: [...document.querySelectorAll("[href], [src], [xlink\\:href]")].filter((e) =>
        /javascript:/i.test(
          e.getAttribute("href") ?? e.getAttribute("src") ?? e.getAttribute("xlink:href") ?? "",
        ),
      ).length,
      rawChildren: [
        ...(document.querySelector("[data-testid=message-raw]")?.querySelectorAll("*") ?? []),
      ].map((e) => e.tagName.toLowerCase()),
    }));
    expect(state.pwned).toBeUndefined();
    expect(state.images).toBe(0);
    // The data element and the app's script: nothing the message added.
    expect(state.scripts).toBe(2);
    expect(state.javascriptLinks).toBe(0);
    expect(state.rawChildren.filter((t) => t === "script" || t === "img")).toEqual([]);
    await screenshot(page, "ui-xss-inert.png");
    const violations = await page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? []);
    expect(violations).toEqual([]);
  });

  it("the control panel's 486 (POST /__admin/overrides from the page) makes SIPp's next INVITE to a normal user get 486", async () => {
    await page.locator("[data-testid=respond-code]").fill("486");
    await page.locator("[data-testid=respond-method]").fill("INVITE");
    await page.locator("[data-testid=respond-apply]").click();
    await expect.poll(() => mock.overrides.all().length).toBe(1);
    expect(mock.overrides.all()[0]).toMatchObject({ rule: { respond: 486 } });
    const r = await sipp(inviteFinalScenario("dave", { code: 486, reason: "Busy Here" }));
    expect(r.exitCode, r.summary).toBe(0);
    const callId = callIdOf(r);
    await page.locator(`[data-testid=call-row][data-call-id="${callId}"]`).waitFor({ timeout: 10_000 });
    const { arrows } = await openLadder(callId);
    expect(arrows.map((a) => a.label)).toEqual(["INVITE", "100 Trying", "486 Busy Here", "ACK"]);
    // The arrow names what answered: the override the button set, as the journal says.
    expect(arrows[0]!.rule).toBe(mock.journal.entries({ callId })[0]!.rule);
    expect(arrows[0]!.rule).toMatch(/override/);
    await screenshot(page, "ui-control-486.png");
    expect(problems).toEqual([]);
  });

  it("the control panel's Hang up (POST /__admin/calls/{callId}/bye) ends SIPp's answered call: the mock's BYE, SIPp's 200", async () => {
    await page.locator("[data-testid=respond-clear]").click();
    await expect.poll(() => mock.overrides.all().length).toBe(0);
    const running = sipp(answeredThenHungUpScenario("frank", 15_000));
    await expect.poll(() => mock.dialogs().length, { timeout: 10_000 }).toBe(1);
    const callId = mock.dialogs()[0]!.callId;
    // The dialog is listed while it lives, and gone once the BYE ended it.
    const dialogRow = page.locator(`[data-testid=dialog-row][data-call-id="${callId}"]`);
    await dialogRow.waitFor({ timeout: 10_000 });
    await page.locator(`[data-testid=call-row][data-call-id="${callId}"]`).click();
    await page.locator("[data-testid=call-bye]").click();
    const r = await running;
    expect(r.exitCode, r.summary).toBe(0);
    await expect.poll(() => mock.journal.entries({ callId, method: "BYE" }).length).toBe(2);
    await dialogRow.waitFor({ state: "detached", timeout: 10_000 });
    const { arrows } = await openLadder(callId);
    const self = `udp:127.0.0.1:${mock.address("udp").port}`;
    expect(
      arrows.slice(-2).map(({ label, from, to }) => ({ label, from: from === self, to: to === self })),
    ).toEqual([
      { label: "BYE", from: true, to: false },
      { label: "200 OK", from: false, to: true },
    ]);
    expect(problems).toEqual([]);
  });
});
