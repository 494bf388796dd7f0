/** Headers and bodies of an answer: header names and values, templates, SDP, body files (read here). */
import { existsSync, readFileSync, statSync } from "node:fs";
import { relative, resolve } from "node:path";
import type { BodyT } from "../schema.js";
import { compileTemplate, TEMPLATE_VARIABLES, TemplateError } from "../template.js";
import type { Path, Report } from "./problems.js";
import { didYouMean } from "./suggest.js";

/** Largest body file a scenario may name. */
const MAX_BODY_FILE = 1024 * 1024;

/** Where an answer may read body files from (undefined: nowhere) and where it puts what it read. */
export interface BodyFiles {
  readonly baseDir: string | undefined;
  readonly files: Map<string, string>;
}

/** What an answer or a step may carry. */
export interface HeadersAndBody {
  headers?: Record<string, string | number> | undefined;
  body?: BodyT | undefined;
}

/**
 * Checks the headers and body of an answer with status `code`; a body
 * file is read into `bodies.files`.
 */
export function checkBodyAndHeaders(
  a: HeadersAndBody,
  path: Path,
  report: Report,
  bodies: BodyFiles,
  code: number,
): void {
  checkHeaders(a.headers ?? {}, path, report);
  const body = a.body;
  if (body === undefined) return;
  if (body === "sdp") {
    if (code >= 300)
      report(
        [...path, "body"],
        `an SDP answer in a ${code} response means nothing to the client`,
        "SDP goes in 18x or 2xx",
      );
    return;
  }
  if (typeof body === "string") {
    checkTemplate(body, [...path, "body"], report);
    return;
  }
  if ((body.content === undefined) === (body.file === undefined)) {
    report(
      [...path, "body"],
      "a body needs exactly one of content: or file:",
      'body: { file: "answer.sdp", contentType: application/sdp }',
    );
    return;
  }
  if (body.content !== undefined) checkTemplate(body.content, [...path, "body", "content"], report);
  if (body.file !== undefined) readBodyFile(body.file, [...path, "body", "file"], report, bodies);
}

function checkHeaders(headers: Record<string, string | number>, path: Path, report: Report): void {
  for (const [name, value] of Object.entries(headers)) {
    if (!/^[A-Za-z0-9.!%*_+`'~-]+$/.test(name))
      report(
        [...path, "headers", name],
        `"${name}" is not a valid header name`,
        "a token such as X-Test",
        true,
      );
    if (/[\r\n\0]/.test(String(value))) {
      report(
        [...path, "headers", name],
        `the value of ${name} contains a line break`,
        "one line per header; to break a message on purpose, use fault: { malformed: header }",
      );
    }
    checkTemplate(String(value), [...path, "headers", name], report);
  }
}

/** `body: { file }`: a small regular file next to the scenario, read now, its templates checked. */
function readBodyFile(file: string, path: Path, report: Report, { baseDir, files }: BodyFiles): void {
  if (baseDir === undefined) {
    report(
      path,
      "body files can only be read by scenarios loaded from a file",
      "inline the content: body: { content: ..., contentType: ... }",
    );
    return;
  }
  const full = resolve(baseDir, file);
  const stat = existsSync(full) ? statSync(full) : undefined;
  if (stat && (!stat.isFile() || stat.size > MAX_BODY_FILE)) {
    report(
      path,
      `body file ${file} is not a regular file of at most ${MAX_BODY_FILE} octets`,
      "point at a small text file",
    );
    return;
  }
  if (!existsSync(full))
    report(
      path,
      `body file ${file} does not exist (looked at ${relative(process.cwd(), full) || full})`,
      "paths are relative to the scenario file",
    );
  else {
    const text = readFileSync(full, "utf8");
    files.set(file, text);
    checkTemplate(text, path, report);
  }
}

/** A {{template}} text: every variable known, with did-you-mean for a misspelt one. */
function checkTemplate(text: string, path: Path, report: Report): void {
  try {
    compileTemplate(text);
  } catch (e) {
    if (!(e instanceof TemplateError)) throw e;
    const suggestion = e.variable ? didYouMean(e.variable, TEMPLATE_VARIABLES) : undefined;
    report(
      path,
      e.message,
      suggestion
        ? `did you mean {{${suggestion}}}?`
        : `known: ${TEMPLATE_VARIABLES.map((v) => `{{${v}}}`).join(", ")}`,
    );
  }
}
