/** The admin routes that read or change the mock's own state: journal, scenario, overrides, verification, the UI. */
import { ScenarioEngine } from "../../scenario/engine.js";
import { ScenarioLoadError } from "../../scenario/load.js";
import { HttpProblem } from "../http-problem.js";
import { OPENAPI } from "../openapi.js";
import { OverrideError } from "../overrides.js";
import { lastEventId, serveAsset, serveShell } from "../ui-server.js";
import { PatternError, VerificationError } from "../verify.js";
import { isJson, jsonToYaml, readObject, readText, wholeNumber } from "./body.js";
import { type AdminContext, empty, json } from "./context.js";
import { journalFilter } from "./journal-query.js";

export function health({ mock, res }: AdminContext): void {
  json(res, 200, {
    status: "ok",
    listeners: mock.listeners,
    transactions: mock.activeTransactions,
    dialogs: mock.activeDialogs,
  });
}

export function journal({ mock, res, url }: AdminContext): void {
  json(res, 200, mock.journal.records(journalFilter(url)));
}

export function clearJournal({ mock, res }: AdminContext): void {
  mock.journal.clear();
  empty(res);
}

export function calls({ mock, res, url }: AdminContext): void {
  json(
    res,
    200,
    mock.calls(journalFilter(url)).map(({ entries, ...call }) => ({
      ...call,
      entries: entries.map((e) => e.id),
    })),
  );
}

export async function verify({ mock, req, res }: AdminContext): Promise<void> {
  const body = await readObject(req);
  const counts: { times?: number; atLeast?: number; atMost?: number } = {};
  for (const k of ["times", "atLeast", "atMost"] as const) {
    const v = wholeNumber(
      body[k],
      () => new HttpProblem(400, "Invalid verification", `${k} must be a whole number, 0 or more`),
    );
    if (v !== undefined) counts[k] = v;
  }
  try {
    const found = mock.verify(body.match as never, counts);
    json(res, 200, { ok: true, received: found.length });
  } catch (e) {
    if (e instanceof VerificationError) throw new HttpProblem(409, "Verification failed", e.message);
    if (e instanceof PatternError) throw new HttpProblem(400, "Invalid pattern", e.message);
    throw e;
  }
}

export function scenario({ mock, state, res }: AdminContext): void {
  const s = mock.scenario;
  json(res, 200, {
    name: s.name,
    ...(s instanceof ScenarioEngine
      ? { state: s.getState(), rules: s.status(), expectations: s.expectations }
      : {}),
    ...(state.source !== undefined ? { source: state.source } : {}),
  });
}

export async function replaceScenario({ mock, state, req, res }: AdminContext): Promise<void> {
  const text = await readText(req);
  const yamlText = isJson(req) ? jsonToYaml(text) : text;
  try {
    mock.setScenario(yamlText.includes("\n") ? yamlText : `${yamlText}\n`);
  } catch (e) {
    if (e instanceof ScenarioLoadError) {
      throw new HttpProblem(400, "Invalid scenario", e.message, {
        problems: e.problems,
      });
    }
    throw e;
  }
  state.source = yamlText;
  json(res, 200, { name: mock.scenario.name });
}

export function resetScenario({ mock, res }: AdminContext): void {
  mock.resetScenario();
  empty(res);
}

export function expectations({ mock, res }: AdminContext): void {
  json(res, 200, mock.checkExpectations());
}

export function overrides({ mock, res }: AdminContext): void {
  json(res, 200, mock.overrides.all());
}

export async function addOverride({ mock, req, res }: AdminContext): Promise<void> {
  const body = await readObject(req);
  const { match, times, ...action } = body;
  if (times !== undefined && (typeof times !== "number" || !Number.isInteger(times) || times < 1)) {
    throw new HttpProblem(400, "Invalid override", "times must be a positive integer");
  }
  try {
    json(res, 201, mock.override(match as never, action, times === undefined ? {} : { times }));
  } catch (e) {
    if (e instanceof OverrideError || e instanceof PatternError)
      throw new HttpProblem(400, "Invalid override", e.message);
    throw e;
  }
}

export function clearOverrides({ mock, res }: AdminContext): void {
  mock.overrides.clear();
  empty(res);
}

export function deleteOverride({ mock, res, path }: AdminContext): void {
  let id: string;
  try {
    id = decodeURIComponent(path.split("/").pop()!);
  } catch {
    throw new HttpProblem(400, "Bad Request", "malformed percent-encoding in the override id");
  }
  if (!mock.overrides.delete(id)) throw new HttpProblem(404, "Not Found", `no override ${id}`);
  empty(res);
}

export function registrations({ mock, res }: AdminContext): void {
  json(res, 200, mock.registrations());
}

export function dialogs({ mock, res }: AdminContext): void {
  json(res, 200, mock.dialogs());
}

export function media({ mock, res }: AdminContext): void {
  json(res, 200, mock.media());
}

export function reset({ mock, res }: AdminContext): void {
  mock.reset();
  empty(res);
}

export function metrics({ mock, res }: AdminContext): void {
  res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
  res.end(
    mock.metrics.render({
      transactions: mock.activeTransactions,
      dialogs: mock.activeDialogs,
      journalEntries: mock.journal.size,
      overrides: mock.overrides.size,
      memory: process.memoryUsage(),
    }),
  );
}

export function openapi({ res }: AdminContext): void {
  json(res, 200, OPENAPI);
}

export function ui({ res, url, token }: AdminContext): void {
  serveShell(res, url, token);
}

export function uiScript({ res }: AdminContext): void {
  serveAsset(res, "app.js");
}

export function uiStyle({ res }: AdminContext): void {
  serveAsset(res, "app.css");
}

export function events({ state, req, res, url }: AdminContext): void {
  state.events.open(req, res, lastEventId(req, url));
}
