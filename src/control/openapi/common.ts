/** Pieces the admin API document's paths share: answers, parameters. */

export const problem = {
  description: "An error, as RFC 9457 problem details",
  content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
};

/** A parameter: its name, where it goes, its schema and what it means. */
export const param = (
  name: string,
  where: "path" | "query" | "header",
  schema: object,
  description?: string,
) => ({
  name,
  in: where,
  schema,
  ...(description !== undefined ? { description } : {}),
});

export const callIdParam = { name: "callId", in: "path", required: true, schema: { type: "string" } };
export const aorParam = {
  name: "aor",
  in: "path",
  required: true,
  description: "sip:user@domain, or a bare user name",
  schema: { type: "string" },
};
export const ok = (description: string, schema: object = { type: "object" }) => ({
  description,
  content: { "application/json": { schema } },
});
/** 200 with the mock's requests' answers, one Outcome per dialog or contact. */
export const outcomes = (description: string) =>
  ok(description, { type: "array", items: { $ref: "#/components/schemas/Outcome" } });
export const noContent = { description: "Done" };

const STRING = { type: "string" };
const INTEGER = { type: "integer" };

export const journalQuery = [
  param("method", "query", STRING, "Requests of this method and their responses"),
  param("code", "query", INTEGER, "Responses with this status code"),
  param("callId", "query", STRING),
  param("direction", "query", { type: "string", enum: ["in", "out"] }),
  param(
    "kind",
    "query",
    STRING,
    "Entries of these kinds, comma-separated: request, response, unparsable, dtmf, media (default: all; /calls groups SIP messages only)",
  ),
  param("since", "query", STRING, "ISO time or epoch milliseconds"),
  param("sinceId", "query", INTEGER, "Entries after this id (for following)"),
  param("limit", "query", INTEGER, "At most this many, the most recent"),
];

export const tokenQuery = param(
  "token",
  "query",
  STRING,
  "The admin token, for a browser (instead of Authorization: Bearer)",
);

/** A JSON request body of this schema; `required`: an operation that needs one. */
export const jsonBody = (schema: object, required = false) => ({
  ...(required ? { required: true } : {}),
  content: { "application/json": { schema } },
});
