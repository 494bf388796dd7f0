/**
 * A UAS or registrar (401/WWW-Authenticate) or a proxy (407/Proxy-
 * Authenticate) that challenges requests and checks the answers (RFC 3261
 * 22.1-22.4, RFC 7616, RFC 8760). Nonces carry their own time and an HMAC,
 * so they expire without a table; nonce counts are remembered (bounded) to
 * refuse replays.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { BoundedMap } from "../../sip/bounded-map.js";
import type { ParsedRequest } from "../../sip/message.js";
import type { ResponseSpec } from "../response-builder.js";
import { type DigestAlgorithm, digestResponse, parseCredentials } from "./digest.js";

export interface AuthConfig {
  readonly realm: string;
  /** username -> password */
  readonly users: Readonly<Record<string, string>>;
  /**
   * Offered in this order, one challenge each (RFC 8760 2.4). Default MD5
   * alone, as Asterisk, FreeSWITCH and Kamailio send: SIPp 3.6 and baresip 1.0
   * give up on a first challenge they cannot compute.
   */
  readonly algorithms?: readonly DigestAlgorithm[];
  /** Default ["auth"]; [] offers no qop (RFC 2069-style). */
  readonly qop?: ReadonlyArray<"auth" | "auth-int">;
  /** Methods challenged. Default REGISTER and INVITE. (ACK and CANCEL never are: 22.1.) */
  readonly methods?: readonly string[];
  /** Play a proxy: 407 and Proxy-Authenticate/-Authorization. */
  readonly proxy?: boolean;
  /** How long a nonce is good for, in ms. Default 30 s. */
  readonly nonceTtlMs?: number;
  /** A wrong password: 403 Forbidden (default) or a fresh challenge. */
  readonly wrongPassword?: "forbidden" | "challenge";
}

export type AuthOutcome =
  | { readonly ok: true; readonly username: string }
  | {
      readonly ok: false;
      readonly response: ResponseSpec;
      /** Set when credentials were given and refused (a failed login, not a mere challenge). */
      readonly failure?: { readonly username: string; readonly reason: string };
    };

/** What the mock offers unless told otherwise: what clients meet in the field. */
export const DEFAULT_ALGORITHMS: readonly DigestAlgorithm[] = ["MD5"];

const MAX_NONCES = 10_000;

export class Authenticator {
  private readonly secret = randomBytes(32);
  private readonly opaque = randomBytes(8).toString("hex");
  /** nonce -> highest nonce-count seen (RFC 7616 3.4.5: replays are refused). */
  private readonly counts = new BoundedMap<string, number>(MAX_NONCES);
  private readonly methods: ReadonlySet<string>;

  constructor(
    readonly config: AuthConfig,
    private readonly now: () => number = Date.now,
  ) {
    this.methods = new Set((config.methods ?? ["REGISTER", "INVITE"]).map((m) => m.toUpperCase()));
  }

  appliesTo(method: string): boolean {
    return method !== "ACK" && method !== "CANCEL" && this.methods.has(method);
  }

  private get header(): string {
    return this.config.proxy ? "Proxy-Authenticate" : "WWW-Authenticate";
  }

  private nonce(): string {
    const time = this.now().toString(36);
    const salt = randomBytes(6).toString("base64url");
    return `${time}.${salt}.${createHmac("sha256", this.secret).update(`${time}.${salt}`).digest("base64url").slice(0, 22)}`;
  }

  /** Whether we issued it (and so its time can be trusted), and whether it is past its time. */
  private nonceState(nonce: string): "fresh" | "stale" | "foreign" {
    const [time, salt, mac] = nonce.split(".");
    if (!time || !salt || !mac) return "foreign";
    const expected = createHmac("sha256", this.secret)
      .update(`${time}.${salt}`)
      .digest("base64url")
      .slice(0, 22);
    if (mac.length !== expected.length || !timingSafeEqual(Buffer.from(mac), Buffer.from(expected)))
      return "foreign";
    return this.now() - Number.parseInt(time, 36) > (this.config.nonceTtlMs ?? 30_000) ? "stale" : "fresh";
  }

  /** One challenge per algorithm, in preference order (RFC 8760 2.4). */
  challenge(stale = false, reason?: string): ResponseSpec {
    const nonce = this.nonce();
    const qop = this.config.qop ?? ["auth"];
    const rows = (this.config.algorithms ?? DEFAULT_ALGORITHMS).map(
      (algorithm) =>
        [
          this.header,
          `Digest realm="${this.config.realm}", nonce="${nonce}", opaque="${this.opaque}", algorithm=${algorithm}${
            qop.length ? `, qop="${qop.join(",")}"` : ""
          }${stale ? ", stale=true" : ""}`,
        ] as const,
    );
    return {
      status: this.config.proxy ? 407 : 401,
      headers: rows,
      ...(reason ? { warning: reason } : {}),
    };
  }

  /** Checks the request's credentials; a challenge (or 403) when they do not do. */
  check(request: ParsedRequest): AuthOutcome {
    const name = this.config.proxy ? "Proxy-Authorization" : "Authorization";
    const rows = request.headers.getRows(name);
    const digest = rows
      .map(parseCredentials)
      .find((c) => c?.scheme.toLowerCase() === "digest" && c.params.get("realm") === this.config.realm);
    if (!digest) {
      // No credentials, another realm, or another scheme (RFC 4475 3.3.13
      // "NewAuthScheme"): challenge.
      return {
        ok: false,
        response: this.challenge(false, rows.length ? "no Digest credentials for this realm" : undefined),
      };
    }
    const p = digest.params;
    const username = p.get("username") ?? "";
    const nonce = p.get("nonce") ?? "";
    const algorithm = p.get("algorithm") ?? "MD5";
    const qop = p.get("qop");
    const offered = this.config.algorithms ?? DEFAULT_ALGORITHMS;
    if (!offered.some((a) => a.toLowerCase() === algorithm.toLowerCase())) {
      const reason = `algorithm ${algorithm} was not offered`;
      return { ok: false, response: this.challenge(false, reason), failure: { username, reason } };
    }
    const state = this.nonceState(nonce);
    if (state === "foreign") return { ok: false, response: this.challenge(false, "unknown nonce") };
    const password = this.config.users[username];
    const expected =
      password === undefined
        ? undefined
        : digestResponse({
            algorithm,
            username,
            realm: this.config.realm,
            password,
            method: request.method,
            uri: p.get("uri") ?? "",
            nonce,
            ...(p.get("cnonce") !== undefined ? { cnonce: p.get("cnonce")! } : {}),
            ...(p.get("nc") !== undefined ? { nc: p.get("nc")! } : {}),
            ...(qop ? { qop } : {}),
            body: request.body,
          });
    const given = (p.get("response") ?? "").toLowerCase();
    const matches =
      expected !== undefined &&
      given.length === expected.length &&
      timingSafeEqual(Buffer.from(given), Buffer.from(expected));
    if (!matches) {
      const failure = { username, reason: password === undefined ? "unknown user" : "wrong password" };
      if (this.config.wrongPassword === "challenge") {
        return { ok: false, response: this.challenge(false, "wrong credentials"), failure };
      }
      return {
        ok: false,
        response: { status: 403, warning: `wrong credentials for ${username || "(no user)"}` },
        failure,
      };
    }
    // RFC 7616 3.3: a right answer to an expired nonce gets a new one, stale=true.
    if (state === "stale") return { ok: false, response: this.challenge(true, "nonce expired") };
    if (qop) {
      const nc = Number.parseInt(p.get("nc") ?? "", 16);
      const last = this.counts.get(nonce) ?? 0;
      if (!Number.isFinite(nc) || nc <= last) {
        const reason = "nonce count replayed";
        return { ok: false, response: this.challenge(false, reason), failure: { username, reason } };
      }
      this.counts.delete(nonce);
      this.counts.set(nonce, nc);
    }
    return { ok: true, username };
  }
}
