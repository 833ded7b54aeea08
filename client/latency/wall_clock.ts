/**
 * The publisher's wall clock on the media timeline: each fragment and part carries `time`, the
 * publisher's clock (ms since the epoch) at its first frame. Anchors (media time, wall time) let
 * the player tell, for the frame on screen, when the publisher captured it, and so the true
 * end-to-end latency: `Date.now()` minus that.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WallClock } from "./wall_clock.ts";
 * const clock = new WallClock();
 * clock.add(10, 1_000_000);
 * assert(clock.wallAt(10.5) === 1_000_500);
 * assert(clock.wallAt(9) === undefined);
 * ```
 * @module
 */

interface Anchor {
  media: number;
  wall: number;
}

/** Longest span an anchor is trusted for, in seconds of media. */
const MAX_EXTRAPOLATION = 30;

/** Anchors from media time to the publisher's wall clock. */
export class WallClock {
  #anchors: Anchor[] = [];

  /** Whether any anchor is known. */
  get known(): boolean {
    return this.#anchors.length > 0;
  }

  /** Records that media time `media` (seconds) was captured at `wall` (ms since the epoch). */
  add(media: number, wall: number): void {
    const anchors = this.#anchors;
    let index = anchors.length;
    while (index > 0 && anchors[index - 1].media > media) index--;
    if (index > 0 && Math.abs(anchors[index - 1].media - media) < 0.001) {
      anchors[index - 1] = { media, wall };
    } else {
      anchors.splice(index, 0, { media, wall });
    }
  }

  /** The publisher's clock at media time `media`, or undefined when no anchor covers it. */
  wallAt(media: number): number | undefined {
    const anchors = this.#anchors;
    for (let index = anchors.length - 1; index >= 0; index--) {
      const anchor = anchors[index];
      if (anchor.media <= media + 0.0005) {
        const elapsed = Math.max(0, media - anchor.media);
        return elapsed > MAX_EXTRAPOLATION ? undefined : anchor.wall + elapsed * 1000;
      }
    }
    return undefined;
  }

  /** Forgets anchors before media time `before`, keeping the one that covers it. */
  trim(before: number): void {
    const anchors = this.#anchors;
    let keep = 0;
    while (keep + 1 < anchors.length && anchors[keep + 1].media <= before) keep++;
    if (keep > 0) anchors.splice(0, keep);
  }

  /** Forgets everything. */
  clear(): void {
    this.#anchors = [];
  }
}
