/**
 * The admin HTTP API (`serve --admin 127.0.0.1:8080`): health, journal,
 * calls, scenario get/replace/reset, overrides, registrations, Prometheus
 * metrics and its own OpenAPI document. Loopback by default, optional bearer
 * token; errors are RFC 9457 problem details. The routes are in admin/routes.ts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { checkBodyType } from "./admin/body.js";
import type { AdminState } from "./admin/context.js";
import { dispatch } from "./admin/routes.js";
import { checkOrigin, checkToken } from "./admin-guard.js";
import { EventStream } from "./event-stream.js";
import { HttpProblem } from "./http-problem.js";
import type { SipMock } from "./sipmock.js";
import { SECURITY_HEADERS } from "./ui-server.js";

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
  checkOrigin(req, options.host ?? "127.0.0.1");
  const url = new URL(req.url ?? "/", "http://admin");
  const path = url.pathname.replace(/\/+$/, "") || "/";
  // RFC 9110 9.3.2: HEAD is GET without the body (Node drops the body itself).
  const method = req.method === "HEAD" ? "GET" : (req.method ?? "GET");
  checkToken(req, url, path, options.token);
  // Every body, whatever the endpoint, is JSON or YAML (a form or text/plain
  // post is what a page can send without a CORS preflight).
  checkBodyType(req);
  await dispatch({ mock, state, token: options.token ?? null, req, res, url, path }, method);
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
