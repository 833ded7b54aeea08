/**
 * Levels (hls.js's name for renditions) of a rendition group, read from the rendition ids the node
 * lists on `OK:renditions=` (`shared/rendition.ts`: `room/live/1280x720-30~2500`), in the node's
 * order (best first), and the payload of the `levelswitched` event.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { levelsFrom } from "./levels.ts";
 * const levels = levelsFrom(["room/live/1280x720-30~2500", "room/live/640x360-30~800"]);
 * assert.deepEqual(levels[1], {
 *   id: "room/live/640x360-30~800", width: 640, height: 360, bitrate: 800_000, frameRate: 30,
 * });
 * ```
 * @module
 */

import { parseRenditionId } from "../shared/rendition.ts";

/** One level: a rendition of the group. */
export interface Level {
  /** The rendition's stream id (`room/live/1280x720-30~2500`). */
  id: string;
  /** Picture width in pixels (0 when the id does not say). */
  width: number;
  /** Picture height in pixels (0 when the id does not say). */
  height: number;
  /** Video bitrate in bits per second, from the id's `~KBPS` (0 when it gives none). */
  bitrate: number;
  /** Frames per second, from the id's `-FPS` (0 when it gives none). */
  frameRate: number;
}

/** The payload of `levelswitched`: the level that now arrives, and why the node switched. */
export interface LevelSwitchedInfo {
  /** Index into `levels` (-1 when the node named a rendition not in the list). */
  level: number;
  /** The rendition id. */
  id: string;
  /** The node's reason: `start`, `down`, `up` or `pin` (empty when it gave none). */
  reason: string;
  /** The index of the level before (-1 at the start). */
  previous: number;
}

/** The levels for the rendition ids `ids`, in their order. */
export function levelsFrom(ids: readonly string[]): Level[] {
  return ids.map((id) => {
    const parsed = parseRenditionId(id);
    return {
      id,
      width: parsed?.width ?? 0,
      height: parsed?.height ?? 0,
      bitrate: (parsed?.kbps ?? 0) * 1000,
      frameRate: parsed?.fps ?? 0,
    };
  });
}
