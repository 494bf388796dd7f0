/**
 * A Digest answer to a challenge as a client computes it (RFC 7616 3.4,
 * RFC 8760 algorithms): user alice, realm example.test, qop=auth, a fixed
 * cnonce. For the tests that register or call through the mock's auth.
 */
import { digestResponse, parseCredentials } from "../../src/ua/auth/digest.js";

export function authorize(
  challenge: string,
  method: string,
  uri: string,
  o: { nc?: string; password?: string; scheme?: string } = {},
): string {
  const { nc = "00000001", password = "secret", scheme = "Digest" } = o;
  const c = parseCredentials(challenge)!;
  const algorithm = c.params.get("algorithm")!;
  const nonce = c.params.get("nonce")!;
  const cnonce = "0a4f113b";
  const response = digestResponse({
    algorithm,
    username: "alice",
    realm: "example.test",
    password,
    method,
    uri,
    nonce,
    cnonce,
    nc,
    qop: "auth",
  });
  return `${scheme} username="alice", realm="example.test", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=${algorithm}, cnonce="${cnonce}", nc=${nc}, qop=auth, opaque="${c.params.get("opaque")}"`;
}
