/**
 * The admin API's routes: method and path pattern to a handler. A path the
 * document lists with another method is a 405 naming the allowed ones; any
 * other is a 404.
 */
import { HttpProblem } from "../http-problem.js";
import { OPENAPI } from "../openapi.js";
import * as calls from "./call-handlers.js";
import type { AdminContext, Handler } from "./context.js";
import * as h from "./handlers.js";

export interface Route {
  readonly method: string;
  /** The path as the OpenAPI document writes it, `{name}` standing for one segment. */
  readonly path: string;
  readonly handler: Handler;
}

export const ROUTES: readonly Route[] = [
  { method: "GET", path: "/__admin/health", handler: h.health },
  { method: "GET", path: "/__admin/journal", handler: h.journal },
  { method: "DELETE", path: "/__admin/journal", handler: h.clearJournal },
  { method: "GET", path: "/__admin/calls", handler: h.calls },
  { method: "POST", path: "/__admin/verify", handler: h.verify },
  { method: "GET", path: "/__admin/scenario", handler: h.scenario },
  { method: "PUT", path: "/__admin/scenario", handler: h.replaceScenario },
  { method: "POST", path: "/__admin/scenario/reset", handler: h.resetScenario },
  { method: "GET", path: "/__admin/expectations", handler: h.expectations },
  { method: "GET", path: "/__admin/overrides", handler: h.overrides },
  { method: "POST", path: "/__admin/overrides", handler: h.addOverride },
  { method: "DELETE", path: "/__admin/overrides", handler: h.clearOverrides },
  { method: "DELETE", path: "/__admin/overrides/{id}", handler: h.deleteOverride },
  { method: "GET", path: "/__admin/registrations", handler: h.registrations },
  { method: "GET", path: "/__admin/dialogs", handler: h.dialogs },
  { method: "GET", path: "/__admin/media", handler: h.media },
  { method: "GET", path: "/__admin/calls/{callId}/media", handler: calls.callMedia },
  { method: "POST", path: "/__admin/calls/{callId}/dtmf", handler: calls.sendDtmf },
  { method: "POST", path: "/__admin/verify/dtmf", handler: calls.verifyDtmf },
  { method: "POST", path: "/__admin/calls/{callId}/bye", handler: calls.bye },
  { method: "POST", path: "/__admin/calls/{callId}/reinvite", handler: calls.reinvite },
  { method: "POST", path: "/__admin/calls/{callId}/update", handler: calls.update },
  { method: "POST", path: "/__admin/registrations/{aor}/call", handler: calls.call },
  { method: "POST", path: "/__admin/registrations/{aor}/notify", handler: calls.notify },
  { method: "POST", path: "/__admin/registrations/{aor}/options", handler: calls.ping },
  { method: "POST", path: "/__admin/reset", handler: h.reset },
  { method: "GET", path: "/metrics", handler: h.metrics },
  { method: "GET", path: "/__admin/openapi.json", handler: h.openapi },
  { method: "GET", path: "/__admin/ui", handler: h.ui },
  { method: "GET", path: "/__admin/ui/app.js", handler: h.uiScript },
  { method: "GET", path: "/__admin/ui/app.css", handler: h.uiStyle },
  { method: "GET", path: "/__admin/events", handler: h.events },
];

/** `{name}` is one non-empty segment; everything else stands for itself. */
function pattern(path: string): RegExp {
  const parts = path.split(/\{[^}]+\}/).map((p) => p.replace(/[.*+?^$()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${parts.join("[^/]+")}$`);
}

const COMPILED = ROUTES.map((r) => ({ ...r, pattern: pattern(r.path) }));

/** Runs the route for `method` and the context's path; a 405 or 404 problem when there is none. */
export function dispatch(c: AdminContext, method: string): void | Promise<void> {
  const route = COMPILED.find((r) => r.method === method && r.pattern.test(c.path));
  if (route) return route.handler(c);
  throw noRoute(method, c.path);
}

function noRoute(method: string, path: string): HttpProblem {
  const documented = Object.entries(OPENAPI.paths).find(([p]) =>
    new RegExp(`^${p.replace(/\{[^}]+\}/g, "[^/]+")}$`).test(path),
  );
  if (documented) {
    // RFC 9110 15.5.6: a 405 lists the methods the resource allows.
    const allow = Object.keys(documented[1])
      .map((m) => m.toUpperCase())
      .sort()
      .join(", ");
    return new HttpProblem(
      405,
      "Method Not Allowed",
      `${method} is not allowed on ${path} (allowed: ${allow})`,
      {},
      { allow },
    );
  }
  return new HttpProblem(404, "Not Found", `no such endpoint: ${method} ${path} (see /__admin/openapi.json)`);
}
