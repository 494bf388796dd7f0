/** Renderings of the catalogue: terminal table, JSON for machines, Markdown for the README. */
import type { HeaderRule, ResponseCodeInfo } from "./types.js";

export interface CodeJson {
  readonly code: number;
  readonly reason: string;
  readonly rfc: string;
  readonly section: string;
  readonly class: string;
  readonly status: ResponseCodeInfo["status"];
  readonly description: string;
  readonly requiredHeaders: readonly string[];
  readonly recommendedHeaders: readonly string[];
  /** Headers the builder adds when a scenario names none: required plus recommended-by-default. */
  readonly defaultHeaders: Readonly<Record<string, string>>;
  readonly note?: string;
}

export function toCodesJson(codes: readonly ResponseCodeInfo[]): CodeJson[] {
  return codes.map((c) => ({
    code: c.code,
    reason: c.reason,
    rfc: c.rfc,
    section: c.section,
    class: `${c.class}xx`,
    status: c.status,
    description: c.description,
    requiredHeaders: c.required.map((h) => h.name),
    recommendedHeaders: c.recommended.map((h) => h.name),
    defaultHeaders: Object.fromEntries(
      [...c.required, ...c.recommended.filter((h) => h.byDefault)].map((h) => [h.name, h.value]),
    ),
    ...(c.note ? { note: c.note } : {}),
  }));
}

function headerList(c: ResponseCodeInfo): string {
  const req = c.required.map((h) => h.name);
  const rec = c.recommended.map((h: HeaderRule) => `${h.name}${h.byDefault ? "*" : "?"}`);
  return [...req, ...rec].join(", ");
}

function source(c: ResponseCodeInfo): string {
  return c.section ? `${c.rfc} ${c.section}` : c.rfc;
}

function statusMark(c: ResponseCodeInfo): string {
  return c.status === "current" ? "" : ` (${c.status})`;
}

/** A fixed-width table for the terminal. */
export function formatCodesTable(codes: readonly ResponseCodeInfo[]): string {
  const rows = codes.map((c) => [String(c.code), `${c.reason}${statusMark(c)}`, source(c), headerList(c)]);
  const head = ["CODE", "REASON", "DEFINED IN", "HEADERS (required; * added by default, ? optional)"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(head), ...rows.map(line)].join("\n");
}

/** The README's catalogue section (between the catalog markers), generated. */
export function formatCatalogMarkdown(codes: readonly ResponseCodeInfo[]): string {
  const lines = [
    "| Code | Reason phrase | Defined in | Status | Headers the builder adds |",
    "|---|---|---|---|---|",
  ];
  for (const c of codes) {
    const headers = [
      ...c.required.map((h) => `${h.name} (required)`),
      ...c.recommended.filter((h) => h.byDefault).map((h) => `${h.name} (default)`),
      ...c.recommended.filter((h) => !h.byDefault).map((h) => `${h.name} (optional)`),
    ];
    lines.push(`| ${c.code} | ${c.reason} | ${source(c)} | ${c.status} | ${headers.join(", ") || "–"} |`);
  }
  return lines.join("\n");
}
