/**
 * Groups the stream's own parts (as small as one frame, ~33 ms) into HLS parts of a steady
 * duration up to the part target. A group closes as soon as a next stream part as long as the
 * one before would take it past the target (so a steady source has each HLS part published the
 * moment its last stream part arrives), when a part arrives that does not fit, or at the
 * fragment's end. Durations come
 * from the media's own timestamps (PTS) and the fragment's duration, and groups depend only on the
 * fragment's parts (and, for its first HLS part, the length of the stream part before it), so
 * every node that saw the fragment from its part 0 numbers the same HLS parts the same way; only a
 * source that changes its part length exactly at a fragment start, seen by a node that had not
 * seen the part before, could be grouped otherwise there.
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
  /** Length of the last stream part whose end is known, seconds. */
  #previous: number | undefined;

  /**
   * A grouper for one fragment, up to `targetSeconds` per HLS part. `previousPartSeconds`, the
   * length of the stream's last part before this fragment, lets the fragment's first HLS part
   * close on its arrival too (without it, it closes when the next part arrives).
   */
  constructor(targetSeconds: number, previousPartSeconds?: number) {
    this.#target = targetSeconds;
    this.#previous = previousPartSeconds;
  }

  /** Length of the last stream part whose end is known, seconds (for the next fragment's grouper). */
  get lastPartSeconds(): number | undefined {
    return this.#previous;
  }

  /** The fragment's parts can no longer be grouped (see the module doc). */
  get broken(): boolean {
    return this.#broken;
  }

  /** Adds the next stream part (the first must be the fragment's part 0); returns newly closed HLS parts. */
  push(input: GrouperInput): HlsPart[] {
    if (this.#broken) return [];
    const closed: HlsPart[] = [];
    const pts = input.pts;
    if (this.#segmentStart === undefined) {
      if (pts === undefined) return this.#break();
      this.#segmentStart = this.#groupStart = this.#lastStart = pts;
      this.#independent = true;
    } else if (pts !== undefined) {
      // The part before this one has ended: its length is known now.
      this.#previous = ptsSeconds(this.#lastStart, pts);
      if (this.#chunks.length > 0) {
        const elapsed = ptsSeconds(this.#groupStart, pts);
        if (elapsed > this.#target + EPSILON) return this.#break();
        if (elapsed + this.#previous > this.#target + EPSILON) closed.push(this.#close(elapsed));
      }
      if (this.#chunks.length === 0) {
        this.#groupStart = pts;
        this.#independent = input.independent;
      }
      this.#lastStart = pts;
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
    } else if (this.#previous !== undefined) {
      // Close at once when a next part as long as the last one would not fit: a steady source
      // (one frame or a fixed number of frames per part) publishes each HLS part on arrival.
      const end = ptsSeconds(this.#groupStart, this.#lastStart) + this.#previous;
      if (end + this.#previous > this.#target + EPSILON) closed.push(this.#close(end));
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
