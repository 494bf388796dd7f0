/** `sipmock report journal.jsonl -o report.html`: the JSONL `serve --journal` wrote, as one offline HTML file. */
import { createReadStream, rmSync } from "node:fs";
import { createInterface } from "node:readline";
import type { JournalRecord } from "../control/journal.js";
import { ReportWriter } from "../control/report.js";
import { UiNotBuiltError } from "../control/ui-server.js";

export interface ReportFlags {
  output: string;
}

class JournalLineError extends Error {}

/** Writes the report; returns the exit code (1: unreadable or not a journal, nothing half-written kept). */
export async function runReport(input: string, flags: ReportFlags): Promise<number> {
  let writer: ReportWriter;
  try {
    writer = new ReportWriter(flags.output, { expectations: null, title: `sipmock report: ${input}` });
  } catch (e) {
    const why =
      e instanceof UiNotBuiltError ? e.message : `cannot write ${flags.output}: ${(e as Error).message}`;
    process.stderr.write(`sipmock: ${why}\n`);
    return 1;
  }
  try {
    const lines = createInterface({
      input: createReadStream(input, "utf8"),
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    let n = 0;
    for await (const line of lines) {
      n++;
      if (line.trim() === "") continue;
      writer.entry(parseEntry(line, `${input}:${n}`));
    }
    writer.end();
  } catch (e) {
    writer.abort();
    rmSync(flags.output, { force: true });
    const message =
      e instanceof JournalLineError ? e.message : `sipmock: cannot read ${input}: ${(e as Error).message}`;
    process.stderr.write(`${message}\n`);
    return 1;
  }
  const media = writer.mediaEntries;
  const extra = media > 0 ? `, ${media} media entr${media === 1 ? "y" : "ies"}` : "";
  process.stderr.write(`sipmock: wrote ${flags.output} (${messages(writer.entries - media)}${extra})\n`);
  return 0;
}

const FIX = "fix: give the JSONL file serve --journal wrote (one journal entry per line)";

function parseEntry(line: string, where: string): JournalRecord {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    const at = /position (\d+)/.exec((e as Error).message);
    const col = at ? Number(at[1]) + 1 : 1;
    throw new JournalLineError(`${where}:${col}: not JSON (${(e as Error).message}); ${FIX}`);
  }
  const o = value as Record<string, unknown> | null;
  // A call's DTMF digit or media statistics (kind dtmf, media) carries no message text.
  const media = o !== null && typeof o === "object" && (o.kind === "dtmf" || o.kind === "media");
  const problem =
    o === null || typeof o !== "object" || Array.isArray(o)
      ? "not a JSON object"
      : typeof o.id !== "number" || !Number.isInteger(o.id)
        ? "no integer id"
        : media
          ? typeof o.callId !== "string"
            ? `no callId in a ${String(o.kind)} entry`
            : typeof o.time !== "string"
              ? "no time"
              : undefined
          : typeof o.raw !== "string"
            ? "no raw message text"
            : o.direction !== "in" && o.direction !== "out"
              ? 'direction is not "in" or "out"'
              : typeof o.time !== "string"
                ? "no time"
                : undefined;
  if (problem) throw new JournalLineError(`${where}:1: not a journal entry: ${problem}; ${FIX}`);
  return o as unknown as JournalRecord;
}

function messages(n: number): string {
  return `${n} message${n === 1 ? "" : "s"}`;
}
