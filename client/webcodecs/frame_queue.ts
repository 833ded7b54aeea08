/**
 * Decoded frames waiting for their time on screen, in presentation order. At each moment the
 * frame to show is the newest one whose time has come; older ones that were never shown are
 * dropped (late: behind the playhead, or skipped by a catch-up), so the picture is never behind
 * the playhead by more than a frame. Audio goes by another rule ({@linkcode FrameQueue.dueAll}):
 * every frame whose time has come is played, unless it is already too late to be heard in time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FrameQueue } from "./frame_queue.ts";
 * const queue = new FrameQueue<{ time: number; duration: number }>();
 * for (const time of [1, 1.033, 1.066]) queue.push({ time, duration: 0.033 });
 * const { show, drop } = queue.due(1.07);
 * assert(show?.time === 1.066 && drop.length === 2);
 * ```
 * @module
 */

/** A frame with its media time and duration, in seconds. */
export interface TimedFrame {
  /** Presentation time. */
  time: number;
  /** Duration. */
  duration: number;
}

/** Frames in presentation order. */
export class FrameQueue<T extends TimedFrame> {
  #frames: T[] = [];
  #end = -Infinity;

  /** Frames waiting. */
  get length(): number {
    return this.#frames.length;
  }

  /** Presentation time of the first frame waiting. */
  get first(): number | undefined {
    return this.#frames[0]?.time;
  }

  /** The end of the newest frame ever pushed (seconds), -Infinity before any. */
  get end(): number {
    return this.#end;
  }

  /** Adds a frame (kept in presentation order: decoders output in it, this keeps it so). */
  push(frame: T): void {
    const frames = this.#frames;
    let index = frames.length;
    while (index > 0 && frames[index - 1].time > frame.time) index--;
    frames.splice(index, 0, frame);
    this.#end = Math.max(this.#end, frame.time + frame.duration);
  }

  /** Video: the newest frame due at `playhead`, and the older ones to drop. */
  due(playhead: number): { show: T | undefined; drop: T[] } {
    const frames = this.#frames;
    let count = 0;
    while (count < frames.length && frames[count].time <= playhead + 0.0005) count++;
    if (count === 0) return { show: undefined, drop: [] };
    const taken = frames.splice(0, count);
    return { show: taken.pop(), drop: taken };
  }

  /** Audio: every frame due by `playhead + lead`; those ending before `playhead - late` to drop. */
  dueAll(playhead: number, lead: number, late: number): { play: T[]; drop: T[] } {
    const frames = this.#frames;
    let count = 0;
    while (count < frames.length && frames[count].time <= playhead + lead) count++;
    const play: T[] = [];
    const drop: T[] = [];
    for (const frame of frames.splice(0, count)) {
      (frame.time + frame.duration < playhead - late ? drop : play).push(frame);
    }
    return { play, drop };
  }

  /** Seconds from `playhead` to the next frame's time (0 when one is due), undefined when empty. */
  untilNext(playhead: number): number | undefined {
    const first = this.#frames[0];
    return first === undefined ? undefined : Math.max(0, first.time - playhead);
  }

  /** Takes every frame out (to close them), and forgets the end. */
  clear(): T[] {
    this.#end = -Infinity;
    return this.#frames.splice(0);
  }
}
