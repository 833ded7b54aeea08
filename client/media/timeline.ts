/**
 * Where each chunk goes on the media element's timeline. Media keeps its MPEG-TS timestamps
 * (seconds = PTS / 90000) plus an offset; the offset changes only when the stream's timestamps do
 * not continue: a `discontinuity` (new publisher), a `jump` (fragments skipped), or timestamps that
 * moved more than a fragment away without either flag (a restarted node or encoder). The new
 * media then starts where the buffered media ends, so playback goes on without a gap.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Timeline } from "./timeline.ts";
 * const timeline = new Timeline();
 * const first = timeline.place({ starts: true, independent: true, jump: false, discontinuity: false, duration: 2 }, 90000, 0);
 * assert(first.newTimeline && first.start === 1);
 * const restarted = timeline.place({ starts: true, independent: true, jump: false, discontinuity: true, duration: 2 }, 0, 3);
 * assert(restarted.newTimeline && restarted.start === 3);
 * ```
 * @module
 */

/** What the timeline needs to know about a chunk. */
export interface TimelineChunk {
  /** Starts a fragment. */
  starts: boolean;
  /** Starts with a keyframe. */
  independent: boolean;
  /** Fragments were skipped before it. */
  jump: boolean;
  /** Timestamps may not continue. */
  discontinuity: boolean;
  /** Fragment duration in seconds, when known (whole fragments, last parts). */
  duration?: number;
  /** Ends a fragment. */
  ends?: boolean;
}

/** Where a chunk goes. */
export interface Placement {
  /** Timestamps restart here: reset parsers and set the offset before appending. */
  newTimeline: boolean;
  /** The chunk cannot be decoded (no keyframe since the timeline started): drop it. */
  drop: boolean;
  /** `timestampOffset` to use, in seconds. */
  offset: number;
  /** Media time of the chunk's first frame, when its PTS is known. */
  start: number | undefined;
}

/** Seconds per PTS tick. */
const PTS_HZ = 90000;
/** How far a fragment may start before the previous one's start and still continue it. */
const BACKWARD_TOLERANCE = 0.1;
/** Media assumed after the newest chunk start when a fragment's duration is unknown, in seconds. */
const UNKNOWN_TAIL = 0.25;
/** Fragment duration assumed while the current one's is unknown. */
const UNKNOWN_DURATION = 10;

/** The mapping from stream timestamps to media time. */
export class Timeline {
  #offset = 0;
  #started = false;
  #lastStartPts: number | undefined;
  #lastDuration: number | undefined;
  #needKeyframe = true;
  #newestStart = 0;

  /** The current offset in seconds. */
  get offset(): number {
    return this.#offset;
  }

  /** The next chunk must start a new timeline (after dropped chunks). */
  forceNewTimeline(): void {
    this.#lastStartPts = undefined;
    this.#needKeyframe = true;
  }

  /** Places a chunk with first PTS `firstPts` (if it has one) given the end of buffered media. */
  place(chunk: TimelineChunk, firstPts: number | undefined, bufferedEnd: number): Placement {
    if (this.#needKeyframe && (!chunk.independent || firstPts === undefined)) {
      return { newTimeline: false, drop: true, offset: this.#offset, start: undefined };
    }
    this.#needKeyframe = false;
    let newTimeline = false;
    if (
      firstPts !== undefined &&
      (chunk.starts || chunk.independent || this.#lastStartPts === undefined)
    ) {
      if (!this.#started || this.#lastStartPts === undefined) {
        newTimeline = true;
      } else if (chunk.starts) {
        const step = (firstPts - this.#lastStartPts) / PTS_HZ;
        const limit = (this.#lastDuration ?? UNKNOWN_DURATION) + 1;
        newTimeline = chunk.discontinuity || chunk.jump || step < -BACKWARD_TOLERANCE ||
          step > limit;
      }
      if (newTimeline) {
        if (this.#started) {
          // Splice after the previous fragment's end as the stream describes it: the buffered end
          // can lag behind (appends still queued, a parser holding its last frame), and an
          // overlap would cut frames. Without a known duration, after the newest media seen.
          const previousEnd = this.#lastStartPts !== undefined && this.#lastDuration !== undefined
            ? this.#lastStartPts / PTS_HZ + this.#offset + this.#lastDuration
            : this.#newestStart + UNKNOWN_TAIL;
          this.#offset = Math.max(previousEnd, bufferedEnd) - firstPts / PTS_HZ;
        }
        this.#started = true;
      }
      if (chunk.starts || newTimeline) {
        this.#lastStartPts = firstPts;
        this.#lastDuration = chunk.duration;
      }
    }
    if (chunk.ends && chunk.duration !== undefined) this.#lastDuration = chunk.duration;
    const start = firstPts === undefined ? undefined : firstPts / PTS_HZ + this.#offset;
    if (start !== undefined && (newTimeline || start > this.#newestStart)) {
      this.#newestStart = start;
    }
    return { newTimeline, drop: false, offset: this.#offset, start };
  }
}
