/**
 * The two players of the ABR benchmark in a page, watched the same way: the frame tracker
 * (picture sizes, pauses) and the time-code reader (glass to glass from the picture) on every
 * presented frame, and the player's own switch events on the wall clock (`window.switchLog`):
 * our player's `levelswitched`, hls.js's `LEVEL_SWITCHED`; for hls.js also its decisions,
 * fragment loads and errors (`window.playerLog`).
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
      playerLog: PlayerSwitch[];
      watch: {
        player?: { addEventListener(name: string, handler: (info: never) => void): void };
        hls?: unknown;
      };
    };
    scope.switchLog = [];
    scope.playerLog = [];
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
      const log = scope.playerLog;
      const on = hls.on.bind(hls) as unknown as (
        name: string,
        handler: (name: string, data: Record<string, never>) => void,
      ) => void;
      on(
        "hlsLevelSwitching",
        (_, data) => log.push({ at: Date.now(), label: `switching ${data.level}` }),
      );
      on(
        "hlsError",
        (_, data) =>
          log.push({ at: Date.now(), label: `error ${data.details}${data.fatal ? " fatal" : ""}` }),
      );
      on("hlsFragLoaded", (_, data) => {
        const frag = data.frag as unknown as {
          level: number;
          sn: number;
          stats: { total: number; loading: { start: number; end: number } };
        };
        const ms = Math.round(frag.stats.loading.end - frag.stats.loading.start);
        log.push({
          at: Date.now(),
          label: `fragment ${frag.level}/${frag.sn} ${frag.stats.total} B in ${ms} ms`,
        });
      });
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
  /** hls.js: its level switching, fragment loads and errors (fatal or not), in order. */
  log: PlayerSwitch[];
  errors: string[];
}

/** Takes what the page saw. */
export async function takeSeen(page: Page): Promise<Seen> {
  const frames = await page.evaluate("window.timeCode.take()") as CodedFrame[];
  const track = await frameTrack(page);
  const { switches, log, errors } = await page.evaluate(() => {
    const scope = globalThis as unknown as {
      switchLog: PlayerSwitch[];
      playerLog: PlayerSwitch[];
      watch: { errors: string[] };
    };
    return { switches: scope.switchLog, log: scope.playerLog, errors: scope.watch.errors };
  });
  return { frames, track, switches, log, errors };
}
