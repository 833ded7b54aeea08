/**
 * Where a publisher's push tokens come from: a ready token, a function that returns one, or the
 * push secret, with which it signs short-lived tokens itself and signs a new one whenever less
 * than half of the current one's lifetime is left (a node checks a token only at `PUSH`, so every
 * connection starts with a fresh one).
 *
 * This module runs in browsers and in Deno alike.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PushTokenSource } from "./push_token.ts";
 * const tokens = new PushTokenSource({ streamId: "room/a", secret: "s3cret", lifetimeSeconds: 60 });
 * const token = await tokens.get();
 * assert(token === await tokens.get(), "reused while fresh");
 * ```
 * @module
 */

import { signToken } from "../token.ts";

/** Options of {@linkcode PushTokenSource}. */
export interface PushTokenSourceOptions {
  /** The stream the tokens are for. */
  streamId: string;
  /** A ready token, or a function that returns one for each connection. */
  token?: string | (() => string | Promise<string>);
  /** The push secret, used when `token` is absent. */
  secret?: string;
  /** Lifetime of self-signed tokens in seconds. @default 300 */
  lifetimeSeconds?: number;
  /** Wall clock in ms. @default Date.now */
  now?: () => number;
}

/** Gives the token for the next connection. */
export class PushTokenSource {
  #options: PushTokenSourceOptions;
  #signed: { value: string; renewAt: number } | null = null;

  /** Throws a `TypeError` when neither a token nor a secret is given. */
  constructor(options: PushTokenSourceOptions) {
    if (options.token === undefined && options.secret === undefined) {
      throw new TypeError("a push token or the push secret is needed");
    }
    this.#options = options;
  }

  /** The token to push with now. */
  async get(): Promise<string> {
    const { token, secret, streamId } = this.#options;
    if (typeof token === "string") return token;
    if (typeof token === "function") return await token();
    const now = (this.#options.now ?? Date.now)();
    if (this.#signed !== null && now < this.#signed.renewAt) return this.#signed.value;
    const lifetime = this.#options.lifetimeSeconds ?? 300;
    const value = await signToken({
      secret: secret!,
      action: "PUSH",
      stream: streamId,
      lifetimeSeconds: lifetime,
    });
    this.#signed = { value, renewAt: now + lifetime * 500 };
    return value;
  }
}
