/**
 * The keys allowed at a place of a scenario file, read from the zod schema
 * itself (src/scenario/schema.ts), for "unknown key" messages and their
 * did-you-mean: a key added to the schema is known here at once.
 */
import { z } from "zod";
import { ScenarioFile } from "../schema.js";
import type { Path } from "./problems.js";

type Schema = z.core.$ZodType;

/** The schema under the wrappers that do not change its keys (optional, default, nullable, pipe...). */
function unwrap(s: Schema): Schema {
  if (
    s instanceof z.ZodOptional ||
    s instanceof z.ZodExactOptional ||
    s instanceof z.ZodDefault ||
    s instanceof z.ZodPrefault ||
    s instanceof z.ZodNullable ||
    s instanceof z.ZodNonOptional ||
    s instanceof z.ZodReadonly ||
    s instanceof z.ZodCatch ||
    s instanceof z.ZodLazy
  )
    return unwrap(s.unwrap());
  if (s instanceof z.ZodPipe) return unwrap(s.in);
  return s;
}

/** The shapes a value may take: each option of a union (flattened), or the schema alone. */
function alternatives(s: Schema): Schema[] {
  const u = unwrap(s);
  return u instanceof z.ZodUnion ? u.options.flatMap(alternatives) : [u];
}

/** What one step of a path leads to: an object's property, a list's element, a record's value. */
function child(s: Schema, segment: string | number): Schema | undefined {
  if (s instanceof z.ZodObject)
    return typeof segment === "string" && Object.hasOwn(s.shape, segment) ? s.shape[segment] : undefined;
  if (s instanceof z.ZodArray) return typeof segment === "number" ? s.element : undefined;
  if (s instanceof z.ZodRecord) return s.valueType;
  return undefined;
}

/**
 * The keys an object at `path` may have (a zod issue's path), in the order
 * the schema declares them; where the place is a union (a step, a media
 * action), the keys of every object it may be.
 */
export function keysAt(path: Path, root: Schema = ScenarioFile): string[] {
  let here = alternatives(root);
  for (const segment of path) {
    here = here.flatMap((s) => {
      const next = child(s, segment);
      return next === undefined ? [] : alternatives(next);
    });
  }
  const keys = new Set<string>();
  for (const s of here) {
    if (s instanceof z.ZodObject) for (const key of s.keyof().options) keys.add(key);
  }
  return [...keys];
}
