/** `sipmock codes`: the catalogue as a table, JSON or Markdown. */

import { formatCatalogMarkdown, formatCodesTable, toCodesJson } from "../catalog/format.js";
import { CATALOG, codesInClass } from "../catalog/index.js";

export function printCodes(flags: { class?: number; json?: boolean; markdown?: boolean }): void {
  const codes = flags.class ? codesInClass(flags.class as 1 | 2 | 3 | 4 | 5 | 6) : CATALOG;
  if (flags.json) process.stdout.write(`${JSON.stringify(toCodesJson(codes), null, 2)}\n`);
  else if (flags.markdown) process.stdout.write(`${formatCatalogMarkdown(codes)}\n`);
  else process.stdout.write(`${formatCodesTable(codes)}\n`);
}
