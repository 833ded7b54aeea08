/**
 * Rendition ids: a stream id whose last segment names a picture size and, optionally, a frame
 * rate and a video bitrate, in the usual `WIDTHxHEIGHT-FPS~KBPS` form
 * (`room/live/1280x720-30~2500`). Renditions of one input share the id before that segment, their
 * group (`room/live`). The `publish` command reads what to encode from such ids; a node can read
 * the same ids to know the renditions of a group.
 *
 * This module runs in browsers and in Deno alike.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRenditionId } from "./rendition.ts";
 * const id = parseRenditionId("room/live/1280x720-30~2500");
 * assert(id?.group === "room/live" && id.width === 1280 && id.fps === 30 && id.kbps === 2500);
 * assert(parseRenditionId("room/live") === null);
 * ```
 * @module
 */

/** What a rendition id says. */
export interface RenditionId {
  /** The whole stream id. */
  streamId: string;
  /** The id before the last `/` (empty when the id is the rendition segment alone). */
  group: string;
  /** Picture width in pixels. */
  width: number;
  /** Picture height in pixels. */
  height: number;
  /** Frames per second, when the id gives them (`-30`). */
  fps?: number;
  /** Video bitrate in kbit/s, when the id gives it (`~2500`). */
  kbps?: number;
}

const RENDITION = /^(?:(.*)\/)?(\d+)x(\d+)(?:-(\d+(?:\.\d+)?))?(?:~(\d+))?$/;

/** The rendition an id names, or null when its last segment is not in the `WxH-FPS~KBPS` form. */
export function parseRenditionId(streamId: string): RenditionId | null {
  const match = RENDITION.exec(streamId);
  if (match === null) return null;
  const id: RenditionId = {
    streamId,
    group: match[1] ?? "",
    width: Number(match[2]),
    height: Number(match[3]),
  };
  if (match[4] !== undefined) id.fps = Number(match[4]);
  if (match[5] !== undefined) id.kbps = Number(match[5]);
  return id;
}
