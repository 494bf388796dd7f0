/**
 * The self-signed certificate `sipmock serve` makes for TLS/WSS, fetched
 * from the running CLI over a real TLS handshake (openssl s_client) and
 * decoded by openssl x509: an EC P-256 key whose keyUsage is
 * digitalSignature only (RFC 5480 3 as updated by RFC 8813: no
 * keyEncipherment for an EC key).
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { start } from "../helpers/cli.js";

function openssl(args: string[], input?: string): string {
  const r = spawnSync("openssl", args, { encoding: "utf8", timeout: 10_000, ...(input ? { input } : {}) });
  if (r.error)
    throw new Error(`openssl could not run (${r.error.message}); install it: apt-get install -y openssl`);
  return r.stdout;
}

describe("self-signed TLS certificate", () => {
  it("served by the CLI: EC key, keyUsage digitalSignature only (critical), serverAuth", async () => {
    const s = await start(["serve", "--listen", "udp:127.0.0.1:0", "--listen", "tls:127.0.0.1:0"]);
    try {
      const tlsPort = Number(/tls:127\.0\.0\.1:(\d+)/.exec(s.output())![1]);
      const handshake = openssl(
        ["s_client", "-connect", `127.0.0.1:${tlsPort}`, "-servername", "localhost", "-showcerts"],
        "",
      );
      const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(handshake)?.[0];
      expect(pem, handshake).toBeDefined();
      const text = openssl(["x509", "-noout", "-text"], pem);
      expect(text).toMatch(/Public Key Algorithm: id-ecPublicKey/);
      expect(text).toMatch(/NIST CURVE: P-256|ASN1 OID: prime256v1/);
      const usage = /X509v3 Key Usage:( critical)?[ \t]*\n\s+(.+)\n/.exec(text);
      expect(usage, text).not.toBeNull();
      expect(usage![1]).toBe(" critical");
      expect(usage![2]!.trim()).toBe("Digital Signature");
      expect(text).not.toMatch(/Key Encipherment/);
      expect(text).toMatch(/X509v3 Extended Key Usage:\s*\n\s+TLS Web Server Authentication/);
      // The fingerprint the banner prints is that of the certificate served.
      const fp = openssl(["x509", "-noout", "-fingerprint", "-sha256"], pem).trim().split("=")[1];
      expect(s.output()).toContain(`SHA-256 ${fp}`);
    } finally {
      const exit = new Promise((r) => s.child.on("exit", r));
      s.child.kill("SIGTERM");
      await exit;
    }
  });
});
