/**
 * The scenario file format, defined once: validation (with zod), the
 * TypeScript types of a loaded file, and the JSON Schema published for
 * editors (schema/scenario.schema.json, `npm run schema`).
 *
 * Vocabulary follows WireMock: rules (stubs) with request matching, scenario
 * state, faults; answers follow RFC 3261 (provisional steps, one final).
 */
import { z } from "zod";

const DURATION = /^\d+(\.\d+)?(ms|s|m)$/;

/** Milliseconds as a number, or "250ms", "2s", "1.5s", "1m". */
export const Duration = z
  .union([z.number().int().min(0), z.string().regex(DURATION, 'a duration like "500ms", "2s" or "1m"')])
  .meta({ description: 'Milliseconds, or a duration like "500ms", "2s", "1m".' });

export const DelaySpec = z.union([
  Duration,
  z
    .strictObject({ min: Duration, max: Duration })
    .meta({ description: "A random delay, uniformly between min and max (jitter)." }),
]);

/**
 * A string matcher. A plain string is a regular expression (JavaScript
 * syntax, unanchored: write ^...$ for a whole-value match).
 */
export const StringMatch = z.union([
  z.string().meta({ description: "A regular expression (unanchored)." }),
  z
    .strictObject({
      equals: z.string().optional(),
      equalsIgnoreCase: z.string().optional(),
      contains: z.string().optional(),
      regex: z.string().optional(),
      absent: z.boolean().optional(),
    })
    .meta({
      description: "equals / equalsIgnoreCase / contains / regex; absent: true matches a missing value.",
    }),
]);

export const AddressMatch = z.strictObject({
  user: StringMatch.optional(),
  host: StringMatch.optional(),
  uri: StringMatch.optional().meta({ description: "The whole URI, as written in the message." }),
  displayName: StringMatch.optional(),
});

export const HeaderMatch = z.union([
  StringMatch,
  z.strictObject({ present: z.boolean() }).meta({ description: "present: true / false." }),
]);

export const METHOD = /^[A-Za-z0-9.!%*_+`'~-]+$/;
const Method = z.string().regex(METHOD, "a SIP method token such as INVITE");
const TRANSPORTS = ["udp", "tcp", "tls", "ws", "wss"] as const;

export const Match = z
  .strictObject({
    method: z.union([Method, z.array(Method).min(1)]).optional(),
    requestUri: AddressMatch.optional(),
    to: AddressMatch.optional(),
    from: AddressMatch.optional(),
    headers: z.record(z.string(), HeaderMatch).optional(),
    body: z
      .strictObject({
        contains: z.string().optional(),
        regex: z.string().optional(),
        sdpCodec: z
          .string()
          .optional()
          .meta({ description: "The SDP offers this codec (rtpmap encoding name)." }),
        empty: z.boolean().optional(),
      })
      .optional(),
    transport: z.union([z.enum(TRANSPORTS), z.array(z.enum(TRANSPORTS)).min(1)]).optional(),
    source: z
      .union([z.string(), z.array(z.string()).min(1)])
      .optional()
      .meta({ description: "Source address or CIDR (127.0.0.1, 10.0.0.0/8, ::1, fd00::/8)." }),
    dtmf: StringMatch.optional().meta({
      description:
        'The DTMF digits received so far in this call (RFC 4733 or SIP INFO), e.g. "^1" or { equals: "1234#" }. A rule with dtmf is also tried each time a digit arrives while the INVITE is unanswered (an IVR: "press 1 for 486").',
    }),
  })
  .meta({ description: "Every condition given must hold. No match: every request." });

export const StatusCode = z
  .number()
  .int()
  .min(100, "a SIP status code is 100..699")
  .max(699, "a SIP status code is 100..699");

const HeaderValue = z.union([z.string(), z.number()]);
export const HeaderMap = z
  .record(z.string(), HeaderValue)
  .meta({ description: "Headers to add, or to replace when the catalogue or builder writes the same name." });

export const Body = z.union([
  z.literal("sdp").meta({ description: "The generated SDP answer to the request's offer (or an offer)." }),
  z
    .string()
    .meta({ description: "Inline body text (Content-Type: text/plain unless contentType is given)." }),
  z.strictObject({
    content: z.string().optional(),
    file: z.string().optional().meta({ description: "Path relative to the scenario file." }),
    contentType: z.string().optional(),
  }),
]);

export const Fault = z
  .strictObject({
    drop: z
      .union([z.boolean(), z.number().min(0).max(1)])
      .optional()
      .meta({ description: "No answer at all (true, or a probability 0..1)." }),
    afterRetransmissions: z
      .number()
      .int()
      .min(1)
      .optional()
      .meta({ description: "Ignore the request until this many retransmissions of it have arrived." }),
    duplicate: z
      .number()
      .int()
      .min(1)
      .max(10)
      .optional()
      .meta({ description: "Send the final response this many extra times." }),
    noRetransmit: z
      .boolean()
      .optional()
      .meta({ description: "Never retransmit the final response (Timer G off)." }),
    contentLength: z
      .union([z.number().int().min(0), z.literal("missing")])
      .optional()
      .meta({ description: "Write this Content-Length instead of the true one, or leave it out." }),
    malformed: z.enum(["start-line", "header"]).optional(),
    truncate: z.number().int().min(1).optional().meta({ description: "Send only the first N octets." }),
    garbage: z
      .number()
      .int()
      .min(1)
      .max(65000)
      .optional()
      .meta({ description: "Send N random octets instead." }),
    tcp: z
      .enum(["close", "reset"])
      .optional()
      .meta({ description: "After the answer, close or reset the connection." }),
    fromOtherPort: z
      .boolean()
      .optional()
      .meta({ description: "Send the answer from another source port (UDP)." }),
    omitHeaders: z
      .array(z.string())
      .optional()
      .meta({ description: "Leave out these headers even when the catalogue requires them." }),
  })
  .meta({ description: "Deliberate protocol faults (see README: Faults)." });

const answerFields = {
  reason: z.string().optional(),
  headers: HeaderMap.optional(),
  removeHeaders: z.array(z.string()).optional(),
  body: Body.optional(),
  delay: DelaySpec.optional().meta({ description: "Wait this long before the final answer." }),
  fault: Fault.optional(),
};

/** One answer: a final (or provisional, for ringing) response. */
export const Answer = z.strictObject({ respond: StatusCode, ...answerFields });

export const Step = z.union([
  z.strictObject({
    send: StatusCode.meta({ description: "A provisional response (101..199) to send before the final one." }),
    reason: z.string().optional(),
    headers: HeaderMap.optional(),
    body: Body.optional(),
  }),
  z.strictObject({ wait: DelaySpec }),
  Answer,
]);

export const SCOPES = ["global", "call", "from", "aor", "source"] as const;

export const Sequence = z.union([
  z.array(Answer).min(1),
  z.strictObject({
    scope: z.enum(SCOPES).optional().meta({
      description:
        "Whose answers are counted: global (default), per Call-ID, From URI, To AOR or source address.",
    }),
    after: z
      .enum(["stick", "cycle"])
      .optional()
      .meta({ description: "At the end: repeat the last answer (stick, default) or start again (cycle)." }),
    answers: z.array(Answer).min(1),
  }),
]);

const TONE_PRESETS = ["ringback", "busy", "1khz"] as const;

export const MediaAction = z
  .union([
    z
      .enum(["echo", "silence"])
      .meta({ description: "echo: send back what arrives; silence: comfort silence." }),
    z.strictObject({
      tone: z.union([
        z.enum(TONE_PRESETS).meta({
          description:
            "ringback: 425 Hz 1 s on 4 s off; busy: 425 Hz 0.5 s on 0.5 s off; 1khz: 1000 Hz steady.",
        }),
        z.strictObject({
          frequencies: z.array(z.number().min(20).max(3900)).min(1).max(4),
          on: Duration.optional().meta({ description: "Tone on per cadence (default: steady)." }),
          off: Duration.optional().meta({ description: "Silence per cadence (default 0)." }),
        }),
      ]),
    }),
    z.strictObject({
      play: z
        .string()
        .min(1)
        .meta({ description: "A PCM WAV file (8 or 16 kHz, 16 bit), relative to the scenario file." }),
      loop: z.boolean().optional(),
    }),
  ])
  .meta({ description: "What the mock sends as RTP: echo, silence, a tone or a WAV file." });

export const MediaFaults = z
  .strictObject({
    rtpTimeout: Duration.optional().meta({ description: "Stop sending RTP this long after it started." }),
    oneWay: z
      .enum(["no-send", "no-receive"])
      .optional()
      .meta({ description: "One-way audio: the mock sends no RTP, or ignores what arrives." }),
    wrongPayloadType: z
      .number()
      .int()
      .min(0)
      .max(127)
      .optional()
      .meta({ description: "Send audio with this payload type." }),
    ssrcChangeAfter: Duration.optional().meta({ description: "Change the SSRC this long after the start." }),
    loss: z
      .number()
      .min(0)
      .max(100)
      .optional()
      .meta({ description: "Drop this percentage of outgoing packets." }),
    jitter: Duration.optional().meta({ description: "Delay outgoing packets randomly by up to this much." }),
    firstPacketDelay: Duration.optional().meta({ description: "Send the first packet this late." }),
  })
  .meta({ description: "Media faults a client should survive (see README: Media)." });

export const Media = z
  .union([
    MediaAction,
    z.strictObject({
      early: MediaAction.optional().meta({ description: "While the call is in early media (183 with SDP)." }),
      answered: MediaAction.optional().meta({ description: "Once answered (2xx). Default silence." }),
      record: z.string().min(1).optional().meta({
        description:
          'Record what the peer sends to this WAV file ({callId} is replaced), e.g. "call-{callId}.wav".',
      }),
      faults: MediaFaults.optional(),
    }),
  ])
  .meta({
    description:
      "RTP for the calls this rule answers: an action for the whole call, or early/answered/record/faults.",
  });

/** Requests the mock sends after a rule answered (its `then:` list). */
export const MOCK_REQUESTS = ["BYE", "re-INVITE", "UPDATE", "INVITE", "NOTIFY", "OPTIONS", "DTMF"] as const;
export const IN_DIALOG_REQUESTS = ["BYE", "re-INVITE", "UPDATE"] as const;

export const FollowUp = z
  .strictObject({
    after: Duration.optional().meta({
      description: "When, counted from the rule's final answer (default 0).",
    }),
    send: z.enum(MOCK_REQUESTS).meta({
      description:
        "BYE, re-INVITE, UPDATE: in the dialog the rule's 2xx to INVITE made. INVITE, NOTIFY, OPTIONS: to the registered contacts of the request's To (the AOR).",
    }),
    direction: z.enum(["sendrecv", "sendonly", "recvonly", "inactive"]).optional().meta({
      description: "re-INVITE: the offer's direction (sendonly or inactive holds, sendrecv resumes).",
    }),
    codecs: z
      .array(z.enum(["PCMU", "PCMA", "G722", "opus"]))
      .min(1)
      .optional()
      .meta({ description: "re-INVITE: the codecs offered, in order (a codec change)." }),
    from: z.string().optional().meta({ description: "INVITE: From user or URI." }),
    cancelAfter: Duration.optional().meta({ description: "INVITE: CANCEL when unanswered after this." }),
    hangUpAfter: Duration.optional().meta({ description: "INVITE: BYE this long after the answer." }),
    messagesWaiting: z
      .boolean()
      .optional()
      .meta({ description: "NOTIFY: Messages-Waiting yes/no (RFC 3842)." }),
    newMessages: z.number().int().min(0).optional().meta({ description: "NOTIFY: new voice messages." }),
    oldMessages: z.number().int().min(0).optional().meta({ description: "NOTIFY: old voice messages." }),
    digits: z
      .string()
      .regex(/^[0-9*#A-Da-d]+$/, "DTMF digits 0-9, *, #, A-D")
      .optional()
      .meta({ description: "DTMF: the digits sent as RFC 4733 telephone-events in the call's RTP." }),
  })
  .meta({ description: "A request the mock sends after the rule's answer (a scripted call event)." });

export const Rule = z.strictObject({
  name: z.string().optional(),
  match: Match.optional(),
  times: z
    .number()
    .int()
    .min(1)
    .optional()
    .meta({ description: "The rule applies this many times, then is skipped." }),
  probability: z
    .number()
    .min(0)
    .max(1)
    .optional()
    .meta({ description: "The rule applies to this fraction of matches." }),
  requireState: z.string().optional().meta({ description: "The rule applies only in this scenario state." }),
  setState: z.string().optional().meta({ description: "The scenario state after the rule applied." }),
  respond: StatusCode.optional(),
  ...answerFields,
  steps: z.array(Step).min(1).optional(),
  sequence: Sequence.optional(),
  dialACode: z
    .literal(true)
    .optional()
    .meta({ description: "Answer the code named by the Request-URI user (sip:486@host -> 486)." }),
  default: z.literal(true).optional().meta({ description: "Let the built-in behaviour answer." }),
  media: Media.optional(),
  // biome-ignore lint/suspicious/noThenProperty: the YAML key "then:", plain data, never awaited
  then: z.array(FollowUp).min(1).optional().meta({
    description: "Requests the mock sends after this rule answered: BYE after talk time, hold, MWI...",
  }),
});

/** Digest authentication (RFC 3261 22, RFC 7616, RFC 8760) done by the mock before any rule. */
export const Auth = z
  .strictObject({
    realm: z.string().optional().meta({ description: 'Default "sipmock".' }),
    users: z.record(z.string(), z.string()).meta({ description: "username: password" }),
    algorithms: z
      .array(z.enum(["SHA-256", "SHA-512-256", "MD5", "SHA-256-sess", "SHA-512-256-sess", "MD5-sess"]))
      .min(1)
      .optional()
      .meta({
        description:
          "Challenges offered, one each, in preference order (RFC 8760). Default [MD5], as PBXs send; e.g. [SHA-256, MD5] to offer SHA-256 first.",
      }),
    qop: z
      .array(z.enum(["auth", "auth-int"]))
      .optional()
      .meta({ description: "Default [auth]; [] for none." }),
    methods: z
      .array(z.string().regex(METHOD))
      .min(1)
      .optional()
      .meta({ description: "Methods challenged. Default [REGISTER, INVITE]." }),
    proxy: z
      .boolean()
      .optional()
      .meta({ description: "Answer 407 with Proxy-Authenticate, as a proxy would." }),
    nonceTtl: Duration.optional().meta({
      description: 'How long a nonce is valid (then stale=true). Default "30s".',
    }),
    wrongPassword: z
      .enum(["forbidden", "challenge"])
      .optional()
      .meta({ description: "A wrong password gets 403 (default) or a fresh challenge." }),
  })
  .meta({ description: "Requests of these methods must carry valid Digest credentials, or get challenged." });

/** A CI verdict: how many requests matching `match` must have arrived (`sipmock serve --until-expectations`). */
export const Expectation = z
  .strictObject({
    name: z.string().optional(),
    match: Match,
    times: z.number().int().min(0).optional().meta({ description: "Exactly this many." }),
    atLeast: z.number().int().min(0).optional(),
    atMost: z.number().int().min(0).optional(),
    within: Duration.optional().meta({
      description:
        "Only requests that arrived within this time of the first request the mock received count.",
    }),
  })
  .meta({ description: "Default: at least one matching request." });

/** The mailbox a message-summary subscription is told about first (RFC 3842 5.2). */
export const MessageSummary = z
  .strictObject({
    messagesWaiting: z.boolean().meta({ description: "Messages-Waiting: yes / no." }),
    newMessages: z.number().int().min(0).optional(),
    oldMessages: z.number().int().min(0).optional(),
    urgentNew: z.number().int().min(0).optional(),
    urgentOld: z.number().int().min(0).optional(),
  })
  .meta({
    description:
      "The body of the first NOTIFY of every message-summary subscription (default: no messages waiting).",
  });

export const ScenarioFile = z.strictObject({
  $schema: z.string().optional(),
  name: z.string().optional(),
  description: z.string().optional(),
  seed: z
    .number()
    .int()
    .optional()
    .meta({ description: "Seed for probabilities and random values (reproducible runs)." }),
  initialState: z
    .string()
    .optional()
    .meta({ description: 'The scenario state at start and after reset (default "Started").' }),
  auth: Auth.optional(),
  messageSummary: MessageSummary.optional(),
  eventPackages: z
    .array(z.enum(["message-summary", "presence", "dialog"]))
    .optional()
    .meta({
      description:
        "RFC 6665: the event packages SUBSCRIBE and PUBLISH accept (default all three); others get 489 with Allow-Events.",
    }),
  reliableProvisionals: z.enum(["required", "supported", "never"]).optional().meta({
    description:
      "RFC 3262: send 18x reliably (Require: 100rel, RSeq, until PRACK) when the INVITE requires 100rel (default), also when it only supports it, or never (then Require: 100rel gets 420).",
  }),
  mediaPort: z.number().int().min(1).max(65535).optional().meta({
    description:
      "Signalling only: the SDP names this RTP port (m=audio; a second stream gets +2) and the mock opens no RTP socket (media is off). --media-port wins. Without it the mock allocates real RTP ports (--rtp-ports).",
  }),
  rules: z.array(Rule),
  expectations: z.array(Expectation).optional(),
});

export type ScenarioFileT = z.infer<typeof ScenarioFile>;
export type RuleT = z.infer<typeof Rule>;
export type AnswerT = z.infer<typeof Answer>;
export type StepT = z.infer<typeof Step>;
export type MatchT = z.infer<typeof Match>;
export type StringMatchT = z.infer<typeof StringMatch>;
export type FaultT = z.infer<typeof Fault>;
export type ExpectationT = z.infer<typeof Expectation>;
export type AuthT = z.infer<typeof Auth>;
export type BodyT = z.infer<typeof Body>;
export type FollowUpT = z.infer<typeof FollowUp>;
export type DelayT = z.infer<typeof DelaySpec>;
export type MediaT = z.infer<typeof Media>;
export type MediaActionT = z.infer<typeof MediaAction>;

/** The JSON Schema published for editors. */
export function scenarioJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(ScenarioFile),
    $id: "https://github.com/sipmock/sipmock/schema/scenario.schema.json",
    title: "sipmock scenario",
  };
}
