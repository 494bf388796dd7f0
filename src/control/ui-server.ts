/**
 * The web UI on the admin listener: GET /__admin/ui (the page shell), its
 * script and style sheet (built by `npm run build` into dist/ui/), every
 * response with a strict Content-Security-Policy. The page only talks to
 * the admin API (same origin) and to /__admin/events.
 */
import { existsSync, readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { HttpProblem } from "./http-problem.js";

/** The live UI's policy: its own script and style sheet, fetches to its own origin, nothing else. */
export const UI_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Sent on every admin response (a JSON body is never sniffed into HTML, never framed). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": UI_CSP,
  "x-content-type-options": "nosniff",
  // The page's URL may carry ?token=: never in a Referer.
  "referrer-policy": "no-referrer",
};

export class UiNotBuiltError extends Error {}

export interface UiAssets {
  readonly js: string;
  readonly css: string;
}

/** Where the built app lives: dist/ui next to dist/control, or (running from src/) the build's dist/ui. */
export function uiDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, "..", "ui"), join(here, "..", "..", "dist", "ui")];
  return candidates.find((d) => existsSync(join(d, "app.js"))) ?? candidates[0]!;
}

/** The built app's script and style sheet, read fresh (a rebuild shows on reload). */
export function readUiAssets(dir = uiDir()): UiAssets {
  try {
    return {
      js: readFileSync(join(dir, "app.js"), "utf8"),
      css: readFileSync(join(dir, "app.css"), "utf8"),
    };
  } catch (e) {
    throw new UiNotBuiltError(
      `the web UI is not built (${(e as Error).message}); fix: run npm run build (it writes dist/ui/app.js and app.css)`,
    );
  }
}

/**
 * JSON to put inside a <script type="application/json"> element: every `<`
 * written as \u003c, so no message text can end the element or open a comment.
 */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c");
}

/** The live page: the app loads its data from the admin API with `token` (null: none needed). */
export function liveShell(token: string | null): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sipmock</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="ui/app.css">
</head>
<body>
<div id="app"></div>
<script id="sipmock-data" type="application/json">${scriptJson({ mode: "live", api: "/__admin", token })}</script>
<script src="ui/app.js"></script>
</body>
</html>
`;
}

const TYPES = {
  "app.js": "text/javascript; charset=utf-8",
  "app.css": "text/css; charset=utf-8",
} as const;

export type UiAsset = keyof typeof TYPES;

export function isUiAsset(name: string): name is UiAsset {
  return Object.hasOwn(TYPES, name);
}

/** GET /__admin/ui. */
function sendShell(res: ServerResponse, token: string | null): void {
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    "content-type": "text/html; charset=utf-8",
    // It may hold the token: not kept by the browser or anything between.
    "cache-control": "no-store",
  });
  res.end(liveShell(token));
}

/** GET /__admin/ui/app.js and app.css (throws UiNotBuiltError when there is no build). */
function sendAsset(res: ServerResponse, name: UiAsset): void {
  const assets = readUiAssets();
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    "content-type": TYPES[name],
    "cache-control": "no-cache",
  });
  res.end(name === "app.js" ? assets.js : assets.css);
}

/** GET /__admin/ui: the page (/__admin/ui/ is sent there, its relative links resolve from it). */
export function serveShell(res: ServerResponse, url: URL, token: string | null): void {
  if (url.pathname.endsWith("/")) {
    res.writeHead(308, { location: `/__admin/ui${url.search}` });
    res.end();
    return;
  }
  if (!existsSync(join(uiDir(), "app.js"))) throw notBuilt(new UiNotBuiltError("dist/ui/app.js is missing"));
  sendShell(res, token);
}

export function serveAsset(res: ServerResponse, name: UiAsset): void {
  try {
    sendAsset(res, name);
  } catch (e) {
    throw e instanceof UiNotBuiltError ? notBuilt(e) : e;
  }
}

function notBuilt(e: Error): HttpProblem {
  return new HttpProblem(503, "Service Unavailable", `the web UI is not built: ${e.message}`);
}

/** Where an event stream resumes: Last-Event-ID (a browser reconnecting) or ?sinceId=. */
export function lastEventId(req: IncomingMessage, url: URL): number | undefined {
  const header = req.headers["last-event-id"];
  const v = typeof header === "string" && header !== "" ? header : url.searchParams.get("sinceId");
  if (v === null) return undefined;
  if (!/^\d+$/.test(v)) throw new HttpProblem(400, "Bad query", `sinceId must be an integer, got "${v}"`);
  return Number(v);
}
