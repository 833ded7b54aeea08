/**
 * Signing tokens: HS256 JWTs whose `sub` is `PUSH:<stream id>` or `PULL:<stream id>`, with `exp`.
 *
 * This module runs in browsers and in Deno alike (it uses `npm:jose`, built on Web Crypto).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { signToken, tokenSubject } from "./token.ts";
 * const token = await signToken({ secret: "s3cret", action: "PULL", stream: "room/a", lifetimeSeconds: 60 });
 * assert(token.split(".").length === 3);
 * assert(tokenSubject("PULL", "room/a") === "PULL:room/a");
 * ```
 * @module
 */

import { SignJWT } from "jose";

/** What a token allows. */
export type TokenAction = "PUSH" | "PULL";

/** The `sub` claim for an action on a stream. */
export function tokenSubject(action: TokenAction, stream: string): string {
  return `${action}:${stream}`;
}

/** Options of {@linkcode signToken}. */
export interface SignTokenOptions {
  /** The shared secret (`PUSH_SECRET` or `PULL_SECRET`). */
  secret: string;
  /** `PUSH` or `PULL`. */
  action: TokenAction;
  /** The stream id the token is for. */
  stream: string;
  /** Seconds until `exp`. @default 3600 */
  lifetimeSeconds?: number;
}

/** Signs an HS256 token for one action on one stream. */
export function signToken(options: SignTokenOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(tokenSubject(options.action, options.stream))
    .setIssuedAt(now)
    .setExpirationTime(now + (options.lifetimeSeconds ?? 3600))
    .sign(new TextEncoder().encode(options.secret));
}
