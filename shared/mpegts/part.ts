/**
 * What the cutter ({@linkcode ./cutter.ts}) takes and gives: its options, the parts it hands out,
 * and its counters.
 *
 * This module runs in browsers and in Deno alike.
 *
 * @module
 */

/** Options of `TsCutter`. */
export interface TsCutterOptions {
  /** Target fragment duration in seconds: a fragment ends at the first keyframe at or after it. @default 2 */
  fragmentDuration?: number;
  /**
   * Target part duration in seconds, 0 for one part per fragment, or `"frame"`: one part per
   * video frame, handed out as soon as the muxer's write of it is in. @default "frame"
   */
  partDuration?: number | "frame";
  /** Wall clock in milliseconds since the epoch (for the `time` stamps). @default Date.now */
  now?: () => number;
  /** Non-video bytes kept before the first keyframe at most (the oldest go first). @default 4 MiB */
  maxPreambleBytes?: number;
}

/** One part of a fragment, ready to send. */
export interface TsPart {
  /** Index of the fragment, from 0 (per cutter). */
  fragment: number;
  /** Index of the part in its fragment, from 0. */
  index: number;
  /** Whole TS packets. Part 0 starts with PAT, PMT and a keyframe. */
  data: Uint8Array;
  /** The part starts with a keyframe (and the tables), so a decoder can start here. */
  independent: boolean;
  /** This part ends the fragment. */
  last: boolean;
  /** Unwrapped PTS (90 kHz) of the part's first frame. */
  pts: number;
  /** Wall-clock time of the part's first frame (ms since the epoch), from `MediaClock`. */
  time: number;
  /** Wall-clock time of the fragment's first frame (the `time` of part 0). */
  fragmentTime: number;
  /** Media in this part, in seconds (from decoding timestamps). */
  mediaDuration: number;
  /** On the last part: the duration of the whole fragment in seconds. */
  duration?: number;
  /** On part 0: the timestamps do not continue from the previous fragment. */
  discontinuity?: boolean;
  /** Wall-clock time (ms) when the part's last byte came in (so `emittedAt - lastByteAt` is the cutter's wait). */
  lastByteAt: number;
  /** Wall-clock time (ms) when the cutter handed the part out. */
  emittedAt: number;
}

/** Counters of a `TsCutter`. */
export interface TsCutterStats {
  /** Bytes pushed in. */
  inputBytes: number;
  /** Bytes handed out in parts. */
  outputBytes: number;
  /** Bytes of copies of PAT/PMT put at fragment starts because the encoder did not repeat them. */
  injectedBytes: number;
  /** Bytes dropped: video before the first keyframe, an overlong preamble, garbage between packets. */
  droppedBytes: number;
  /** Fragments completed. */
  fragments: number;
  /** Parts handed out. */
  parts: number;
}
