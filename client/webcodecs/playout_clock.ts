/**
 * The playhead of the WebCodecs path, in seconds of media time. A `MediaStream` has no timeline
 * of its own, so the path keeps one: it runs at rate 1 from the last `seek`, stops where the
 * decoded media ends (a stall, as an element waits for data) and goes on from there when more
 * comes. Or it follows a function of the clock given by the latency controller (`follow`): the
 * media time that is due on screen now, from the node's clock, which stalls nowhere.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PlayoutClock } from "./playout_clock.ts";
 * const clock = new PlayoutClock();
 * clock.seek(10, 1000);
 * clock.limit = 10.5;
 * assert(clock.time(1200) === 10.2);
 * assert(clock.time(2000) === 10.5, "no media beyond 10.5: it waits there");
 * clock.limit = 12;
 * assert(clock.time(2100) === 10.6);
 * ```
 * @module
 */

/** A playhead that runs with the clock. */
export class PlayoutClock {
  #base: { time: number; at: number } | null = null;
  #follow: ((now: number) => number) | null = null;
  /** The end of the media the playhead may reach (seconds); beyond it, it waits. */
  limit = Infinity;

  /** Whether the playhead was placed (a `seek`, or a function to follow). */
  get started(): boolean {
    return this.#base !== null || this.#follow !== null;
  }

  /** Whether a function sets the playhead. */
  get following(): boolean {
    return this.#follow !== null;
  }

  /** Places the playhead at `time` at clock time `now` (ms), and lets it run from there. */
  seek(time: number, now: number): void {
    this.#base = { time, at: now };
  }

  /** Follows `target` (media time due at clock time `now`), or runs freely again with null. */
  follow(target: ((now: number) => number) | null, now: number): void {
    if (target === null && this.#follow !== null) this.#base = { time: this.time(now), at: now };
    this.#follow = target;
  }

  /** The playhead at clock time `now` (ms); 0 before it was placed. */
  time(now: number): number {
    if (this.#follow !== null) return this.#follow(now);
    const base = this.#base;
    if (base === null) return 0;
    const time = base.time + (now - base.at) / 1000;
    if (time <= this.limit) return time;
    // Out of media: wait at its end, and go on from there.
    const limit = Math.max(base.time, this.limit);
    this.#base = { time: limit, at: now };
    return limit;
  }
}
