/**
 * The grace of a stream whose publisher vanished (its connection dropped or went silent without
 * `CLOSE`): for `PUBLISHER_GRACE_SECONDS` the stream stays live without a publisher, so that an
 * encoder that reconnects after a blip continues it for everyone. One grace is one timer with an
 * outcome, counted in `hlswscdn_publisher_graces_total{event}`: `entered` when it starts, then one
 * of `resumed` (a `PUSH` came back), `expired` (the time ran out: the stream ends) or `moved` (the
 * publisher now publishes on another node).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Metrics } from "../metrics.ts";
 * import { PublisherGrace } from "./publisher_grace.ts";
 * const metrics = new Metrics();
 * let expired = false;
 * const grace = new PublisherGrace({ ms: 5000, metrics, expire: () => expired = true });
 * grace.resume(); // the publisher is back: the timer is stopped
 * assert(!expired && grace.settled);
 * ```
 * @module
 */

import type { Metrics } from "../metrics.ts";

/** How a grace is set up. */
export interface PublisherGraceOptions {
  /** How long the stream waits for its publisher, in ms. */
  ms: number;
  /** Counters (`publisherGraces`). */
  metrics: Metrics;
  /** Called once when the time runs out (the owner ends the stream). */
  expire(): void;
}

/** One stream waiting for its publisher. */
export class PublisherGrace {
  /** When the grace began (`performance.now()`). */
  readonly since: number = performance.now();
  #options: PublisherGraceOptions;
  #timer: ReturnType<typeof setTimeout>;
  #settled = false;

  /** Starts the grace (counted as `entered`). */
  constructor(options: PublisherGraceOptions) {
    this.#options = options;
    options.metrics.publisherGraces.inc({ event: "entered" });
    this.#timer = setTimeout(() => {
      if (this.#settle("expired")) options.expire();
    }, options.ms);
  }

  /** Whether the grace is over (resumed, expired, moved or cancelled). */
  get settled(): boolean {
    return this.#settled;
  }

  /** Milliseconds since the grace began. */
  get elapsedMs(): number {
    return performance.now() - this.since;
  }

  /** The publisher came back. */
  resume(): void {
    this.#settle("resumed");
  }

  /** The publisher now publishes on another node. */
  moved(): void {
    this.#settle("moved");
  }

  /** Stops the timer without an outcome (the node shuts down). */
  cancel(): void {
    this.#settle(null);
  }

  #settle(event: "resumed" | "expired" | "moved" | null): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    clearTimeout(this.#timer);
    if (event !== null) this.#options.metrics.publisherGraces.inc({ event });
    return true;
  }
}
