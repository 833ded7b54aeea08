/**
 * The `groups` list of `/stats`: for each rendition group viewers watch on this node, how many
 * watch it, how many watch each rendition, how many pinned one, and the reasons of their last
 * switches, so an operator sees where ABR puts the audience without reading per-viewer state.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { groupStats } from "./group_stats.ts";
 * const stats = groupStats([
 *   { group: "room/live", rendition: "room/live/1280x720-30~2500", pinned: false, reason: "start" },
 *   { group: "room/live", rendition: "room/live/640x360-30~800", pinned: true, reason: "pin" },
 * ]);
 * assert.deepEqual(stats[0].renditions, { "room/live/1280x720-30~2500": 1, "room/live/640x360-30~800": 1 });
 * ```
 * @module
 */

/** One group viewer as `/stats` counts it. */
export interface GroupViewerView {
  /** The group pulled. */
  group: string;
  /** The rendition sent to it now. */
  rendition: string;
  /** Whether the viewer pinned a rendition. */
  pinned: boolean;
  /** Why its last switch happened (`start` before any). */
  reason: string;
}

/** One entry of `/stats` `groups`. */
export interface GroupStats {
  /** The group id. */
  group: string;
  /** Viewers pulling the group. */
  viewers: number;
  /** Viewers per rendition sent now. */
  renditions: Record<string, number>;
  /** Viewers that pinned a rendition. */
  pinned: number;
  /** Viewers by the reason of their last switch. */
  reasons: Record<string, number>;
}

/** Counts `viewers` per group, groups in id order. */
export function groupStats(viewers: Iterable<GroupViewerView>): GroupStats[] {
  const groups = new Map<string, GroupStats>();
  for (const viewer of viewers) {
    let entry = groups.get(viewer.group);
    if (entry === undefined) {
      entry = { group: viewer.group, viewers: 0, renditions: {}, pinned: 0, reasons: {} };
      groups.set(viewer.group, entry);
    }
    entry.viewers++;
    entry.renditions[viewer.rendition] = (entry.renditions[viewer.rendition] ?? 0) + 1;
    if (viewer.pinned) entry.pinned++;
    entry.reasons[viewer.reason] = (entry.reasons[viewer.reason] ?? 0) + 1;
  }
  return [...groups.values()].sort((a, b) => (a.group < b.group ? -1 : 1));
}
