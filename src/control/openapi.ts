/** The OpenAPI 3.1 description of the admin HTTP API, served at /__admin/openapi.json. */
import { VERSION } from "../version.js";
import { problem } from "./openapi/common.js";
import { PATHS } from "./openapi/paths.js";
import { SCHEMAS } from "./openapi/schemas.js";

const DOC = {
  openapi: "3.1.0",
  info: {
    title: "sipmock admin API",
    version: VERSION,
    description:
      "Control a running sipmock: journal, calls, scenario, overrides, registrations, metrics. Every call but /__admin/health and /__admin/openapi.json needs `Authorization: Bearer TOKEN` when the server was started with --admin-token. Cross-origin requests, foreign Host names and bodies other than JSON or YAML are refused (403, 415).",
  },
  components: {
    securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
    schemas: SCHEMAS,
  },
  security: [{ bearer: [] }],
  paths: PATHS,
} as const;

type Operation = { security?: readonly unknown[]; requestBody?: unknown; responses: Record<string, unknown> };

/** Every operation that needs the token documents its 401; those with a body, the 413. */
function complete(doc: typeof DOC) {
  const paths = JSON.parse(JSON.stringify(doc.paths)) as Record<string, Record<string, Operation>>;
  for (const ops of Object.values(paths)) {
    for (const op of Object.values(ops)) {
      if (!(op.security && op.security.length === 0)) op.responses["401"] = problem;
      if (op.requestBody) op.responses["413"] = problem;
    }
  }
  return { ...doc, paths };
}

export const OPENAPI = complete(DOC);
