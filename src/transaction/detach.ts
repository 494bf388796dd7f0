/**
 * Strings kept for long (a dialog's identity and remote target, what a
 * transaction keeps for 64*T1) are often slices of the whole message text
 * the parser made: V8 keeps a substring of 13 characters or more as a
 * reference into its parent, so one kept Call-ID keeps the whole INVITE
 * (with its SDP) alive. `detach` returns the same characters in a string of
 * their own: the concatenation is flattened by `slice` into a new string
 * one character longer, which is all the result still refers to.
 */
export function detach(s: string): string {
  return s.length < 13 ? s : ` ${s}`.slice(1);
}

/** detach() for an optional string. */
export function detachOpt(s: string | undefined): string | undefined {
  return s === undefined ? s : detach(s);
}
