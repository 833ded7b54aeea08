/**
 * Groups the stream's own parts (as small as one frame, ~33 ms) into HLS parts of a steady
 * duration up to the part target. A group closes when the next stream part would take it past
 * the target (judged by the length of the part before), or at the fragment's end. Durations come
 * from the media's own timestamps (PTS) and the fragment's duration, and groups depend only on the
 * fragment's parts, so every node that saw the fragment from its part 0 numbers the same HLS parts
 * the same way.
 *
 * A fragment whose parts cannot be timed (no PTS at a part's start) or whose single part is longer
 * than the target gets no HLS parts from there on (`broken`): it is listed as a whole segment
 * once complete.
 *
 * @example
 * ```ts ignore
 * const grouper = new PartGrouper(0.25);
 * grouper.push({ data, pts: 0, independent: true, last: false }); // [] (still open)
 * grouper.push({ data, pts: 18000, independent: false, last: false }); // [{ index: 0, duration: 0.2, ... }]
 * ```
 * @module
 */

import { concatBytes } from "../../shared/mpegts/packet.ts";
import { ptsSeconds } from "./pts_reader.ts";

/** One HLS part: consecutive stream parts of one fragment. */
export interface HlsPart {
  /** Index in its segment, from 0. */
  index: number;
  /** Seconds. */
  duration: number;
  /** Starts with a keyframe. */
  independent: boolean;
  /** The MPEG-TS bytes (the stream part's own bytes when it is one, else joined once). */
  data: Uint8Array;
}

/** One stream part as the grouper needs it. */
export interface GrouperInput {
  /** Bytes. */
  data: Uint8Array;
  /** PTS (90 kHz) of its first frame, if known. */
  pts: number | undefined;
  /** Starts with a keyframe. */
  independent: boolean;
  /** Closes the fragment. */
  last: boolean;
  /** On the last part: the fragment's duration in seconds. */
  fragmentDuration?: number;
}

/** Tolerance for timestamp rounding, in seconds. */
const EPSILON = 0.0015;

/** The HLS parts of one fragment, made as its stream parts arrive. */
export class PartGrouper {
  /** Parts closed so far, in order. */
  readonly parts: HlsPart[] = [];
  #target: number;
  #segmentStart: number | undefined;
  #groupStart = 0;
  #lastStart = 0;
  #chunks: Uint8Array[] = [];
  #independent = false;
  #broken = false;

  /** A grouper for one fragment, up to `targetSeconds` per HLS part. */
  constructor(targetSeconds: number) {
    this.#target = targetSeconds;
  }

  /** The fragment's parts can no longer be grouped (see the module doc). */
  get broken(): boolean {
    return this.#broken;
  }

  /** Adds the next stream part (the first must be the fragment's part 0); returns newly closed HLS parts. */
  push(input: GrouperInput): HlsPart[] {
    if (this.#broken) return [];
    const closed: HlsPart[] = [];
    if (this.#segmentStart === undefined) {
      if (input.pts === undefined) return this.#break();
      this.#segmentStart = this.#groupStart = this.#lastStart = input.pts;
      this.#independent = true;
    } else if (input.pts !== undefined) {
      const elapsed = ptsSeconds(this.#groupStart, input.pts);
      const previous = ptsSeconds(this.#lastStart, input.pts);
      if (elapsed > this.#target + EPSILON) return this.#break();
      if (elapsed + previous > this.#target + EPSILON && this.#chunks.length > 0) {
        closed.push(this.#close(elapsed));
        this.#groupStart = input.pts;
        this.#independent = input.independent;
      }
      this.#lastStart = input.pts;
    } else if (input.independent) {
      // A keyframe part that cannot be timed: the rest of the fragment has no parts.
      return this.#break();
    }
    this.#chunks.push(input.data);
    if (input.last) {
      const end = (input.fragmentDuration ?? 0) -
        ptsSeconds(this.#segmentStart, this.#groupStart);
      if (end <= 0 || end > this.#target + EPSILON) return this.#break();
      closed.push(this.#close(end));
    }
    return closed;
  }

  #close(duration: number): HlsPart {
    const chunks = this.#chunks;
    const part: HlsPart = {
      index: this.parts.length,
      duration: Math.min(duration, this.#target),
      independent: this.#independent,
      data: chunks.length === 1 ? chunks[0] : concatBytes(chunks),
    };
    this.#chunks = [];
    this.parts.push(part);
    return part;
  }

  #break(): HlsPart[] {
    this.#broken = true;
    this.#chunks = [];
    return [];
  }
}
