/**
 * A back-off per address for wrong operator tokens: the first {@linkcode FREE_FAILURES} failures
 * in a row cost nothing (typos), then the address is blocked for 5 s, doubling with every further
 * failure up to 5 minutes; a success forgets it. At most 10 000 addresses are tracked (the oldest
 * is forgotten first); IPv6 addresses are tracked per /64.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LoginBackoff } from "./login_backoff.ts";
 * let now = 0;
 * const backoff = new LoginBackoff(() => now);
 * for (let index = 0; index < 5; index++) backoff.failed("10.0.0.1");
 * assert(backoff.blockedMs("10.0.0.1") === 5000 && backoff.blockedMs("10.0.0.2") === 0);
 * now = 5000;
 * assert(backoff.blockedMs("10.0.0.1") === 0);
 * backoff.failed("10.0.0.1");
 * assert(backoff.blockedMs("10.0.0.1") === 10000, "doubles");
 * ```
 * @module
 */

import { limitKey } from "../limits/cidr.ts";

/** Wrong tokens in a row that cost nothing. */
export const FREE_FAILURES = 5;
const FIRST_BLOCK_MS = 5000;
const MAX_BLOCK_MS = 5 * 60 * 1000;
const MAX_TRACKED = 10_000;

interface Entry {
  failures: number;
  until: number;
}

/** Failures per address, and how long each is blocked. */
export class LoginBackoff {
  #now: () => number;
  #entries = new Map<string, Entry>();

  /** `now` is the clock in milliseconds (for tests). */
  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** Milliseconds `address` must still wait (0: it may try). */
  blockedMs(address: string): number {
    const entry = this.#entries.get(limitKey(address));
    return entry === undefined ? 0 : Math.max(0, entry.until - this.#now());
  }

  /** A wrong token from `address`. */
  failed(address: string): void {
    const key = limitKey(address);
    const entry = this.#entries.get(key) ?? { failures: 0, until: 0 };
    this.#entries.delete(key);
    if (this.#entries.size >= MAX_TRACKED) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
    entry.failures++;
    if (entry.failures >= FREE_FAILURES) {
      const block = FIRST_BLOCK_MS * 2 ** (entry.failures - FREE_FAILURES);
      entry.until = this.#now() + Math.min(MAX_BLOCK_MS, block);
    }
    this.#entries.set(key, entry);
  }

  /** The right token from `address`: its failures are forgotten. */
  succeeded(address: string): void {
    this.#entries.delete(limitKey(address));
  }
}
