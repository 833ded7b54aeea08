/**
 * The rule of the latency controller, as a pure function: given where the playhead is, what is
 * buffered and where live is, pick a playback rate and, when needed, a position to seek to.
 *
 * - Not started (the playhead is outside the buffered media): seek to `live - target`.
 * - In a gap with media after it: seek past the gap.
 * - Further behind than `maxDelay`: jump to `live - target`.
 * - Behind the target: play a little faster (up to `maxRate`), in proportion to the excess.
 * - Too close to live: play a little slower (down to 0.95), so the buffer does not run dry.
 * - Stuck with media ahead (the playhead does not move): nudge it forward.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decide } from "./latency_control.ts";
 * const decision = decide({ currentTime: 10, paused: false, stuckMs: 0, buffered: [[8, 12.5]],
 *   liveEdge: 12.5, target: 0.5, maxDelay: 2, maxRate: 1.1 });
 * assert(decision.seekTo === 12 && decision.reason === "jump");
 * ```
 * @module
 */

/** What the controller looks at. */
export interface ControlInput {
  /** The playhead, in seconds. */
  currentTime: number;
  /** Paused by the page or the user: leave the playhead alone. */
  paused: boolean;
  /** Milliseconds the playhead has not moved while it should have. */
  stuckMs: number;
  /** Buffered ranges, in order. */
  buffered: Array<[number, number]>;
  /** Where live is now on the media timeline (the newest media, extrapolated since it came). */
  liveEdge: number;
  /** The delay to hold, in seconds. */
  target: number;
  /** Beyond this delay, jump. */
  maxDelay: number;
  /** Fastest catch-up rate. */
  maxRate: number;
}

/** What to do. */
export interface ControlDecision {
  /** The playback rate to use. */
  rate: number;
  /** Seek here, if set. */
  seekTo?: number;
  /** Why: `start`, `gap`, `jump`, `stuck`, `catch-up`, `slow-down` or `hold`. */
  reason: "start" | "gap" | "jump" | "stuck" | "catch-up" | "slow-down" | "hold";
}

/** Delay above the target tolerated before speeding up, in seconds. */
const CATCH_UP_DEADBAND = 0.05;
/** Delay below the target tolerated before slowing down, in seconds. */
const SLOW_DOWN_DEADBAND = 0.15;
/** Rate change per second of excess delay. */
const GAIN = 0.25;
/** Slowest rate used to rebuild the buffer. */
const MIN_RATE = 0.95;
/** How long the playhead may stay still with media ahead before it is nudged. */
const STUCK_MS = 1000;
/** Keep a seek this far inside the buffered media. */
const EDGE_MARGIN = 0.05;

/** Picks a rate and maybe a seek. */
export function decide(input: ControlInput): ControlDecision {
  const { currentTime, buffered, liveEdge, target } = input;
  if (buffered.length === 0) return { rate: 1, reason: "hold" };
  const last = buffered[buffered.length - 1];
  const liveTarget = Math.min(Math.max(liveEdge - target, last[0]), last[1] - EDGE_MARGIN);
  const inside = buffered.find(([start, end]) => currentTime >= start - 0.001 && currentTime < end);
  if (inside === undefined) {
    const next = buffered.find(([start]) => start > currentTime);
    if (next === undefined) return { rate: 1, reason: "hold" }; // waiting for media
    const started = buffered[0][0] < currentTime || currentTime > 0;
    if (!started || next !== last || liveTarget <= next[0]) {
      return {
        rate: 1,
        seekTo: started ? Math.max(next[0] + 0.001, liveTarget) : liveTarget,
        reason: started ? "gap" : "start",
      };
    }
    return { rate: 1, seekTo: liveTarget, reason: "gap" };
  }
  if (input.paused) return { rate: 1, reason: "hold" };
  const delay = liveEdge - currentTime;
  if (delay > input.maxDelay && liveTarget > currentTime + 0.1) {
    return { rate: 1, seekTo: liveTarget, reason: "jump" };
  }
  if (input.stuckMs > STUCK_MS && inside[1] - currentTime > 0.2) {
    return {
      rate: 1,
      seekTo: Math.min(currentTime + 0.1, inside[1] - EDGE_MARGIN),
      reason: "stuck",
    };
  }
  const excess = delay - target;
  if (excess > CATCH_UP_DEADBAND) {
    return {
      rate: Math.min(input.maxRate, 1 + (excess - CATCH_UP_DEADBAND) * GAIN + 0.02),
      reason: "catch-up",
    };
  }
  if (excess < -SLOW_DOWN_DEADBAND) {
    return {
      rate: Math.max(MIN_RATE, 1 + (excess + SLOW_DOWN_DEADBAND) * GAIN - 0.01),
      reason: "slow-down",
    };
  }
  return { rate: 1, reason: "hold" };
}
