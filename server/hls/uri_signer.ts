/**
 * Signed media URIs: the node writes `s<msn>.ts?e=<expiry>&s=<signature>` (and the same for
 * parts) into a playlist, so segments and parts need no other credential. The signature is an
 * HMAC-SHA-256 of the stream id, the file name and the expiry, with a key derived from the pull
 * secret: every node of a fleet (they share `PULL_SECRET`) verifies what any other signed, and a
 * URI cannot be used for another stream or another file. Expiries are rounded up to a step, so the
 * same file gets the same URI on every node and in every playlist version for a while (an HTTP CDN
 * in front caches it once).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { UriSigner } from "./uri_signer.ts";
 * const signer = new UriSigner("pull-secret", { now: () => 1_000_000 });
 * const query = signer.sign("room/a", "s7.ts");
 * assert(signer.verify("room/a", "s7.ts", new URLSearchParams(query)) === null);
 * assert(signer.verify("room/b", "s7.ts", new URLSearchParams(query)) !== null);
 * ```
 * @module
 */

import { createHmac, timingSafeEqual } from "node:crypto";

/** How signed URIs are made. */
export interface UriSignerOptions {
  /** How long a URI stays valid at least, in seconds. @default 120 */
  lifetimeSeconds?: number;
  /** Expiries are rounded up to a multiple of this, in seconds. @default 60 */
  stepSeconds?: number;
  /** The clock, ms since the epoch. @default Date.now */
  now?: () => number;
}

/** What a key is derived with, so the pull secret itself never signs a URI. */
const KEY_LABEL = "hls-websocket-cdn/hls-uri/v1";

/** Signs and checks the media URIs of playlists. */
export class UriSigner {
  #key: Buffer;
  #lifetime: number;
  #step: number;
  #now: () => number;
  #cache = new Map<string, string>();
  #cachedExpiry = 0;

  /**
   * A signer with a key derived from `secret` (the pull secret). An empty secret (pull auth
   * disabled) gets a random key: URIs then verify on this node only.
   */
  constructor(secret: string, options: UriSignerOptions = {}) {
    const base = secret === ""
      ? crypto.getRandomValues(new Uint8Array(32))
      : new TextEncoder().encode(secret);
    this.#key = createHmac("sha256", base).update(KEY_LABEL).digest();
    this.#lifetime = options.lifetimeSeconds ?? 120;
    this.#step = options.stepSeconds ?? 60;
    this.#now = options.now ?? Date.now;
  }

  /** The expiry a URI signed now gets (seconds since the epoch). */
  expiry(): number {
    const earliest = this.#now() / 1000 + this.#lifetime;
    return Math.ceil(earliest / this.#step) * this.#step;
  }

  #mac(stream: string, name: string, expiry: number): string {
    return createHmac("sha256", this.#key)
      .update(`${stream}\n${name}\n${expiry}`)
      .digest()
      .subarray(0, 16)
      .toString("base64url");
  }

  /** The query (`e=...&s=...`) of `name` in stream `stream`; cached while the expiry holds. */
  sign(stream: string, name: string): string {
    const expiry = this.expiry();
    if (expiry !== this.#cachedExpiry) {
      this.#cache.clear();
      this.#cachedExpiry = expiry;
    }
    const key = `${stream}\n${name}`;
    let query = this.#cache.get(key);
    if (query === undefined) {
      query = `e=${expiry}&s=${this.#mac(stream, name, expiry)}`;
      if (this.#cache.size > 10_000) this.#cache.clear();
      this.#cache.set(key, query);
    }
    return query;
  }

  /** Null when `query` signs `name` of `stream` and has not expired; otherwise the reason. */
  verify(stream: string, name: string, query: URLSearchParams): string | null {
    const expiry = Number(query.get("e"));
    const signature = query.get("s");
    if (!Number.isInteger(expiry) || expiry <= 0 || signature === null) {
      return "the media URI is not signed: take it from a playlist";
    }
    const now = this.#now() / 1000;
    if (expiry < now) return "the media URI has expired: reload the playlist";
    if (expiry > now + this.#lifetime + this.#step) {
      return "the media URI expires too far ahead";
    }
    // The URIs of the current playlists are signed already: most checks need no new HMAC.
    const signed = expiry === this.#cachedExpiry
      ? this.#cache.get(`${stream}\n${name}`)
      : undefined;
    const mac = signed?.slice(signed.indexOf("&s=") + 3) ?? this.#mac(stream, name, expiry);
    const expected = Buffer.from(mac);
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
      return "the media URI signature is not valid";
    }
    return null;
  }
}
