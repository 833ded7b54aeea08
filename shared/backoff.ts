/**
 * Exponential back-off with jitter, for reconnecting clients: each delay is the previous one times
 * `factor`, up to `maxMs`, and a random share (`jitter`) of it is taken off so that many clients
 * that lost the same node do not come back at the same instant.
 *
 * This module runs in browsers and in Deno alike.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Backoff } from "./backoff.ts";
 * const backoff = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0 });
 * assert(backoff.next() === 100 && backoff.next() === 200 && backoff.next() === 400);
 * backoff.reset();
 * assert(backoff.next() === 100);
 * ```
 * @module
 */

/** Options of {@linkcode Backoff}. */
export interface BackoffOptions {
  /** The first delay in milliseconds. @default 500 */
  initialMs?: number;
  /** The longest delay in milliseconds. @default 10000 */
  maxMs?: number;
  /** Each delay is the previous one times this. @default 2 */
  factor?: number;
  /** Up to this share of each delay is taken off at random (0 to 1). @default 0.5 */
  jitter?: number;
  /** Random numbers in [0, 1). @default Math.random */
  random?: () => number;
}

/** The delays before successive retries. */
export class Backoff {
  #initial: number;
  #max: number;
  #factor: number;
  #jitter: number;
  #random: () => number;
  #attempt = 0;

  /** Creates a back-off at its first delay. */
  constructor(options: BackoffOptions = {}) {
    this.#initial = options.initialMs ?? 500;
    this.#max = options.maxMs ?? 10000;
    this.#factor = options.factor ?? 2;
    this.#jitter = options.jitter ?? 0.5;
    this.#random = options.random ?? Math.random;
  }

  /** Retries so far since the last reset. */
  get attempts(): number {
    return this.#attempt;
  }

  /** The delay before the next retry, in milliseconds. */
  next(): number {
    const base = Math.min(this.#max, this.#initial * this.#factor ** this.#attempt);
    this.#attempt++;
    return Math.round(base * (1 - this.#jitter * this.#random()));
  }

  /** Back to the first delay (after a success). */
  reset(): void {
    this.#attempt = 0;
  }
}
