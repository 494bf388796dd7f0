/**
 * The admin HTTP API (`serve --admin 127.0.0.1:8080`): health, journal,
 * calls, scenario get/replace/reset, overrides, registrations, Prometheus
 * metrics and its own OpenAPI document. Loopback by default, optional bearer
 * token; errors are RFC 9457 problem details.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { parse as parseYaml } from "yaml";
import { MAX_ALIAS_COUNT, MAX_NESTING, tooDeep } from "../scenario/bounds.js";
import { toMs } from "../scenario/duration.js";
import { ScenarioEngine } from "../scenario/engine.js";
import { ScenarioLoadError } from "../scenario/load.js";
import { type MediaDirection, MockRequestError } from "../ua/mock-requests.js";
import type { ClientOutcome } from "../ua/uac.js";
import { allowedHost, authorized, queryTokenMatches } from "./admin-guard.js";
import { EventStream } from "./event-stream.js";
import { HttpProblem } from "./http-problem.js";
import { JOURNAL_KINDS, type JournalFilter, type JournalKind } from "./journal.js";
import { OPENAPI } from "./openapi.js";
import { OverrideError } from "./overrides.js";
import type { SipMock } from "./sipmock.js";
import { lastEventId, SECURITY_HEADERS, serveAsset, serveShell } from "./ui-server.js";
import { PatternError, VerificationError } from "./verify.js";

export interface AdminOptions {
  readonly host?: string;
  readonly port: number;
  /** Require `Authorization: Bearer TOKEN` on every call but /__admin/health. */
  readonly token?: string;
}

export interface AdminServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Paths that need no token. */
const PUBLIC = new Set(["/__admin/health", "/__admin/openapi.json"]);
/** The web UI's script and style sheet: static, no secret in them (a <script src> cannot send a token). */
const UI_ASSET_PATH = /^\/__admin\/ui\/app\.(js|css)$/;
/** A browser cannot set a header on a page load or an EventSource: these take ?token= as well. */
const QUERY_TOKEN = new Set(["/__admin/ui", "/__admin/events"]);

const MAX_BODY = 1024 * 1024;

interface AdminState {
  /** The YAML last PUT, shown by GET /__admin/scenario. */
  source?: string;
  readonly events: EventStream;
}

export async function startAdmin(mock: SipMock, options: AdminOptions): Promise<AdminServer> {
  const host = options.host ?? "127.0.0.1";
  const state: AdminState = { events: new EventStream(mock.journal, { headers: SECURITY_HEADERS }) };
  const server: Server = createServer((req, res) => {
    handle(mock, options, state, req, res).catch((e: unknown) => sendError(res, e));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const h = addr.address.includes(":") ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${h}:${addr.port}`,
    close: () =>
      new Promise((resolve) => {
        state.events.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(
  mock: SipMock,
  options: AdminOptions,
  state: AdminState,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
  const hostName = (req.headers.host ?? "")
    .replace(/:\d+$/, "")
    .replace(/^\[|\]$/g, "")
    .toLowerCase();
  if (!allowedHost(hostName, options.host ?? "127.0.0.1")) {
    throw new HttpProblem(403, "Forbidden", `Host "${hostName}" is not this admin API's address`);
  }
  // A web page the developer has open must not drive the API: cross-origin
  // requests (CSRF) and other Host names (DNS rebinding) are refused. The
  // web UI's own requests (a POST carries Origin) come from this very origin.
  const origin = req.headers.origin;
  if (origin !== undefined && origin.toLowerCase() !== `http://${req.headers.host ?? ""}`.toLowerCase()) {
    throw new HttpProblem(403, "Forbidden", "cross-origin requests to the admin API are refused");
  }
  const url = new URL(req.url ?? "/", "http://admin");
  const path = url.pathname.replace(/\/+$/, "") || "/";
  // RFC 9110 9.3.2: HEAD is GET without the body (Node drops the body itself).
  const method = req.method === "HEAD" ? "GET" : (req.method ?? "GET");
  if (
    options.token &&
    !PUBLIC.has(path) &&
    !UI_ASSET_PATH.test(path) &&
    !authorized(req, options.token) &&
    !(QUERY_TOKEN.has(path) && queryTokenMatches(url, options.token))
  ) {
    // RFC 9110 11.6.1 / RFC 6750 3: a 401 names the scheme it wants.
    throw new HttpProblem(
      401,
      "Unauthorized",
      QUERY_TOKEN.has(path)
        ? `open ${path}?token=<token> or send Authorization: Bearer <token> (serve --admin-token)`
        : "send Authorization: Bearer <token> (serve --admin-token)",
      {},
      {
        "www-authenticate": 'Bearer realm="sipmock"',
      },
    );
  }
  // Every body, whatever the endpoint, is JSON or YAML (a form or text/plain
  // post is what a page can send without a CORS preflight).
  checkBodyType(req);
  const route = `${method} ${path
    .replace(/^\/__admin\/overrides\/[^/]+$/, "/__admin/overrides/{id}")
    .replace(/^\/__admin\/calls\/[^/]+\/(bye|reinvite|update|dtmf|media)$/, "/__admin/calls/{callId}/$1")
    .replace(/^\/__admin\/registrations\/[^/]+\/(call|notify|options)$/, "/__admin/registrations/{aor}/$1")}`;
  switch (route) {
    case "GET /__admin/health":
      return json(res, 200, {
        status: "ok",
        listeners: mock.listeners,
        transactions: mock.activeTransactions,
        dialogs: mock.activeDialogs,
      });
    case "GET /__admin/journal":
      return json(res, 200, mock.journal.records(journalFilter(url)));
    case "DELETE /__admin/journal":
      mock.journal.clear();
      return empty(res);
    case "GET /__admin/calls":
      return json(
        res,
        200,
        mock.calls(journalFilter(url)).map(({ entries, ...call }) => ({
          ...call,
          entries: entries.map((e) => e.id),
        })),
      );
    case "POST /__admin/verify": {
      const body = (await readObject(req)) as {
        match?: unknown;
        times?: number;
        atLeast?: number;
        atMost?: number;
      };
      for (const k of ["times", "atLeast", "atMost"] as const) {
        const v = body[k];
        if (v !== undefined && (typeof v !== "number" || !Number.isInteger(v) || v < 0)) {
          throw new HttpProblem(400, "Invalid verification", `${k} must be a whole number, 0 or more`);
        }
      }
      try {
        const found = mock.verify(body.match as never, pick(body, ["times", "atLeast", "atMost"]));
        return json(res, 200, { ok: true, received: found.length });
      } catch (e) {
        if (e instanceof VerificationError) throw new HttpProblem(409, "Verification failed", e.message);
        if (e instanceof PatternError) throw new HttpProblem(400, "Invalid pattern", e.message);
        throw e;
      }
    }
    case "GET /__admin/scenario": {
      const s = mock.scenario;
      return json(res, 200, {
        name: s.name,
        ...(s instanceof ScenarioEngine
          ? { state: s.getState(), rules: s.status(), expectations: s.expectations }
          : {}),
        ...(state.source !== undefined ? { source: state.source } : {}),
      });
    }
    case "PUT /__admin/scenario": {
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
      return json(res, 200, { name: mock.scenario.name });
    }
    case "POST /__admin/scenario/reset":
      mock.resetScenario();
      return empty(res);
    case "GET /__admin/expectations":
      return json(res, 200, mock.checkExpectations());
    case "GET /__admin/overrides":
      return json(res, 200, mock.overrides.all());
    case "POST /__admin/overrides": {
      const body = await readObject(req);
      const { match, times, ...action } = body;
      if (times !== undefined && (typeof times !== "number" || !Number.isInteger(times) || times < 1)) {
        throw new HttpProblem(400, "Invalid override", "times must be a positive integer");
      }
      try {
        return json(res, 201, mock.override(match as never, action, times === undefined ? {} : { times }));
      } catch (e) {
        if (e instanceof OverrideError || e instanceof PatternError)
          throw new HttpProblem(400, "Invalid override", e.message);
        throw e;
      }
    }
    case "DELETE /__admin/overrides":
      mock.overrides.clear();
      return empty(res);
    case "DELETE /__admin/overrides/{id}": {
      let id: string;
      try {
        id = decodeURIComponent(path.split("/").pop()!);
      } catch {
        throw new HttpProblem(400, "Bad Request", "malformed percent-encoding in the override id");
      }
      if (!mock.overrides.delete(id)) throw new HttpProblem(404, "Not Found", `no override ${id}`);
      return empty(res);
    }
    case "GET /__admin/registrations":
      return json(res, 200, mock.registrations());
    case "GET /__admin/dialogs":
      return json(res, 200, mock.dialogs());
    case "GET /__admin/media":
      return json(res, 200, mock.media());
    case "GET /__admin/calls/{callId}/media": {
      const callId = pathParam(path, "Call-ID");
      const m = mock.media(callId)[0]!;
      if (!m.stats && m.digits.length === 0)
        throw new HttpProblem(404, "Not Found", `no media and no DTMF in call ${callId}`);
      return json(res, 200, m);
    }
    case "POST /__admin/calls/{callId}/dtmf": {
      const body = await readObject(req);
      const digits = body.digits;
      if (typeof digits !== "string" || !/^[0-9*#A-Da-d]+$/.test(digits))
        throw new HttpProblem(
          400,
          "Invalid body",
          'digits must be DTMF digits 0-9, *, #, A-D, e.g. {"digits": "123#"}',
        );
      const callId = pathParam(path, "Call-ID");
      try {
        await mock.sendDtmf(callId, digits);
      } catch (e) {
        throw new HttpProblem(409, "Conflict", `${callId}: ${(e as Error).message}`);
      }
      return json(res, 200, { sent: digits });
    }
    case "POST /__admin/verify/dtmf": {
      const body = await readObject(req);
      if (typeof body.digits !== "string")
        throw new HttpProblem(
          400,
          "Invalid body",
          'digits is required, e.g. {"digits": "1234#", "callId": "..."}',
        );
      if (body.callId !== undefined && typeof body.callId !== "string")
        throw new HttpProblem(400, "Invalid body", "callId must be a string");
      try {
        const m = mock.verifyDtmf(
          body.digits,
          body.callId !== undefined ? { callId: body.callId as string } : {},
        );
        return json(res, 200, { ok: true, callId: m.callId });
      } catch (e) {
        if (e instanceof VerificationError) throw new HttpProblem(409, "Verification failed", e.message);
        throw e;
      }
    }
    case "POST /__admin/calls/{callId}/bye": {
      const callId = pathParam(path, "Call-ID");
      const n = mock.bye(callId);
      if (n === 0) throw new HttpProblem(404, "Not Found", `no dialog with Call-ID ${callId}`);
      return json(res, 200, { byes: n });
    }
    case "POST /__admin/calls/{callId}/reinvite": {
      const body = await readObject(req);
      const direction = body.direction ?? "sendrecv";
      if (!DIRECTIONS.includes(direction as never)) {
        throw new HttpProblem(400, "Invalid body", `direction must be one of ${DIRECTIONS.join(", ")}`);
      }
      const codecs = body.codecs;
      if (codecs !== undefined && (!Array.isArray(codecs) || !codecs.every((c) => typeof c === "string"))) {
        throw new HttpProblem(400, "Invalid body", 'codecs must be a list of codec names, e.g. ["PCMA"]');
      }
      const outcomes = await mockRequest(() =>
        mock.reinvite(pathParam(path, "Call-ID"), {
          direction: direction as MediaDirection,
          ...(codecs ? { codecs: codecs as string[] } : {}),
        }),
      );
      return json(res, 200, outcomes.map(outcomeJson));
    }
    case "POST /__admin/calls/{callId}/update": {
      const outcomes = await mockRequest(() => mock.update(pathParam(path, "Call-ID")));
      return json(res, 200, outcomes.map(outcomeJson));
    }
    case "POST /__admin/registrations/{aor}/call": {
      const body = await readObject(req);
      const callOptions = {
        ...(body.from !== undefined ? { from: stringField(body, "from") } : {}),
        ...(body.cancelAfter !== undefined ? { cancelAfterMs: durationField(body, "cancelAfter") } : {}),
        ...(body.hangUpAfter !== undefined ? { hangUpAfterMs: durationField(body, "hangUpAfter") } : {}),
      };
      const result = await mockRequest(() => mock.call(pathParam(path, "address-of-record"), callOptions));
      return json(res, 200, {
        callId: result.callId,
        contact: result.contact,
        provisional: result.provisional,
        ...outcomeJson(result),
      });
    }
    case "POST /__admin/registrations/{aor}/notify": {
      const body = await readObject(req);
      if (typeof body.waiting !== "boolean") {
        throw new HttpProblem(
          400,
          "Invalid body",
          'give "waiting": true or false (Messages-Waiting, RFC 3842)',
        );
      }
      const counts: Record<string, number> = {};
      for (const [k, name] of [
        ["new", "newMessages"],
        ["old", "oldMessages"],
        ["urgentNew", "urgentNew"],
        ["urgentOld", "urgentOld"],
      ] as const) {
        const v = body[k];
        if (v === undefined) continue;
        if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
          throw new HttpProblem(400, "Invalid body", `${k} must be a whole number, 0 or more`);
        }
        counts[name] = v;
      }
      const outcomes = await mockRequest(() =>
        mock.notifyMessageWaiting(pathParam(path, "address-of-record"), {
          waiting: body.waiting as boolean,
          ...counts,
        }),
      );
      return json(res, 200, outcomes.map(outcomeJson));
    }
    case "POST /__admin/registrations/{aor}/options": {
      const outcomes = await mockRequest(() => mock.ping(pathParam(path, "address-of-record")));
      return json(res, 200, outcomes.map(outcomeJson));
    }
    case "POST /__admin/reset":
      mock.reset();
      return empty(res);
    case "GET /metrics":
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
      res.end(
        mock.metrics.render({
          transactions: mock.activeTransactions,
          dialogs: mock.activeDialogs,
          journalEntries: mock.journal.size,
          overrides: mock.overrides.size,
        }),
      );
      return;
    case "GET /__admin/openapi.json":
      return json(res, 200, OPENAPI);
    case "GET /__admin/ui":
      return serveShell(res, url, options.token ?? null);
    case "GET /__admin/ui/app.js":
    case "GET /__admin/ui/app.css":
      return serveAsset(res, path.endsWith(".js") ? "app.js" : "app.css");
    case "GET /__admin/events":
      return state.events.open(req, res, lastEventId(req, url));
    default: {
      const documented = Object.entries(OPENAPI.paths).find(([p]) =>
        new RegExp(`^${p.replace(/\{[^}]+\}/g, "[^/]+")}$`).test(path),
      );
      if (documented) {
        // RFC 9110 15.5.6: a 405 lists the methods the resource allows.
        const allow = Object.keys(documented[1])
          .map((m) => m.toUpperCase())
          .sort()
          .join(", ");
        throw new HttpProblem(
          405,
          "Method Not Allowed",
          `${method} is not allowed on ${path} (allowed: ${allow})`,
          {},
          { allow },
        );
      }
      throw new HttpProblem(
        404,
        "Not Found",
        `no such endpoint: ${method} ${path} (see /__admin/openapi.json)`,
      );
    }
  }
}

function journalFilter(url: URL): JournalFilter {
  const q = url.searchParams;
  const num = (name: string) => {
    const v = q.get(name);
    if (v === null) return undefined;
    if (!/^\d+$/.test(v)) throw new HttpProblem(400, "Bad query", `${name} must be an integer, got "${v}"`);
    return Number(v);
  };
  const since = q.get("since");
  if (since !== null && Number.isNaN(Date.parse(since)) && !/^\d+$/.test(since)) {
    throw new HttpProblem(
      400,
      "Bad query",
      `since must be an ISO time or epoch milliseconds, got "${since}"`,
    );
  }
  const direction = q.get("direction");
  if (direction !== null && direction !== "in" && direction !== "out") {
    throw new HttpProblem(400, "Bad query", 'direction must be "in" or "out"');
  }
  const kinds = q
    .get("kind")
    ?.split(",")
    .filter((k) => k !== "");
  const badKind = kinds?.find((k) => !(JOURNAL_KINDS as readonly string[]).includes(k));
  if (badKind !== undefined) {
    throw new HttpProblem(
      400,
      "Bad query",
      `kind must be one of ${JOURNAL_KINDS.join(", ")} (comma-separated), got "${badKind}"`,
    );
  }
  const code = num("code");
  const sinceId = num("sinceId");
  const limit = num("limit");
  return {
    ...(q.get("method") ? { method: q.get("method")! } : {}),
    ...(code !== undefined ? { status: code } : {}),
    ...(q.get("callId") ? { callId: q.get("callId")! } : {}),
    ...(sinceId !== undefined ? { sinceId } : {}),
    ...(limit !== undefined ? { limit } : {}),
    ...(since !== null ? { since: /^\d+$/.test(since) ? Number(since) : since } : {}),
    ...(direction ? { direction } : {}),
    ...(kinds && kinds.length > 0 ? { kind: kinds as JournalKind[] } : {}),
  };
}

function pick<T extends object, K extends keyof T>(o: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

function isJson(req: IncomingMessage): boolean {
  return /^application\/(.+\+)?json/i.test(req.headers["content-type"] ?? "");
}

function jsonToYaml(text: string): string {
  try {
    // JSON is YAML: a scenario as JSON parses the same; only check it is JSON.
    JSON.parse(text);
    return text.includes("\n") ? text : `${text}\n`;
  } catch (e) {
    throw new HttpProblem(400, "Invalid JSON", (e as Error).message);
  }
}

/** JSON or YAML, and not announced larger than MAX_BODY: else a 415 or 413 before the body is read. */
function checkBodyType(req: IncomingMessage): void {
  const type = req.headers["content-type"] ?? "";
  const declared = req.headers["content-length"];
  const hasBody =
    (declared !== undefined && declared !== "0") || req.headers["transfer-encoding"] !== undefined;
  if (hasBody && !/^application\/([a-z0-9.-]+\+)?(json|(x-)?yaml)[ \t]*(;|$)/i.test(type)) {
    throw new HttpProblem(
      415,
      "Unsupported Media Type",
      "send application/json or application/yaml",
      {},
      { accept: "application/json, application/yaml", connection: "close" },
    );
  }
  if (declared !== undefined && Number(declared) > MAX_BODY) {
    // Refused before a byte of it is read.
    throw new HttpProblem(
      413,
      "Payload Too Large",
      `the body is larger than ${MAX_BODY} octets`,
      {},
      { connection: "close" },
    );
  }
}

/** The body (its type checked by handle) as text, at most MAX_BODY octets, nested no deeper than a scenario needs. */
async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) {
      // The rest of the body is not read: the connection cannot be reused.
      throw new HttpProblem(
        413,
        "Payload Too Large",
        `the body is larger than ${MAX_BODY} octets`,
        {},
        { connection: "close" },
      );
    }
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  // Checked before any parser sees it: deep nesting costs a YAML parser memory and stack.
  const deep = tooDeep(text);
  if (deep !== undefined) {
    throw new HttpProblem(
      400,
      "Invalid body",
      `[ ] and { } nest more than ${MAX_NESTING} deep (at offset ${deep})`,
    );
  }
  return text;
}

/** A JSON (or YAML) object body; anything else is a 400. */
const DIRECTIONS = ["sendrecv", "sendonly", "recvonly", "inactive"] as const;

/** The percent-decoded third path segment (/__admin/calls/{it}/...). */
function pathParam(path: string, what: string): string {
  try {
    return decodeURIComponent(path.split("/")[3]!);
  } catch {
    throw new HttpProblem(400, "Bad Request", `malformed percent-encoding in the ${what}`);
  }
}

/** A request the mock sends: no dialog or registration is a 404, an INVITE in progress a 409. */
async function mockRequest<T>(send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (e) {
    if (e instanceof MockRequestError) {
      if (e.kind === "unavailable")
        throw new HttpProblem(503, "Service Unavailable", e.message, {}, { "retry-after": "5" });
      const [status, title] =
        e.kind === "not-found"
          ? [404, "Not Found"]
          : e.kind === "invalid"
            ? [400, "Invalid body"]
            : [409, "Conflict"];
      throw new HttpProblem(status, title, e.message);
    }
    throw e;
  }
}

function outcomeJson(o: ClientOutcome & { contact?: string }) {
  return {
    status: o.status,
    reason: o.reason,
    ...(o.contact !== undefined ? { contact: o.contact } : {}),
    ...(o.transportError !== undefined
      ? { transportError: o.transportError }
      : o.response
        ? {}
        : { timedOut: true }),
  };
}

function stringField(body: Record<string, unknown>, key: string): string {
  const v = body[key];
  if (typeof v !== "string" || v === "")
    throw new HttpProblem(400, "Invalid body", `${key} must be a string`);
  return v;
}

/** Milliseconds, or a duration string such as "2s" / "500ms". */
function durationField(body: Record<string, unknown>, key: string): number {
  const v = body[key];
  if (typeof v === "number" && Number.isFinite(v) && v >= 0) return v;
  if (typeof v === "string") {
    try {
      return toMs(v);
    } catch {
      // fall through to the problem below
    }
  }
  throw new HttpProblem(400, "Invalid body", `${key} must be milliseconds or a duration such as "2s"`);
}

async function readObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const v = await readJson(req);
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw new HttpProblem(400, "Invalid body", "the body must be a JSON object");
  }
  return v as Record<string, unknown>;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const text = await readText(req);
  if (text.trim() === "") return {};
  try {
    return isJson(req) ? JSON.parse(text) : parseYaml(text, { maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    throw new HttpProblem(400, "Invalid body", `not valid JSON or YAML: ${(e as Error).message}`);
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
  res.end(`${JSON.stringify(body, null, 2)}\n`);
}

function empty(res: ServerResponse): void {
  res.writeHead(204);
  res.end();
}

function sendError(res: ServerResponse, e: unknown): void {
  const p =
    e instanceof HttpProblem
      ? e
      : new HttpProblem(500, "Internal Server Error", e instanceof Error ? e.message : String(e));
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(p.status, { "content-type": "application/problem+json; charset=utf-8", ...p.headers });
  res.end(
    `${JSON.stringify({ type: "about:blank", title: p.title, status: p.status, detail: p.message, ...p.extra }, null, 2)}\n`,
  );
  if (p.headers.connection === "close") res.once("finish", () => res.socket?.destroy());
}
