/**
 * When to try again, and when to give up: one back-off for every client of ours (the player, a
 * relay resuming its upstream, the publisher library), and one deadline model. A **period without
 * progress** begins when a client loses what it had (or starts); each retry waits the back-off's
 * next delay, cut so that it starts before the period has lasted `limitMs`; when it has, the
 * client gives up. What counts as progress is the client's: media for the player, an `OK` for a
 * relay or a publisher. Progress ends the period and starts the delays over.
 *
 * This module runs in browsers and in Deno alike.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Reconnection } from "./reconnection.ts";
 * let now = 0;
 * const retry = new Reconnection({ backoff: { initialMs: 100, jitter: 0 }, limitMs: 250, now: () => now });
 * retry.lost();
 * assert(retry.nextDelay() === 100);
 * now = 100;
 * assert(retry.nextDelay() === 150, "cut to what is left of the period");
 * now = 250;
 * assert(retry.nextDelay() === null && retry.expired());
 * retry.progress();
 * assert(!retry.expired());
 * ```
 * @module
 */

import { Backoff, type BackoffOptions } from "../backoff.ts";

/** How a {@linkcode Reconnection} is set up. */
export interface ReconnectionOptions {
  /** The delays between attempts (a `Backoff`, or its options). @default a Backoff's defaults */
  backoff?: Backoff | BackoffOptions;
  /** Give up once a period without progress has lasted this long, in ms. @default Infinity */
  limitMs?: number;
  /** Clock in ms. @default performance.now */
  now?: () => number;
}

/** The retry policy of one client across its connections. */
export class Reconnection {
  /** How long a period without progress may last, in ms (a client may change it). */
  limitMs: number;
  #backoff: Backoff;
  #now: () => number;
  #since: number | null = null;

  /** Creates the policy; no period runs until `lost`. */
  constructor(options: ReconnectionOptions = {}) {
    this.#backoff = options.backoff instanceof Backoff
      ? options.backoff
      : new Backoff(options.backoff);
    this.limitMs = options.limitMs ?? Infinity;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Attempts since the last progress (1 for the first retry). */
  get attempts(): number {
    return this.#backoff.attempts;
  }

  /** Whether a period without progress runs. */
  get waiting(): boolean {
    return this.#since !== null;
  }

  /** A period without progress begins now, unless one runs already. */
  lost(): void {
    this.#since ??= this.#now();
  }

  /** Progress: the period ends, and the delays start over. */
  progress(): void {
    this.#since = null;
    this.#backoff.reset();
  }

  /** Ms left of the current period (Infinity without one, or without a limit). */
  remainingMs(): number {
    if (this.#since === null) return Infinity;
    return this.#since + this.limitMs - this.#now();
  }

  /** Whether the current period has lasted `limitMs`: time to give up. */
  expired(): boolean {
    return this.remainingMs() <= 0;
  }

  /** The pause before the next attempt, cut to what is left of the period; null once it is over. */
  nextDelay(): number | null {
    const remaining = this.remainingMs();
    if (remaining <= 0) return null;
    return Math.min(this.#backoff.next(), remaining);
  }
}

/** Waits `ms`, or less when `signal` aborts (it never rejects). */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
