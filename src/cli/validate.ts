/** `sipmock validate FILE...`: every problem as file:line:col, exit 0 or 1. */

import { readFileSync } from "node:fs";
import { formatProblem, parseScenario, type ScenarioProblem } from "../scenario/load.js";

export function runValidate(files: string[]): number {
  const problems: ScenarioProblem[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      problems.push({
        file,
        line: 1,
        col: 1,
        message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
        hint: "check the path",
      });
      continue;
    }
    const r = parseScenario(text, file);
    if (!r.ok) problems.push(...r.problems);
    else process.stdout.write(`${file}: ok (${r.source.definition.rules.length} rules)\n`);
  }
  for (const p of problems) process.stderr.write(`${formatProblem(p)}\n`);
  return problems.length === 0 ? 0 : 1;
}
