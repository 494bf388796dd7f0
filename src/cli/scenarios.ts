/** `sipmock scenarios`: the bundled scenarios, one line each (name, then what it does). */
import { bundledScenarios } from "../scenario/bundled.js";

export function printScenarios(flags: { json?: boolean; path?: boolean }): void {
  const list = bundledScenarios();
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
    return;
  }
  const width = Math.max(...list.map((s) => s.name.length)) + 2;
  for (const s of list) {
    const what = flags.path ? s.file : s.description;
    process.stdout.write(`${s.name.padEnd(width)}${what}\n`);
  }
}
