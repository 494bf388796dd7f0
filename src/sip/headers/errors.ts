/** Thrown by the header parsers; the message names the header and the problem. */
export class HeaderParseError extends Error {
  constructor(
    readonly header: string,
    message: string,
  ) {
    super(message);
  }
}
