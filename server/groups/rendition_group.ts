/**
 * Rendition groups: the renditions of one input, named by their common prefix (`room/live` for
 * `room/live/1280x720-30~2500` and `room/live/640x360-30~800`), ordered best first (highest
 * bitrate, then largest picture). A node learns a group's members from the stream ids it knows:
 * the streams published here, the group's hash in the Redis registry
 * (`sources/registry/group_index.ts`), or the list an upstream node answers (`group_directory.ts`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { groupMembers } from "./rendition_group.ts";
 * const members = groupMembers("room/live", ["room/live/640x360-30~800", "room/live/1280x720-30~2500", "room/other"]);
 * assert.deepEqual(members.map((m) => m.streamId), ["room/live/1280x720-30~2500", "room/live/640x360-30~800"]);
 * ```
 * @module
 */

import { parseRenditionId, type RenditionId } from "../../shared/rendition.ts";

/** The renditions of `group` among `ids`, best first; empty when none parse as its renditions. */
export function groupMembers(group: string, ids: Iterable<string>): RenditionId[] {
  const members: RenditionId[] = [];
  for (const id of new Set(ids)) {
    const rendition = parseRenditionId(id);
    if (rendition !== null && rendition.group === group && group !== "") members.push(rendition);
  }
  return members.sort((a, b) =>
    (b.kbps ?? 0) - (a.kbps ?? 0) || b.width * b.height - a.width * a.height ||
    (a.streamId < b.streamId ? -1 : 1)
  );
}

/**
 * The bitrate a rendition is expected to need on the wire, in bit/s, before it has been measured:
 * its video `kbps` plus what audio and MPEG-TS add (measured on the `publish` command's output:
 * about 8 % and 140 kbit/s). A rendition without `~KBPS` counts by its picture size.
 */
export function nominalBitrate(rendition: RenditionId): number {
  const video = rendition.kbps !== undefined
    ? rendition.kbps * 1000
    : rendition.width * rendition.height * (rendition.fps ?? 30) * 0.1;
  return video * 1.08 + 140_000;
}
