/**
 * Who may see the operator page, `/stats` (unless `STATS_PUBLIC=YES`) and, with `STATS_PUBLIC=NO`,
 * `/metrics`: whoever presents `OPERATOR_TOKEN`, as `Authorization: Bearer <token>` (Prometheus,
 * scripts) or as `?token=<token>` (a browser opening the page). Tokens are compared in constant time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isOperator } from "./access.ts";
 * const token = "0123456789abcdef0123";
 * const request = new Request("http://node/stats", { headers: { authorization: `Bearer ${token}` } });
 * assert(isOperator(request, token));
 * assert(!isOperator(new Request("http://node/stats?token=nope"), token));
 * assert(!isOperator(request, ""), "no token configured: nobody");
 * ```
 * @module
 */

import { createHash, timingSafeEqual } from "node:crypto";

/** The token a request presents (bearer header first, then the `token` query parameter). */
export function presentedToken(request: Request): string | null {
  const header = request.headers.get("authorization");
  const match = header === null ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (match !== null) return match[1];
  return new URL(request.url).searchParams.get("token");
}

function digest(text: string): Uint8Array {
  return createHash("sha256").update(text).digest();
}

/** Whether the request carries the operator token (never when `expected` is empty). */
export function isOperator(request: Request, expected: string): boolean {
  if (expected === "") return false;
  const presented = presentedToken(request);
  if (presented === null) return false;
  // Equal-length digests, so the comparison time says nothing about the token.
  return timingSafeEqual(digest(presented), digest(expected));
}
