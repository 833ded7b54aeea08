/**
 * Test support: chunks as the player's pipeline carries them (a fragment or a part with what the
 * probe read from it), whose bytes a {@linkcode FakeSourceBuffer} buffers as the media from
 * `start` to `start + duration` (see `markMedia`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fragmentChunk, partChunk } from "./chunks.ts";
 * const whole = fragmentChunk({ seq: 1, start: 10, duration: 2 });
 * assert(whole.starts && whole.ends && whole.firstPts === 900000);
 * const part = partChunk({ seq: 2, part: 1, start: 12.2, duration: 0.2 });
 * assert(!part.starts && !part.independent);
 * ```
 * @module
 */

import type { ProbedChunk } from "../media/playback_path.ts";
import { markMedia } from "./fake_media.ts";

/** What a test says about a chunk. */
export interface ChunkOptions {
  /** Fragment sequence number. */
  seq: number;
  /** Stream time of its first frame, in seconds. */
  start: number;
  /** Seconds of media in it. */
  duration: number;
  /** Publisher's clock of its first frame (ms since the epoch). */
  time?: number;
  /** Fragments were skipped before it. */
  jump?: boolean;
  /** Timestamps may not continue. */
  discontinuity?: boolean;
  /** Bytes in it. @default 188 */
  size?: number;
}

function chunk(options: ChunkOptions, fields: Partial<ProbedChunk>): ProbedChunk {
  return {
    kind: "fragment",
    seq: options.seq,
    time: options.time,
    jump: options.jump ?? false,
    discontinuity: options.discontinuity ?? false,
    starts: true,
    independent: true,
    ends: true,
    resumed: false,
    data: markMedia(
      new Uint8Array(options.size ?? 188),
      options.start,
      options.start + options.duration,
    ),
    receivedAt: performance.now(),
    firstPts: Math.round(options.start * 90000),
    ...fields,
  };
}

/** A whole fragment (an `F`). */
export function fragmentChunk(options: ChunkOptions): ProbedChunk {
  return chunk(options, { duration: options.duration });
}

/** What a test says about a part. */
export interface PartOptions extends ChunkOptions {
  /** Part index; part 0 starts the fragment. */
  part: number;
  /** Starts with a keyframe (part 0 always does). */
  independent?: boolean;
  /** The last part: it carries the whole fragment's duration. */
  fragmentDuration?: number;
}

/** A part (a `P`). */
export function partChunk(options: PartOptions): ProbedChunk {
  return chunk(options, {
    kind: "part",
    part: options.part,
    starts: options.part === 0,
    independent: options.part === 0 || options.independent === true,
    ends: options.fragmentDuration !== undefined,
    duration: options.fragmentDuration,
  });
}
