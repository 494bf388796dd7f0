/** The admin API document's paths: every endpoint, its parameters, body and answers. */
import {
  aorParam,
  callIdParam,
  journalQuery,
  jsonBody,
  noContent,
  ok,
  outcomes,
  param,
  problem,
  tokenQuery,
} from "./common.js";

export const PATHS = {
  "/__admin/health": {
    get: { summary: "Liveness and listeners", security: [], responses: { "200": ok("Running") } },
  },
  "/__admin/journal": {
    get: {
      summary: "Journal entries (SIP messages, DTMF digits, calls' RTP statistics), filtered",
      parameters: journalQuery,
      responses: {
        "200": ok("Entries, oldest first", {
          type: "array",
          items: { $ref: "#/components/schemas/JournalRecord" },
        }),
        "400": problem,
      },
    },
    delete: { summary: "Clear the journal", responses: { "204": noContent } },
  },
  "/__admin/calls": {
    get: {
      summary: "Messages grouped by Call-ID",
      parameters: journalQuery,
      responses: { "200": ok("Calls", { type: "array" }), "400": problem },
    },
  },
  "/__admin/verify": {
    post: {
      summary: "Verify a count of requests matching a pattern",
      requestBody: jsonBody({
        type: "object",
        properties: {
          match: { type: "object" },
          times: { type: "integer" },
          atLeast: { type: "integer" },
          atMost: { type: "integer" },
        },
      }),
      responses: { "200": ok("The count holds"), "409": problem, "400": problem },
    },
  },
  "/__admin/scenario": {
    get: {
      summary: "The scenario: name, state, rules with counts, expectations",
      responses: { "200": ok("Scenario") },
    },
    put: {
      summary:
        "Replace the scenario (YAML or JSON); validated and swapped atomically, the old one kept when invalid",
      requestBody: {
        content: {
          "application/yaml": { schema: { type: "string" } },
          "application/json": { schema: { type: "object" } },
        },
      },
      responses: { "200": ok("Swapped"), "400": problem },
    },
  },
  "/__admin/scenario/reset": {
    post: {
      summary: "Scenario state, rule counters and sequences back to start",
      responses: { "204": noContent },
    },
  },
  "/__admin/expectations": {
    get: {
      summary: "The scenario's expectations checked against the journal",
      responses: { "200": ok("Results", { type: "array" }) },
    },
  },
  "/__admin/overrides": {
    get: { summary: "Overrides, newest first", responses: { "200": ok("Overrides", { type: "array" }) } },
    post: {
      summary: "Add an override",
      requestBody: jsonBody({ $ref: "#/components/schemas/Override" }),
      responses: { "201": ok("Added"), "400": problem },
    },
    delete: { summary: "Remove every override", responses: { "204": noContent } },
  },
  "/__admin/overrides/{id}": {
    delete: {
      summary: "Remove one override",
      parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
      responses: { "204": noContent, "404": problem },
    },
  },
  "/__admin/registrations": {
    get: {
      summary: "Registrar bindings per address-of-record",
      responses: { "200": ok("Bindings", { type: "array" }) },
    },
  },
  "/__admin/media": {
    get: {
      summary: "Every call's media: DTMF digits received (RFC 4733, SIP INFO) and RTP statistics each way",
      responses: {
        "200": ok("Per call: callId, dtmf, digits, stats", { type: "array", items: { type: "object" } }),
      },
    },
  },
  "/__admin/calls/{callId}/media": {
    get: {
      summary: "One call's media: digits received and packets/octets/loss/jitter each way",
      parameters: [callIdParam],
      responses: { "200": ok("callId, dtmf, digits, stats"), "404": problem },
    },
  },
  "/__admin/calls/{callId}/dtmf": {
    post: {
      summary: "The mock sends DTMF digits as RFC 4733 telephone-events in the call's RTP",
      parameters: [callIdParam],
      requestBody: jsonBody(
        {
          type: "object",
          required: ["digits"],
          properties: { digits: { type: "string", pattern: "^[0-9*#A-Da-d]+$", example: "123#" } },
        },
        true,
      ),
      responses: { "200": ok("Digits sent"), "400": problem, "409": problem },
    },
  },
  "/__admin/verify/dtmf": {
    post: {
      summary: "409 unless a call (or the callId given) received exactly these DTMF digits",
      requestBody: jsonBody(
        {
          type: "object",
          required: ["digits"],
          properties: { digits: { type: "string", example: "1234#" }, callId: { type: "string" } },
        },
        true,
      ),
      responses: { "200": ok("Verified"), "400": problem, "409": problem },
    },
  },
  "/__admin/calls/{callId}/bye": {
    post: {
      summary: "The mock hangs up: BYE in every dialog of this call",
      parameters: [callIdParam],
      responses: { "200": ok("BYEs sent"), "404": problem },
    },
  },
  "/__admin/calls/{callId}/reinvite": {
    post: {
      summary:
        "The mock re-INVITEs with a new SDP offer: direction sendonly or inactive holds, sendrecv resumes; waits for the answer",
      parameters: [callIdParam],
      requestBody: jsonBody({
        type: "object",
        properties: {
          direction: { enum: ["sendrecv", "sendonly", "recvonly", "inactive"] },
          codecs: {
            type: "array",
            items: { enum: ["PCMU", "PCMA", "G722", "opus"] },
            description: "The codecs offered, in order (a codec change)",
          },
        },
      }),
      responses: {
        "200": outcomes("Final answers, one per dialog"),
        "400": problem,
        "404": problem,
        "409": problem,
      },
    },
  },
  "/__admin/calls/{callId}/update": {
    post: {
      summary: "The mock sends UPDATE (RFC 3311) without a body in every dialog of the call",
      parameters: [callIdParam],
      responses: {
        "200": outcomes("Final answers"),
        "404": problem,
      },
    },
  },
  "/__admin/registrations/{aor}/call": {
    post: {
      summary:
        "The mock calls a registered client: INVITE with an SDP offer to its latest contact, at that Contact (RFC 3261 10.3, RFC 3263), or along its Path (RFC 3327)",
      parameters: [aorParam],
      requestBody: jsonBody({
        type: "object",
        properties: {
          from: { type: "string", description: "From user or URI" },
          cancelAfter: {
            type: ["string", "number"],
            description: 'CANCEL if unanswered after this ("5s" or ms)',
          },
          hangUpAfter: { type: ["string", "number"], description: "BYE this long after the answer" },
        },
      }),
      responses: {
        "200": ok("The final answer, Call-ID and provisional codes"),
        "400": problem,
        "404": problem,
      },
    },
  },
  "/__admin/registrations/{aor}/notify": {
    post: {
      summary:
        "Message waiting (RFC 3842): NOTIFY message-summary in the user's subscriptions, or unsolicited to its contacts",
      parameters: [aorParam],
      requestBody: jsonBody({
        type: "object",
        required: ["waiting"],
        properties: {
          waiting: { type: "boolean" },
          new: { type: "integer", minimum: 0 },
          old: { type: "integer", minimum: 0 },
          urgentNew: { type: "integer", minimum: 0 },
          urgentOld: { type: "integer", minimum: 0 },
        },
      }),
      responses: {
        "200": outcomes("Answers per contact"),
        "400": problem,
        "404": problem,
      },
    },
  },
  "/__admin/registrations/{aor}/options": {
    post: {
      summary: "OPTIONS ping to every registered contact of the AOR",
      parameters: [aorParam],
      responses: {
        "200": outcomes("Answers per contact"),
        "404": problem,
      },
    },
  },
  "/__admin/dialogs": {
    get: {
      summary: "Dialogs alive: Call-ID, local and remote tag, whether the 2xx was acknowledged",
      responses: { "200": ok("Dialogs", { type: "array" }) },
    },
  },
  "/__admin/reset": {
    post: {
      summary: "Clear the journal and overrides, reset the scenario",
      responses: { "204": noContent },
    },
  },
  "/__admin/openapi.json": {
    get: { summary: "This document", security: [], responses: { "200": ok("OpenAPI 3.1") } },
  },
  "/__admin/ui": {
    get: {
      summary: "The web UI: calls, registrations, ladder diagrams, a control panel",
      description:
        "An HTML page (its script and style sheet from /__admin/ui/app.js and app.css) under a strict Content-Security-Policy. A browser cannot send a header on a page load: `?token=TOKEN` is accepted here instead of Authorization.",
      parameters: [tokenQuery],
      responses: {
        "200": { description: "The page", content: { "text/html": { schema: { type: "string" } } } },
        "503": problem,
      },
    },
  },
  "/__admin/ui/app.js": {
    get: {
      summary: "The web UI's script (static, no token needed)",
      security: [],
      responses: {
        "200": {
          description: "JavaScript",
          content: { "text/javascript": { schema: { type: "string" } } },
        },
        "503": problem,
      },
    },
  },
  "/__admin/ui/app.css": {
    get: {
      summary: "The web UI's style sheet (static, no token needed)",
      security: [],
      responses: {
        "200": { description: "CSS", content: { "text/css": { schema: { type: "string" } } } },
        "503": problem,
      },
    },
  },
  "/__admin/events": {
    get: {
      summary: "New journal entries as Server-Sent Events",
      description:
        "`event: entry` with a JournalRecord as data (its id as the event id) for every message, DTMF digit and call media summary from now on (narrow on kind), `event: reset` when the journal is cleared, a comment every 15 s. A reconnecting browser's Last-Event-ID (or `?sinceId=`) replays the entries after it first. A client that stops reading is dropped. Takes `?token=TOKEN` as well as Authorization (an EventSource cannot send headers).",
      parameters: [
        tokenQuery,
        param("sinceId", "query", { type: "integer" }, "Replay the journal's entries after this id first"),
        param(
          "Last-Event-ID",
          "header",
          { type: "integer" },
          "Sent by a reconnecting EventSource: as sinceId",
        ),
      ],
      responses: {
        "200": {
          description: "The stream (it stays open)",
          content: { "text/event-stream": { schema: { type: "string" } } },
        },
        "400": problem,
      },
    },
  },
  "/metrics": {
    get: {
      summary: "Prometheus metrics",
      responses: {
        "200": {
          description: "Text exposition format",
          content: { "text/plain": { schema: { type: "string" } } },
        },
      },
    },
  },
} as const;
