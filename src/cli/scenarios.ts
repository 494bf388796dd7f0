/** `sipmock scenarios [NAME]`: the bundled scenarios, one line each (name, then what it does). */

import { bundledScenarios } from "../scenario/bundled.js";
import { didYouMean } from "../scenario/load.js";

export interface ScenariosFlags {
  json?: boolean;
  path?: boolean;
}

/** Exit code: 0, or 1 for a name that is not bundled. */
export function printScenarios(name: string | undefined, flags: ScenariosFlags): number {
  const all = bundledScenarios();
  const list = name === undefined ? all : all.filter((s) => s.name === name);
  if (list.length === 0) {
    const names = all.map((s) => s.name);
    const suggestion = didYouMean(name ?? "", names);
    process.stderr.write(
      `sipmock: no bundled scenario named "${name}"; ${suggestion ? `did you mean "${suggestion}"? ` : ""}bundled: ${names.join(", ")}\n`,
    );
    return 1;
  }
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
  } else if (name !== undefined && flags.path) {
    process.stdout.write(`${list[0]!.file}\n`);
  } else {
    const width = Math.max(...list.map((s) => s.name.length)) + 2;
    for (const s of list)
      process.stdout.write(`${s.name.padEnd(width)}${flags.path ? s.file : s.description}\n`);
  }
  return 0;
}
