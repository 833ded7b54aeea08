/**
 * Where live is on the node's clock, and how much delay the delivery needs: the arithmetic of
 * holding "display at `at` + delay" (capability `clock`). Each fragment or part carries `at`, the
 * origin's receive time of it; with the media time of its first frame that is an anchor. The
 * anchors of the last seconds give a line from media time to origin time: the earliest one
 * (frames that reached the origin fastest), so a late part does not move it. Live on the media
 * timeline at node time `n` is where that line reaches `n`; the frame due on screen is the one
 * `delay` before it. Every viewer of a stream has the same anchors, so every viewer shows the same
 * frame at the same node time.
 *
 * The jitter buffer: each arrival's lag (its arrival on the node's clock minus the line's time of
 * its first frame) says how much delay would have shown it in time. The delay needed is the
 * largest lag of the last seconds plus a margin for decoding; after a late burst it grows at once,
 * then shrinks back (0.1 s per second), so viewers that saw different bursts are back in step
 * within seconds. The delay is rounded up to a step (50 ms), so two viewers whose lags differ by a
 * few milliseconds hold the same delay and show the same frame. The first two seconds are not
 * counted (the player's own start-up work).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ClockTarget } from "./clock_target.ts";
 * const target = new ClockTarget({ warmupMs: 0 });
 * target.anchor(10, 1_000_000, 1_000_020); // media 10 s reached the origin at 1_000_000, here 20 ms later
 * assert(target.liveEdge(1_000_500) === 10.5);
 * assert(target.needed(1_000_020) === 0.05); // 20 ms lag + 15 ms margin, up to the 50 ms step
 * ```
 * @module
 */

/** How the target is set up. */
export interface ClockTargetOptions {
  /** Added to the largest lag, seconds (decoding, rendering). @default 0.015 */
  margin?: number;
  /** Anchors kept for the line, ms of origin time. @default 10000 */
  lineWindowMs?: number;
  /** Lags kept for the jitter buffer, ms. @default 3000 */
  lagWindowMs?: number;
  /** How fast the jitter buffer shrinks back, seconds per second. @default 0.1 */
  shrinkPerSecond?: number;
  /**
   * Lags of the first arrivals are not counted, ms (the start: the player decodes its way to the
   * live edge, and what it measures then is its own work, not the delivery). @default 2000
   */
  warmupMs?: number;
  /**
   * The delay is rounded up to a multiple of this, seconds, so viewers with nearly the same lags
   * hold the same delay; 0 keeps it exact. @default 0.05
   */
  step?: number;
}

/** The line from media time to the node's clock, and the jitter buffer. */
export class ClockTarget {
  #options: Required<ClockTargetOptions>;
  #anchors: Array<{ at: number; offset: number }> = [];
  #lags: Array<{ at: number; lag: number }> = [];
  #held = 0;
  #heldAt = 0;
  #firstArrival: number | undefined;

  /** A target with the defaults, or `options`. */
  constructor(options: ClockTargetOptions = {}) {
    this.#options = {
      margin: 0.015,
      lineWindowMs: 10_000,
      lagWindowMs: 3_000,
      shrinkPerSecond: 0.1,
      warmupMs: 2000,
      step: 0.05,
      ...options,
    };
  }

  /** Whether an anchor is known. */
  get known(): boolean {
    return this.#anchors.length > 0;
  }

  /** The line's offset: media seconds minus origin seconds, the largest of the window. */
  #best(): number | undefined {
    let best: number | undefined;
    for (const { offset } of this.#anchors) if (best === undefined || offset > best) best = offset;
    return best;
  }

  /**
   * Media time `media` (s) reached the origin at `at` and this player (in its buffers) at
   * `arrived`, both ms on the node's clock.
   */
  anchor(media: number, at: number, arrived: number): void {
    const anchors = this.#anchors;
    anchors.push({ at, offset: media - at / 1000 });
    while (anchors.length > 1 && anchors[0].at < at - this.#options.lineWindowMs) anchors.shift();
    const best = this.#best()!;
    this.#firstArrival ??= arrived;
    if (arrived < this.#firstArrival + this.#options.warmupMs) return;
    const lag = Math.max(0, (arrived - (media - best) * 1000) / 1000);
    const lags = this.#lags;
    lags.push({ at: arrived, lag });
    while (lags.length > 1 && lags[0].at < arrived - this.#options.lagWindowMs) lags.shift();
  }

  /** The media time live is at on node time `nodeNow` (ms), once an anchor is known. */
  liveEdge(nodeNow: number): number | undefined {
    const best = this.#best();
    return best === undefined ? undefined : nodeNow / 1000 + best;
  }

  /** The delay the delivery needs at node time `nodeNow` (ms), in seconds. */
  needed(nodeNow: number): number {
    let recent = 0;
    for (const { lag } of this.#lags) recent = Math.max(recent, lag);
    const shrunk = this.#held - Math.max(0, nodeNow - this.#heldAt) / 1000 *
        this.#options.shrinkPerSecond;
    this.#held = Math.max(recent, shrunk);
    this.#heldAt = nodeNow;
    const exact = this.#held + this.#options.margin;
    const step = this.#options.step;
    if (step <= 0) return exact;
    // A hair under a step stays on it (floating-point sums of lags and margins).
    const rounded = Math.ceil((exact - 1e-4) / step) * step;
    return Math.round(rounded * 1e6) / 1e6;
  }

  /** Forgets the anchors and lags (a new timeline). */
  clear(): void {
    this.#anchors = [];
    this.#lags = [];
  }
}
