/**
 * Where old media may be removed from the SourceBuffers: at fragment starts only, so that the
 * frame on screen keeps the keyframe it is decoded from. The MSE path trims once a second (media
 * more than a few seconds behind the playhead) and, when a SourceBuffer is full, evicts all but the
 * last second behind the playhead.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CutPoints } from "./cut_points.ts";
 * const cuts = new CutPoints();
 * for (const start of [0, 2, 4, 6]) cuts.add(start);
 * assert(cuts.before(7, 2, 0) === 4); // the latest fragment start at least 2 s behind 7 s
 * assert(cuts.before(7, 2, 4) === undefined); // nothing to remove before the buffer's start
 * ```
 * @module
 */

/** A cut this close to the buffer's start removes nothing worth an operation, in seconds. */
const MIN_CUT = 0.1;

/** The media times where fragments start, oldest first. */
export class CutPoints {
  #starts: number[] = [];

  /** A fragment starts at media time `start`. */
  add(start: number): void {
    this.#starts.push(start);
  }

  /**
   * The latest fragment start at least `keepSeconds` behind `currentTime`, if removing the media
   * before it (the buffer starts at `bufferedStart`) is worth it. Older starts are forgotten.
   */
  before(currentTime: number, keepSeconds: number, bufferedStart: number): number | undefined {
    const limit = currentTime - keepSeconds;
    const starts = this.#starts;
    while (starts.length > 1 && starts[1] <= limit) starts.shift();
    const cut = starts.length > 0 && starts[0] <= limit ? starts[0] : undefined;
    return cut === undefined || cut <= bufferedStart + MIN_CUT ? undefined : cut;
  }
}
