/**
 * The shape of one entry of the response-code catalogue. The catalogue is the
 * single source of truth for reason phrases, defining RFCs and the headers a
 * response must (or should) carry; the response builder, `sipmock codes` and
 * the README table are all generated from it.
 */

/** RFC 3261 7.2: the first digit of the status code defines the class. */
export type CodeClass = 1 | 2 | 3 | 4 | 5 | 6;

/**
 * - current: registered with IANA and in force;
 * - deprecated: still registered, but its RFC says not to send it (202);
 * - obsolete: not in the IANA registry (RFC 2543 codes dropped by RFC 3261),
 *   kept because users' seed lists and old equipment still know them.
 */
export type CodeStatus = "current" | "deprecated" | "obsolete";

/**
 * A header a response carries because the code's RFC says so.
 *
 * `value` is the default the builder writes when a scenario gives none. It
 * may contain placeholders the builder fills in from the request and the
 * listener: {{localUri}} (sip URI of the listener), {{contactUri}},
 * {{requestUser}}, {{requireTags}} (option tags of the request's Require that
 * the mock does not support), {{realm}}, {{nonce}}, {{opaque}}, {{allow}},
 * {{supported}}, {{accept}}, {{acceptEncoding}}, {{acceptLanguage}},
 * {{allowEvents}}, {{hostport}}, {{host}}, {{port}}, {{transport}}.
 */
export interface HeaderRule {
  readonly name: string;
  readonly value: string;
  /** The sentence of the RFC this rule comes from, with its section. */
  readonly rfc: string;
  /**
   * For recommended (SHOULD/MAY) headers only: whether the builder adds it
   * when the scenario does not ask. Required headers are always added.
   */
  readonly byDefault?: boolean;
}

export interface ResponseCodeInfo {
  readonly code: number;
  /** The reason phrase as the IANA registry spells it (without "(Deprecated)"). */
  readonly reason: string;
  /** Defining document, "RFC 3261" style. */
  readonly rfc: string;
  /** Section of `rfc` that defines the code. */
  readonly section: string;
  readonly class: CodeClass;
  readonly status: CodeStatus;
  /** One line: what the code tells the client. */
  readonly description: string;
  /** Headers the RFC says the response MUST carry. */
  readonly required: readonly HeaderRule[];
  /** Headers the RFC says the response SHOULD or MAY carry. */
  readonly recommended: readonly HeaderRule[];
  /** Where this entry differs from the user's seed list, and why. */
  readonly note?: string;
}
