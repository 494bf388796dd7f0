#!/usr/bin/env node
// Writes schema/scenario.schema.json from the zod schema in src/scenario/schema.ts
// (built into dist/). test/unit/scenario-load.test.ts fails when it is out of date.
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { scenarioJsonSchema } from "../dist/scenario/schema.js";

const out = fileURLToPath(new URL("../schema/scenario.schema.json", import.meta.url));
writeFileSync(out, `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`);
console.log(`wrote ${out}`);
