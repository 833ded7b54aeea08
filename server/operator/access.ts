/**
 * Who may see the operator page, `/stats` (unless `STATS_PUBLIC=YES`) and, with `STATS_PUBLIC=NO`,
 * `/metrics`: whoever
 * presents `OPERATOR_TOKEN` as `Authorization: Bearer <token>` (Prometheus, scripts), or the
 * session cookie the page's login form (a POST) sets. Never a token in the address: it would land
 * in browser history and proxy logs. The cookie holds a value derived from the token, not the token
 * itself, and is `HttpOnly`, `SameSite=Strict` and, over TLS, `Secure`.
 *
 * An address that presents wrong tokens is backed off ({@linkcode LoginBackoff}): after 5 wrong
 * ones in a row, every attempt from it is answered `429` for 5 s, doubling with each further
 * failure up to 5 minutes. Tokens are compared in constant time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OperatorAccess } from "./access.ts";
 * const token = "0123456789abcdef0123";
 * const access = new OperatorAccess(token);
 * const bearer = new Request("http://node/stats", { headers: { authorization: `Bearer ${token}` } });
 * assert(access.check(bearer, "10.0.0.1").kind === "operator");
 * assert(access.check(new Request(`http://node/stats?token=${token}`), "10.0.0.1").kind === "anonymous");
 * assert(new OperatorAccess("").check(bearer, "10.0.0.1").kind === "anonymous", "no token configured: nobody");
 * ```
 * @module
 */

import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { LoginBackoff } from "./login_backoff.ts";

/** The name of the operator page's session cookie. */
export const SESSION_COOKIE = "hlswscdn_operator";
/** How long a session cookie lasts, in seconds. */
const SESSION_SECONDS = 12 * 3600;

/** What a request proves. */
export type Access =
  | { kind: "operator" }
  | { kind: "anonymous" }
  | { kind: "wrong" }
  | { kind: "blocked"; retryAfterSeconds: number };

function digest(text: string): Uint8Array {
  return createHash("sha256").update(text).digest();
}

function sameSecret(a: string, b: string): boolean {
  // Equal-length digests, so the comparison time says nothing about the secret.
  return timingSafeEqual(digest(a), digest(b));
}

/** The bearer token of a request, or null. */
export function bearerToken(request: Request): string | null {
  const header = request.headers.get("authorization");
  return header === null ? null : /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] ?? null;
}

/** The value of a cookie of a request, or null. */
function cookie(request: Request, name: string): string | null {
  for (const part of (request.headers.get("cookie") ?? "").split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) return value.join("=");
  }
  return null;
}

/** Checks operator credentials, with a back-off per address for wrong ones. */
export class OperatorAccess {
  #token: string;
  #session: string;
  #backoff = new LoginBackoff();

  /** `token` is `OPERATOR_TOKEN` (empty: nobody is the operator). */
  constructor(token: string) {
    this.#token = token;
    this.#session = token === ""
      ? ""
      : createHmac("sha256", token).update("hls-websocket-cdn operator session").digest("hex");
  }

  /** What the request's bearer header or session cookie proves (nothing presented: anonymous). */
  check(request: Request, address: string): Access {
    const bearer = bearerToken(request);
    const session = cookie(request, SESSION_COOKIE);
    // Without OPERATOR_TOKEN nobody is the operator, and nothing presented is a guess.
    if (this.#token === "" || (bearer === null && session === null)) return { kind: "anonymous" };
    const valid = bearer !== null
      ? sameSecret(bearer, this.#token)
      : sameSecret(session!, this.#session);
    return this.#judge(valid, address);
  }

  /** What a token typed into the login form proves. */
  login(token: string, address: string): Access {
    return this.#judge(this.#token !== "" && sameSecret(token, this.#token), address);
  }

  #judge(valid: boolean, address: string): Access {
    const wait = this.#backoff.blockedMs(address);
    if (wait > 0) return { kind: "blocked", retryAfterSeconds: Math.ceil(wait / 1000) };
    if (valid) {
      this.#backoff.succeeded(address);
      return { kind: "operator" };
    }
    this.#backoff.failed(address);
    return { kind: "wrong" };
  }

  /** The `Set-Cookie` value that signs the page in (`Secure` when the request came over TLS). */
  sessionCookie(request: Request): string {
    const secure = new URL(request.url).protocol === "https:" ? "; Secure" : "";
    return `${SESSION_COOKIE}=${this.#session}; Path=/; HttpOnly; SameSite=Strict; ` +
      `Max-Age=${SESSION_SECONDS}${secure}`;
  }
}
