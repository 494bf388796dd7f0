/** Thrown by the header parsers; the message names the header and the problem. */
export class HeaderParseError extends Error {
  constructor(
    readonly header: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A strict parser made tolerant at a call site: its value, or undefined when
 * the input is malformed (HeaderParseError). Any other error still throws.
 */
export function tryParse<A extends unknown[], T>(parse: (...args: A) => T, ...args: A): T | undefined {
  try {
    return parse(...args);
  } catch (e) {
    if (e instanceof HeaderParseError) return undefined;
    throw e;
  }
}
