#!/usr/bin/env node
// Regenerates the README's response-code table from src/catalog (built into
// dist/). test/unit/catalog.test.ts fails when the README is out of date.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { formatCatalogMarkdown } from "../dist/catalog/format.js";
import { CATALOG } from "../dist/catalog/index.js";

const readme = fileURLToPath(new URL("../README.md", import.meta.url));
const START = "<!-- catalog:start -->";
const END = "<!-- catalog:end -->";
const text = readFileSync(readme, "utf8");
const from = text.indexOf(START);
const to = text.indexOf(END);
if (from < 0 || to < from) {
  console.error(`README.md: markers ${START} ... ${END} not found`);
  process.exit(1);
}
const next = `${text.slice(0, from + START.length)}\n${formatCatalogMarkdown(CATALOG)}\n${text.slice(to)}`;
writeFileSync(readme, next);
console.log(`README.md: catalogue table updated (${CATALOG.length} codes)`);
