/** Request bodies: JSON or YAML only, at most MAX_BODY octets, nested no deeper than a scenario needs. */
import type { IncomingMessage } from "node:http";
import { parse as parseYaml } from "yaml";
import { MAX_ALIAS_COUNT, MAX_NESTING, tooDeep } from "../../scenario/bounds.js";
import { toMs } from "../../scenario/duration.js";
import { HttpProblem } from "../http-problem.js";

const MAX_BODY = 1024 * 1024;

export function isJson(req: IncomingMessage): boolean {
  return /^application\/(.+\+)?json/i.test(req.headers["content-type"] ?? "");
}

export function jsonToYaml(text: string): string {
  try {
    // JSON is YAML: a scenario as JSON parses the same; only check it is JSON.
    JSON.parse(text);
    return text.includes("\n") ? text : `${text}\n`;
  } catch (e) {
    throw new HttpProblem(400, "Invalid JSON", (e as Error).message);
  }
}

/** The 413 for a body over MAX_BODY: the connection is closed (the rest is not read). */
function tooLarge(): HttpProblem {
  return new HttpProblem(
    413,
    "Payload Too Large",
    `the body is larger than ${MAX_BODY} octets`,
    {},
    { connection: "close" },
  );
}

/** JSON or YAML, and not announced larger than MAX_BODY: else a 415 or 413 before the body is read. */
export function checkBodyType(req: IncomingMessage): void {
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
  // Refused before a byte of it is read.
  if (declared !== undefined && Number(declared) > MAX_BODY) throw tooLarge();
}

/** The body (its type checked by checkBodyType) as text, at most MAX_BODY octets, nested no deeper than a scenario needs. */
export async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    // The rest of the body is not read: the connection cannot be reused.
    if (size > MAX_BODY) throw tooLarge();
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
export async function readObject(req: IncomingMessage): Promise<Record<string, unknown>> {
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

/** A whole number, 0 or more, if given; `problem` names what is wrong. */
export function wholeNumber(v: unknown, problem: () => HttpProblem): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) throw problem();
  return v;
}

export function stringField(body: Record<string, unknown>, key: string): string {
  const v = body[key];
  if (typeof v !== "string" || v === "")
    throw new HttpProblem(400, "Invalid body", `${key} must be a string`);
  return v;
}

/** Milliseconds, or a duration string such as "2s" / "500ms". */
export function durationField(body: Record<string, unknown>, key: string): number {
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
