/**
 * What a viewer sees, frame by frame, in a page with `<video id="video">`: every presented frame
 * (`requestVideoFrameCallback`), its picture size and the pause since the one before, on the wall
 * clock (ms since the epoch, the machine's clock, so the test process can compare its own events
 * with them). Installed by {@linkcode FRAME_TRACKER} into `window.frameTrack`.
 *
 * @example
 * ```ts ignore
 * const page = await openModulePage(browser, node, "room/live", { group: true }, FRAME_TRACKER);
 * const track = await frameTrack(page);
 * console.log(track.sizes, largestGap(track, from, to));
 * ```
 * @module
 */

import type { Page } from "playwright-core";

/** A change of the presented picture size. */
export interface SizeChange {
  /** `WIDTHxHEIGHT`. */
  size: string;
  /** Width in pixels. */
  width: number;
  /** When the first frame of this size was presented (ms since the epoch). */
  at: number;
}

/** A pause between two presented frames longer than {@linkcode NOTED_GAP_MS}. */
export interface FrameGap {
  /** When the frame after the pause was presented (ms since the epoch). */
  at: number;
  /** The pause, ms. */
  gap: number;
}

/** Pauses longer than this are kept one by one (`gaps`); 30 fps is 33 ms a frame. */
export const NOTED_GAP_MS = 45;

/** What `window.frameTrack` holds. */
export interface FrameTrack {
  /** Frames presented. */
  count: number;
  /** The size changes, the first frame's size first. */
  sizes: SizeChange[];
  /** Every pause longer than {@linkcode NOTED_GAP_MS}. */
  gaps: FrameGap[];
  /** When the latest frame was presented (ms since the epoch). */
  last: number;
}

/** Page script: records presented frames into `window.frameTrack` (a {@linkcode FrameTrack}). */
export const FRAME_TRACKER = `(() => {
  const video = document.getElementById("video");
  const track = { count: 0, sizes: [], gaps: [], last: 0 };
  window.frameTrack = track;
  const next = () => video.requestVideoFrameCallback((now, meta) => {
    const at = performance.timeOrigin + now;
    if (track.last > 0 && at - track.last > ${NOTED_GAP_MS}) track.gaps.push({ at, gap: at - track.last });
    track.last = at;
    track.count++;
    const size = meta.width + "x" + meta.height;
    if (track.sizes.length === 0 || track.sizes[track.sizes.length - 1].size !== size) {
      track.sizes.push({ size, width: meta.width, at });
    }
    next();
  });
  next();
})();`;

/** The page's frame track. */
export function frameTrack(page: Page): Promise<FrameTrack> {
  return page.evaluate(() => (globalThis as unknown as { frameTrack: FrameTrack }).frameTrack);
}

/**
 * The longest pause between presented frames from `from` to `to` (ms since the epoch), at least
 * the pause up to now when frames stopped; {@linkcode NOTED_GAP_MS} when none was longer.
 */
export function largestGap(track: FrameTrack, from: number, to: number): number {
  let largest = NOTED_GAP_MS;
  for (const gap of track.gaps) {
    if (gap.at >= from && gap.at - gap.gap <= to) largest = Math.max(largest, gap.gap);
  }
  if (track.last < to) largest = Math.max(largest, to - Math.max(track.last, from));
  return largest;
}

/** The first size change to `width` after `from` (ms since the epoch), if any. */
export function firstSizeAfter(track: FrameTrack, width: number, from: number): SizeChange | null {
  return track.sizes.find((change) => change.width === width && change.at >= from) ?? null;
}
