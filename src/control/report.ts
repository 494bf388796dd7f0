/**
 * The self-contained HTML report (`sipmock report`, `serve --report`): one
 * file holding the journal entries, the expectations' verdicts and the web
 * UI's script and style sheet inline, opened offline (file://). Its
 * Content-Security-Policy allows exactly that script and style sheet, by
 * hash, and nothing from the network. Written in pieces, one entry at a
 * time: 10,000 messages cost one pass.
 */
import { createHash } from "node:crypto";
import { closeSync, openSync, writeSync } from "node:fs";
import type { ExpectationResult } from "./expectations.js";
import { isMessage, type JournalRecord } from "./journal.js";
import { readUiAssets, scriptJson, type UiAssets } from "./ui-server.js";

/** One expectation's verdict at the top of the report. */
export interface ReportVerdict {
  readonly description: string;
  readonly ok: boolean;
  readonly detail?: string;
}

export function verdictsOf(results: readonly ExpectationResult[]): ReportVerdict[] {
  return results.map((r) => ({
    description: `${r.name}: received ${r.received}, expected ${r.expected}`,
    ok: r.ok,
    ...(r.ok || r.detail === undefined ? {} : { detail: r.detail }),
  }));
}

const sha256 = (text: string) => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;

/** The report's policy: the inline script and style sheet by hash, images only as data: URIs, no network. */
export function reportCsp(assets: UiAssets): string {
  return `default-src 'none'; script-src ${sha256(assets.js)}; style-src ${sha256(assets.css)}; img-src data:; base-uri 'none'; form-action 'none'`;
}

/**
 * The app's code as it can sit inside <script>/<style>: an end tag in a
 * string literal would close the element early, so `</` before the tag name
 * becomes `<\/` (the same string in JavaScript, the same text in CSS).
 */
export function inlineAssets(assets: UiAssets): UiAssets {
  return {
    js: assets.js.replace(/<\/(script)/gi, "<\\/$1"),
    css: assets.css.replace(/<\/(style)/gi, "<\\/$1"),
  };
}

const CHUNK = 64 * 1024;

/** Writes a report to `path` piece by piece: begin, entry per message, end. */
export class ReportWriter {
  private readonly fd: number;
  private buffer: string[] = [];
  private buffered = 0;
  private count = 0;
  private media = 0;
  private lastId = 0;
  private readonly assets: UiAssets;

  constructor(
    readonly path: string,
    options: {
      readonly expectations: readonly ReportVerdict[] | null;
      readonly generatedAt?: string;
      readonly title?: string;
      readonly assets?: UiAssets;
    },
  ) {
    // Read before the file is created: no half report when the UI is not built.
    this.assets = inlineAssets(options.assets ?? readUiAssets());
    this.fd = openSync(path, "w");
    const title = (options.title ?? "sipmock report").replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
    this.push(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${reportCsp(this.assets)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="icon" href="data:,">
<style>${this.assets.css}</style>
</head>
<body>
<div id="app"></div>
<script id="sipmock-data" type="application/json">{"mode":"report","generatedAt":${scriptJson(options.generatedAt ?? new Date().toISOString())},"expectations":${scriptJson(options.expectations)},"entries":[`);
  }

  /** Appends one entry; ids that do not increase (two runs appended to one JSONL) are numbered on. */
  entry(e: JournalRecord): void {
    const id = e.id > this.lastId ? e.id : this.lastId + 1;
    this.lastId = id;
    const text = scriptJson(id === e.id ? e : { ...e, id });
    this.push(this.count++ === 0 ? text : `,${text}`);
    if (!isMessage(e)) this.media++;
  }

  get entries(): number {
    return this.count;
  }

  /** Entries of kind dtmf and media among them. */
  get mediaEntries(): number {
    return this.media;
  }

  end(): void {
    try {
      this.push(`]}</script>
<script>${this.assets.js}</script>
</body>
</html>
`);
      this.flush();
    } finally {
      closeSync(this.fd);
    }
  }

  /** Closes the file without finishing it (an error on the way). */
  abort(): void {
    closeSync(this.fd);
  }

  private push(text: string): void {
    this.buffer.push(text);
    this.buffered += text.length;
    if (this.buffered >= CHUNK) this.flush();
  }

  private flush(): void {
    if (this.buffer.length === 0) return;
    writeSync(this.fd, this.buffer.join(""));
    this.buffer = [];
    this.buffered = 0;
  }
}

/** A whole report from entries held in memory (serve --report). */
export function writeReport(
  path: string,
  entries: Iterable<JournalRecord>,
  expectations: readonly ReportVerdict[] | null,
  assets?: UiAssets,
): number {
  const w = new ReportWriter(path, { expectations, ...(assets ? { assets } : {}) });
  try {
    for (const e of entries) w.entry(e);
  } catch (err) {
    w.abort();
    throw err;
  }
  w.end();
  return w.entries;
}
