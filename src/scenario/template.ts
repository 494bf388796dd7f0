/**
 * Templates in scenario header values and bodies: {{from.user}},
 * {{header.X-Account}}, {{counter}}, {{random}}... Variables are checked when
 * the scenario is loaded; rendering never fails.
 */

import { isSipUri, type Uri, uriUser } from "../sip/uri.js";
import type { RequestFacts } from "./types.js";

/** What a template can read, computed per request by the engine. */
export interface TemplateContext {
  readonly method: string;
  readonly callId: string;
  readonly cseq: number;
  readonly requestUser: string;
  readonly requestHost: string;
  readonly requestUri: string;
  readonly fromUser: string;
  readonly fromHost: string;
  readonly fromUri: string;
  readonly fromDisplayName: string;
  readonly toUser: string;
  readonly toHost: string;
  readonly toUri: string;
  readonly sourceAddress: string;
  readonly sourcePort: number;
  readonly transport: string;
  /** First value of a request header, "" when absent. */
  header(name: string): string;
  /** How many times the rule has applied, this time included. */
  readonly counter: number;
  readonly random: () => number;
  readonly now: () => Date;
}

type Getter = (c: TemplateContext) => string;

const VARIABLES: Record<string, Getter> = {
  method: (c) => c.method,
  callId: (c) => c.callId,
  cseq: (c) => String(c.cseq),
  "request.user": (c) => c.requestUser,
  "request.host": (c) => c.requestHost,
  "request.uri": (c) => c.requestUri,
  "from.user": (c) => c.fromUser,
  "from.host": (c) => c.fromHost,
  "from.uri": (c) => c.fromUri,
  "from.displayName": (c) => c.fromDisplayName,
  "to.user": (c) => c.toUser,
  "to.host": (c) => c.toHost,
  "to.uri": (c) => c.toUri,
  "source.address": (c) => c.sourceAddress,
  "source.port": (c) => String(c.sourcePort),
  transport: (c) => c.transport,
  counter: (c) => String(c.counter),
  random: (c) =>
    Math.floor(c.random() * 0x100000000)
      .toString(16)
      .padStart(8, "0"),
  "random.int": (c) => String(Math.floor(c.random() * 1_000_000)),
  "now.iso": (c) => c.now().toISOString(),
  "now.epoch": (c) => String(Math.floor(c.now().getTime() / 1000)),
  "now.http": (c) => c.now().toUTCString(),
};

export const TEMPLATE_VARIABLES: readonly string[] = [...Object.keys(VARIABLES), "header.NAME"];

const TOKEN = /\{\{\s*([A-Za-z][A-Za-z0-9.-]*)\s*\}\}/g;

/**
 * Messages are handled as latin1 strings (one char per octet). Scenario text
 * is Unicode: its literal parts are turned into their UTF-8 octets (RFC 3261
 * 25.1: TEXT-UTF8 in reason phrases and header text), while values taken from
 * the request are already octets and are copied as they are.
 */
export function toWire(text: string): string {
  return /^[\x00-\x7f]*$/.test(text) ? text : Buffer.from(text, "utf8").toString("latin1");
}

export interface Template {
  readonly source: string;
  render(ctx: TemplateContext): string;
}

export class TemplateError extends Error {
  constructor(
    message: string,
    readonly variable: string,
  ) {
    super(message);
  }
}

function getterFor(name: string): Getter | undefined {
  if (name.startsWith("header.") && name.length > "header.".length) {
    const header = name.slice("header.".length);
    return (c) => c.header(header);
  }
  return VARIABLES[name];
}

/** Compiles a template, throwing TemplateError for an unknown variable or a stray "{{". */
export function compileTemplate(source: string): Template {
  if (!source.includes("{{")) {
    const wire = toWire(source);
    return { source, render: () => wire };
  }
  const parts: Array<string | Getter> = [];
  let last = 0;
  for (const m of source.matchAll(TOKEN)) {
    const name = m[1]!;
    const getter = getterFor(name);
    if (!getter) throw new TemplateError(`unknown template variable {{${name}}}`, name);
    parts.push(source.slice(last, m.index), getter);
    last = m.index + m[0].length;
  }
  parts.push(source.slice(last));
  const literal = parts.filter((p): p is string => typeof p === "string").join("");
  if (literal.includes("{{")) {
    throw new TemplateError('unterminated or malformed "{{" in a template', "");
  }
  const wireParts = parts.map((p) => (typeof p === "string" ? toWire(p) : p));
  return {
    source,
    render: (ctx) => wireParts.map((p) => (typeof p === "string" ? p : p(ctx))).join(""),
  };
}

/** The context of a template rendered for a request (`counter`: the rule's count, this time included). */
export function templateContext(
  f: RequestFacts,
  counter: number,
  random: () => number,
  now: () => Date,
): TemplateContext {
  const r = f.request;
  const host = (u: Uri) => (isSipUri(u) ? u.host : "");
  return {
    method: f.method,
    callId: r.core.callId,
    cseq: r.core.cseq.seq,
    requestUser: uriUser(r.uri) ?? "",
    requestHost: host(r.uri),
    requestUri: r.uri.raw,
    fromUser: uriUser(r.core.from.uri) ?? "",
    fromHost: host(r.core.from.uri),
    fromUri: r.core.from.uri.raw,
    fromDisplayName: r.core.from.displayName ?? "",
    toUser: uriUser(r.core.to.uri) ?? "",
    toHost: host(r.core.to.uri),
    toUri: r.core.to.uri.raw,
    sourceAddress: f.sourceAddress,
    sourcePort: f.sourcePort,
    transport: f.transport,
    header: (name) => r.headers.get(name) ?? "",
    counter,
    random,
    now,
  };
}
