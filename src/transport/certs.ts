/**
 * TLS certificates: the user's (--cert/--key) or a self-signed one made at
 * start for the listening host names (the `selfsigned` library, on Node's
 * WebCrypto: no hand-written ASN.1; imported on first use). Its SHA-256 fingerprint is printed so a
 * softphone can pin it.
 */

import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { isIP } from "node:net";

export interface TlsMaterial {
  readonly key: string;
  readonly cert: string;
  /** SHA-256 fingerprint, colon-separated hex (as Wireshark and RFC 8122 write it). */
  readonly fingerprint: string;
  readonly selfSigned: boolean;
}

export interface TlsOptions {
  readonly certFile?: string;
  readonly keyFile?: string;
  /** Names and addresses the self-signed certificate is for (subjectAltName). */
  readonly hosts?: readonly string[];
  /** Highest TLS version offered (some clients, e.g. sipsak with GnuTLS, fail on TLS 1.3). */
  readonly maxVersion?: "TLSv1.2" | "TLSv1.3";
}

export class CertificateError extends Error {}

export async function tlsMaterial(o: TlsOptions = {}): Promise<TlsMaterial> {
  if (o.certFile || o.keyFile) {
    if (!o.certFile || !o.keyFile) throw new CertificateError("--cert and --key go together");
    let cert: string;
    let key: string;
    try {
      cert = readFileSync(o.certFile, "utf8");
      key = readFileSync(o.keyFile, "utf8");
    } catch (e) {
      throw new CertificateError(`cannot read the certificate or key: ${(e as Error).message}`);
    }
    let x509: X509Certificate;
    try {
      x509 = new X509Certificate(cert);
    } catch (e) {
      throw new CertificateError(`${o.certFile} is not a PEM certificate: ${(e as Error).message}`);
    }
    return { key, cert, fingerprint: x509.fingerprint256, selfSigned: false };
  }
  const hosts = [...new Set(["localhost", "127.0.0.1", "::1", ...(o.hosts ?? [])])].filter(
    (h) => h !== "0.0.0.0" && h !== "::",
  );
  // Loaded only when a certificate is made: selfsigned's ASN.1 and X.509
  // modules are ~100 ms of start-up and several MiB of heap that a mock
  // without a TLS or WSS listener never uses (issue 12).
  const { generate } = await import("selfsigned");
  const altNames = hosts.map((h) => (isIP(h) ? { type: 7 as const, ip: h } : { type: 2 as const, value: h }));
  const pems = await generate([{ name: "commonName", value: hosts.find((h) => !isIP(h)) ?? "localhost" }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    extensions: [
      { name: "basicConstraints", cA: false },
      // An EC key signs (ECDHE/ECDSA); it never enciphers keys: RFC 5480 3,
      // as updated by RFC 8813, forbids keyEncipherment for id-ecPublicKey.
      { name: "keyUsage", critical: true, digitalSignature: true },
      { name: "extKeyUsage", serverAuth: true, clientAuth: true },
      { name: "subjectAltName", altNames },
    ],
  });
  return {
    key: pems.private,
    cert: pems.cert,
    fingerprint: new X509Certificate(pems.cert).fingerprint256,
    selfSigned: true,
  };
}
