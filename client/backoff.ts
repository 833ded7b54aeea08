/**
 * Reconnection delays: exponential back-off with full jitter, so that many players that lost the
 * same node do not all come back at the same instant.
 *
 * @example
 * ```ts
 * import { Backoff } from "./backoff.ts";
 * const backoff = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 1 });
 * console.assert(backoff.next() === 100 && backoff.next() === 200);
 * backoff.reset();
 * console.assert(backoff.next() === 100);
 * ```
 * @module
 */

/** How delays grow. */
export interface BackoffOptions {
  /** The first delay (before jitter), in ms. @default 250 */
  initialMs?: number;
  /** The largest delay, in ms. @default 5000 */
  maxMs?: number;
  /** Growth per attempt. @default 2 */
  factor?: number;
  /** Source of randomness in [0, 1). @default Math.random */
  random?: () => number;
}

/** Delays for successive reconnection attempts. */
export class Backoff {
  #initial: number;
  #max: number;
  #factor: number;
  #random: () => number;
  #attempt = 0;

  /** Creates a back-off at its first attempt. */
  constructor(options: BackoffOptions = {}) {
    this.#initial = options.initialMs ?? 250;
    this.#max = options.maxMs ?? 5000;
    this.#factor = options.factor ?? 2;
    this.#random = options.random ?? Math.random;
  }

  /** Attempts made since the last reset. */
  get attempts(): number {
    return this.#attempt;
  }

  /** The delay before the next attempt: between half and all of the exponential step. */
  next(): number {
    const step = Math.min(this.#max, this.#initial * this.#factor ** this.#attempt);
    this.#attempt++;
    return Math.round(step / 2 + (step / 2) * this.#random());
  }

  /** Back to the first attempt (after a connection that worked). */
  reset(): void {
    this.#attempt = 0;
  }
}
