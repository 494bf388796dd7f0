/**
 * The admin API's route table and its OpenAPI document name the same
 * operations: a 405's Allow (taken from the document) lists exactly the
 * methods a route serves, and no route is undocumented.
 */
import { describe, expect, it } from "vitest";
import { ROUTES } from "../../src/control/admin/routes.js";
import { OPENAPI } from "../../src/control/openapi.js";

describe("admin route table", () => {
  it("serves every documented operation and no other", () => {
    const routed = ROUTES.map((r) => `${r.method} ${r.path}`).sort();
    const documented = Object.entries(OPENAPI.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    expect(routed).toEqual(documented);
  });

  it("has one handler per operation", () => {
    const keys = ROUTES.map((r) => `${r.method} ${r.path}`);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
