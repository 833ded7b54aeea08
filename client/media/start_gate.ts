/**
 * The one place where chunks wait before playback can start: before a media element is attached,
 * or before the stream's codecs are known (a codec header may come a part later, with audio in
 * long PES packets). What it holds is always something a decoder can start from:
 *
 * - it begins with an independent chunk (a fragment start, or a part that starts with a
 *   keyframe); chunks that cannot begin a decode are not kept while nothing is held;
 * - a fragment start replaces what was held (playback starts at the newest fragment);
 * - beyond `max` chunks, it keeps the newest independent chunk and everything after it; when
 *   that is still too many (no independent chunk since the oldest), it lets go of everything and
 *   waits for the next independent chunk.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StartGate } from "./start_gate.ts";
 * const gate = new StartGate<{ starts: boolean; independent: boolean; n: number }>(3);
 * gate.hold({ starts: false, independent: false, n: 0 }); // nothing to start from: not kept
 * gate.hold({ starts: true, independent: true, n: 1 });
 * gate.hold({ starts: false, independent: false, n: 2 });
 * gate.hold({ starts: false, independent: true, n: 3 });
 * gate.hold({ starts: false, independent: false, n: 4 }); // four: back to the newest keyframe
 * assert.deepEqual(gate.take().map((chunk) => chunk.n), [3, 4]);
 * ```
 * @module
 */

/** What the gate needs to know of a chunk. */
export interface StartableChunk {
  /** Starts a fragment. */
  starts: boolean;
  /** Starts with a keyframe (fragment starts do). */
  independent: boolean;
}

/** Holds chunks until playback can start, bounded, keeping what a decoder can start from. */
export class StartGate<C extends StartableChunk> {
  #max: number;
  #held: C[] = [];

  /** A gate holding at most `max` chunks. */
  constructor(max: number) {
    this.#max = Math.max(1, max);
  }

  /** Chunks held. */
  get length(): number {
    return this.#held.length;
  }

  /** Keeps `chunk` after the ones held, by the rules above. */
  hold(chunk: C): void {
    if (chunk.starts) this.#held = [];
    if (this.#held.length === 0 && !chunk.independent) return;
    this.#held.push(chunk);
    if (this.#held.length <= this.#max) return;
    let newest = this.#held.length - 1;
    while (newest > 0 && !this.#held[newest].independent) newest--;
    this.#held = newest > 0 ? this.#held.slice(newest) : [];
  }

  /** Everything held, in order; the gate is empty afterwards. */
  take(): C[] {
    const held = this.#held;
    this.#held = [];
    return held;
  }
}
