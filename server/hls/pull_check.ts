/**
 * The pull token of an HLS request (`?token=`), checked like a WebSocket `PULL`'s with the
 * node's verifier, and remembered until it expires: a player reloads its playlist several times a
 * second with the same token, and checking each reload's signature again would cost every one a
 * Web Crypto verification. A token for a rendition group (`PULL:<group>`) admits each rendition
 * of it, as it does over WebSockets. Only successes are remembered; a reason is never cached and
 * never names the token.
 *
 * @example
 * ```ts ignore
 * const check = new PullCheck(node.verifier);
 * const reason = await check.reason("room/a", url.searchParams.get("token") ?? ""); // null: allowed
 * ```
 * @module
 */

import { decodeJwt } from "jose";
import { ProtocolError } from "../../shared/errors.ts";
import { parseRenditionId } from "../../shared/rendition.ts";
import type { TokenVerifier } from "../token_verifier.ts";

/** Remembered tokens at most (then the memory starts over). */
const MAX_REMEMBERED = 20_000;

/** Checks and remembers pull tokens. */
export class PullCheck {
  #verifier: Pick<TokenVerifier, "verify">;
  #valid = new Map<string, number>();
  #now: () => number;

  /** A check with the node's verifier. */
  constructor(verifier: Pick<TokenVerifier, "verify">, now: () => number = Date.now) {
    this.#verifier = verifier;
    this.#now = now;
  }

  /** Null when `token` may pull `stream` (or its rendition group); otherwise the one-line reason. */
  async reason(stream: string, token: string): Promise<string | null> {
    const key = `${stream}\n${token}`;
    const expires = this.#valid.get(key);
    if (expires !== undefined) {
      if (expires > this.#now()) return null;
      this.#valid.delete(key);
      return "the token has expired";
    }
    let reason = await this.#check(stream, token);
    const group = parseRenditionId(stream)?.group;
    if (reason !== null && group) {
      if ((await this.#check(group, token)) === null) reason = null;
    }
    if (reason === null) this.#remember(key, token);
    return reason;
  }

  async #check(stream: string, token: string): Promise<string | null> {
    try {
      await this.#verifier.verify("PULL", stream, token);
      return null;
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      if (token === "") return "a pull token is required (the token parameter)";
      return error.message;
    }
  }

  #remember(key: string, token: string): void {
    let expires = Infinity;
    try {
      const exp = decodeJwt(token).exp;
      if (exp !== undefined) expires = exp * 1000;
    } catch {
      // Pull auth is off: any token (or none) is fine, and stays so.
    }
    if (this.#valid.size >= MAX_REMEMBERED) this.#valid.clear();
    this.#valid.set(key, expires);
  }
}
