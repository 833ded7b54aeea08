/**
 * Maps media time (PTS) to wall-clock time: the publisher's estimate of when a frame was made.
 *
 * Each frame that arrives from the encoder gives one sample, `arrival - mediaTime`. The smallest
 * recent sample is the frame that came through fastest, so `mediaTime + min(samples)` is the
 * wall-clock time of a frame as it leaves the encoder at best (encoding delay excluded only as far
 * as the encoder has no fixed delay). The minimum is taken over a sliding window, so the estimate
 * follows a clock that drifts, and it starts again when the media time jumps.
 *
 * This module runs in browsers and in Deno alike.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MediaClock } from "./media_clock.ts";
 * const clock = new MediaClock();
 * clock.observe(0, 1_000_050);   // frame at media 0 ms arrived at wall 1_000_050
 * clock.observe(40, 1_000_080);  // this one came through faster
 * assert(clock.wallTime(40) === 1_000_080 && clock.wallTime(0) === 1_000_040);
 * ```
 * @module
 */

/** Options of {@linkcode MediaClock}. */
export interface MediaClockOptions {
  /** The minimum is taken over the samples of the last one to two windows of this length (ms). @default 10000 */
  windowMs?: number;
  /** A sample this much later (ms) than the estimate means the media time jumped back: start again. @default 3000 */
  resetAfterMs?: number;
}

/** Wall-clock estimate of media timestamps. */
export class MediaClock {
  #windowMs: number;
  #resetAfterMs: number;
  #current = Infinity;
  #previous = Infinity;
  #windowStart = -Infinity;

  /** Creates a clock with no samples. */
  constructor(options: MediaClockOptions = {}) {
    this.#windowMs = options.windowMs ?? 10000;
    this.#resetAfterMs = options.resetAfterMs ?? 3000;
  }

  /** Whether a sample has been seen. */
  get ready(): boolean {
    return Number.isFinite(this.#offset);
  }

  get #offset(): number {
    return Math.min(this.#current, this.#previous);
  }

  /** A frame with media time `mediaMs` arrived at wall-clock `wallMs` (both in milliseconds). */
  observe(mediaMs: number, wallMs: number): void {
    const sample = wallMs - mediaMs;
    if (sample - this.#offset > this.#resetAfterMs) this.reset();
    if (wallMs - this.#windowStart >= this.#windowMs) {
      this.#previous = this.#current;
      this.#current = Infinity;
      this.#windowStart = wallMs;
    }
    if (sample < this.#current) this.#current = sample;
  }

  /** Forgets every sample (the media timeline restarted). */
  reset(): void {
    this.#current = Infinity;
    this.#previous = Infinity;
    this.#windowStart = -Infinity;
  }

  /** Wall-clock time (ms since the epoch, rounded) of media time `mediaMs`; NaN before any sample. */
  wallTime(mediaMs: number): number {
    return this.ready ? Math.round(mediaMs + this.#offset) : NaN;
  }
}
