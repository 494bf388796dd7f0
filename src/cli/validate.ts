/** `sipmock validate FILE...`: every problem as file:line:col, exit 0 or 1. */
import type { ScenarioLimits } from "../scenario/bounds.js";
import { formatProblem, readScenarioFile, type ScenarioProblem } from "../scenario/load.js";

export function runValidate(files: string[], limits: ScenarioLimits = {}): number {
  const problems: ScenarioProblem[] = [];
  for (const file of files) {
    const r = readScenarioFile(file, process.env, limits);
    if (r.ok) process.stdout.write(`${file}: ok (${r.source.definition.rules.length} rules)\n`);
    else problems.push(...r.problems);
  }
  for (const p of problems) process.stderr.write(`${formatProblem(p)}\n`);
  return problems.length === 0 ? 0 : 1;
}
