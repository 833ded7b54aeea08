/**
 * The two players of the ABR benchmark in a page, watched the same way: the frame tracker
 * (picture sizes, pauses) and the time-code reader (glass to glass from the picture) on every
 * presented frame, and the player's own switch events on the wall clock (`window.switchLog`):
 * our player's `levelswitched`, hls.js's `LEVEL_SWITCHED`.
 *
 * @example
 * ```ts ignore
 * await watchPage(page, "hls.js");
 * await waitSettled(page, 40000);
 * const seen = await takeSeen(page);
 * ```
 * @module
 */

import type { Page } from "playwright-core";
import { waitInPage } from "../browser/helpers/browser.ts";
import { FRAME_TRACKER, type FrameTrack, frameTrack } from "../browser/helpers/frame_tracker.ts";
import { type CodedFrame, TIME_CODE_READER } from "./latency_timecode.ts";

/** A switch the player reported. */
export interface PlayerSwitch {
  /** Wall clock, ms since the epoch. */
  at: number;
  /** What the player said: our `reason id`, hls.js's level index and picture. */
  label: string;
}

/** Which player the page runs. */
export type PlayerKind = "ours" | "hls.js";

/** Installs the frame tracker, the time-code reader and the switch log in a page. */
export async function watchPage(page: Page, kind: PlayerKind): Promise<void> {
  await page.evaluate(FRAME_TRACKER);
  await page.evaluate(TIME_CODE_READER);
  await page.evaluate((kind) => {
    const scope = globalThis as unknown as {
      switchLog: PlayerSwitch[];
      watch: {
        player?: { addEventListener(name: string, handler: (info: never) => void): void };
        hls?: unknown;
      };
    };
    scope.switchLog = [];
    if (kind === "ours") {
      scope.watch.player!.addEventListener(
        "levelswitched",
        (info: { id: string; reason: string }) =>
          scope.switchLog.push({ at: Date.now(), label: `${info.reason} ${info.id}` }),
      );
    } else {
      // hls.js orders its levels by bitrate, lowest first: the label names the picture.
      const hls = scope.watch.hls as unknown as {
        on(name: string, handler: (name: string, data: { level: number }) => void): void;
        levels: { width: number; height: number }[];
      };
      hls.on("hlsLevelSwitched", (_, data) => {
        const level = hls.levels[data.level];
        scope.switchLog.push({
          at: Date.now(),
          label: `level ${data.level} (${level?.width}x${level?.height})`,
        });
      });
    }
  }, kind);
}

/**
 * Waits until the top picture (1280 wide) has been on screen, with no size change and no switch,
 * for `quietMs`; false after `timeoutMs` (the run goes on, noted).
 */
export async function waitSettled(page: Page, quietMs: number, timeoutMs: number) {
  try {
    await waitInPage(
      page,
      new Function(`
        const sizes = window.frameTrack.sizes;
        const last = sizes[sizes.length - 1];
        const lastSwitch = window.switchLog[window.switchLog.length - 1]?.at ?? 0;
        return last !== undefined && last.width === 1280 &&
          Date.now() - Math.max(last.at, lastSwitch) >= ${quietMs};
      `) as () => boolean,
      timeoutMs,
      "the top picture on screen, settled",
    );
    return true;
  } catch {
    return false;
  }
}

/** Forgets the frames read so far (the run starts now). */
export async function forgetFrames(page: Page): Promise<void> {
  await page.evaluate("window.timeCode.take()");
}

/** What the page saw. */
export interface Seen {
  frames: CodedFrame[];
  track: FrameTrack;
  switches: PlayerSwitch[];
  errors: string[];
}

/** Takes what the page saw. */
export async function takeSeen(page: Page): Promise<Seen> {
  const frames = await page.evaluate("window.timeCode.take()") as CodedFrame[];
  const track = await frameTrack(page);
  const { switches, errors } = await page.evaluate(() => {
    const scope = globalThis as unknown as {
      switchLog: PlayerSwitch[];
      watch: { errors: string[] };
    };
    return { switches: scope.switchLog, errors: scope.watch.errors };
  });
  return { frames, track, switches, errors };
}
