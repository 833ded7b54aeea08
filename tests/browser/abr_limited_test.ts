/**
 * Adaptive bitrate as a viewer on a slow link sees it: real headless Chromium, our player on its
 * default path (WebCodecs), a real node and the real `publish` command sending two renditions
 * (1280x720 ~2500 and 640x360 ~800, 1 s keyframes). The page pulls the group (`group: true`)
 * through the rate proxy (`tests/helpers/rate_proxy.ts`) on the schedule 5 Mbit/s → 1.2 Mbit/s →
 * 5 Mbit/s. Asserted: the top level on screen while the link is fast; after the drop
 * `levelswitched` down to the low level and 640x360 frames on screen within a bound; while
 * limited, no switch up; after the lift `levelswitched` up and 1280x720 frames again within a
 * bound; no stall a viewer sees (the longest pause between presented frames, over the whole
 * schedule, under a bound); no player error. The measured values are printed.
 */

import type { Page } from "playwright-core";
import { assert, assertAtMost, assertEquals } from "../helpers/assert.ts";
import { hasFfmpeg } from "../helpers/media.ts";
import { startNode } from "../helpers/node_process.ts";
import { LOW_RENDITION, publishRenditions, TOP_RENDITION } from "../helpers/publish_command.ts";
import { RateProxy } from "../helpers/rate_proxy.ts";
import { launchBrowser, sleep, waitInPage } from "./helpers/browser.ts";
import {
  firstSizeAfter,
  FRAME_TRACKER,
  type FrameTrack,
  frameTrack,
  largestGap,
} from "./helpers/frame_tracker.ts";
import { openModulePage, record, stats } from "./helpers/pages.ts";

const FAST = 5_000_000;
const SLOW = 1_200_000;
/**
 * How long the phases last (the schedule), ms. The fast one is long enough that the drop comes
 * more than 10 s after the start's switches: the node takes an up switch followed within 10 s by
 * a down switch for a failed probe and doubles its hold before the next up (seen once: the up
 * switch 6.9 s after the lift instead of 3.9 s, with the drop 9 s after the start's up switch).
 */
const FAST_HOLD_MS = 10000;
const SLOW_HOLD_MS = 15000;
/**
 * From the drop to the first 640x360 frame on screen, at most (ms). Measured with shedding (the
 * node leaves out the tail of a fragment's video once it decides to move down), eight runs:
 * 640x360 on screen 1.6–2.5 s after the drop, 1280x720 5.1–6.0 s after the lift; the longest
 * pause 450–467 ms with the 400 ms tail (two runs), 200–583 ms with a 500 ms one (83–117 ms
 * before shedding, when the delay took 6–7 s to come back instead of 1.8 s).
 */
const MAX_DOWN_MS = 4000;
/** From the lift to the first 1280x720 frame on screen again, at most (ms). */
const MAX_UP_MS = 8000;
/**
 * The longest pause between two presented frames over the schedule, at most (ms): the shed tail
 * of one fragment (400 ms) and a few frames.
 */
const MAX_FRAME_GAP_MS = 750;

/** One `levelswitched`, on the wall clock. */
interface Switch {
  at: number;
  reason: string;
  id: string;
}

/** Starts recording `levelswitched` into `window.switchLog`. */
function recordSwitches(page: Page): Promise<void> {
  return page.evaluate(() => {
    const scope = globalThis as unknown as {
      switchLog: Switch[];
      watch: { player: { addEventListener(name: string, handler: (info: never) => void): void } };
    };
    scope.switchLog = [];
    scope.watch.player.addEventListener(
      "levelswitched",
      (info: { id: string; reason: string }) =>
        scope.switchLog.push({ at: Date.now(), reason: info.reason, id: info.id }),
    );
  });
}

function switches(page: Page): Promise<Switch[]> {
  return page.evaluate(() => (globalThis as unknown as { switchLog: Switch[] }).switchLog);
}

/** The player's glass-to-glass estimate now (s), null when it has none. */
function latency(page: Page): Promise<number | null> {
  return page.evaluate(() =>
    (globalThis as unknown as { watch: { player: { latency: { latency: number | null } | null } } })
      .watch.player.latency?.latency ?? null
  );
}

function describe(track: FrameTrack, log: Switch[], start: number): string {
  const at = (ms: number) => `${((ms - start) / 1000).toFixed(2)}s`;
  return `sizes ${track.sizes.map((s) => `${at(s.at)} ${s.size}`).join(", ")}; switches ${
    log.map((s) => `${at(s.at)} ${s.reason} ${s.id.split("/").pop()}`).join(", ")
  }; gaps > 100 ms ${
    track.gaps.filter((g) => g.gap > 100).map((g) => `${at(g.at)} ${g.gap.toFixed(0)}`).join(", ")
  }`;
}

/** Waits for a picture of `width` presented after `from`; its time (ms since the epoch). */
async function waitWidth(page: Page, width: number, from: number, ms: number, what: string) {
  try {
    await waitInPage(
      page,
      new Function(
        `return window.frameTrack.sizes.some((s) => s.width === ${width} && s.at >= ${from});`,
      ) as () => boolean,
      ms,
      what,
    );
  } catch (error) {
    throw new Error(
      `${(error as Error).message.split(" (")[0]}: ${
        describe(await frameTrack(page), await switches(page), from)
      }`,
    );
  }
  return firstSizeAfter(await frameTrack(page), width, from)!.at;
}

Deno.test({
  name: "abr limited: 5 → 1.2 → 5 Mbit/s in Chromium: down and up with the picture, no stall",
  ignore: !await hasFfmpeg(),
  async fn() {
    await using node = await startNode({ env: { LOG_INFO: "NO" } });
    const publisher = publishRenditions(node.wsUrl);
    try {
      await using proxy = RateProxy.start(node.port, FAST);
      await using browser = await launchBrowser();
      const page = await openModulePage(
        browser,
        node,
        "room/live",
        { group: true, cdnServerUrl: proxy.wsUrl },
        FRAME_TRACKER,
      );
      await recordSwitches(page);
      // Both renditions listed, the top one on screen, settled: no switch for 3 s. (At the join
      // the node sends the current fragment from its start, faster than 5 Mbit/s carries; the
      // node's start hold keeps lag alone from moving the viewer down, but a low capacity sample
      // on a loaded machine still can (seen once in a suite run): printed below, not asserted.)
      const opened = Date.now();
      await waitInPage(
        page,
        () => {
          const scope = globalThis as unknown as {
            frameTrack: FrameTrack;
            switchLog: Switch[];
            watch: { player: { levels: unknown[]; currentLevel: number } };
          };
          const sizes = scope.frameTrack.sizes;
          const lastSwitch = scope.switchLog[scope.switchLog.length - 1]?.at ?? 0;
          return scope.watch.player.levels.length === 2 && scope.watch.player.currentLevel === 0 &&
            sizes.length > 0 && sizes[sizes.length - 1].width === 1280 &&
            Date.now() - lastSwitch >= 3000;
        },
        40000,
        "both levels listed, the top one on screen, no switch for 3 s",
      );
      const startup = await switches(page);
      const levels = await page.evaluate(() =>
        (globalThis as unknown as { watch: { player: { levels: { id: string }[] } } }).watch
          .player.levels.map((level) => level.id)
      );
      assertEquals(levels, [TOP_RENDITION, LOW_RENDITION]);
      const before = await stats(page);
      const start = Date.now();

      // 5 Mbit/s: the top level stays (the schedule's phase, not a wait for something).
      await sleep(FAST_HOLD_MS);
      const fastLatency = await latency(page);
      const fastSwitches = (await switches(page)).filter((s) => s.at >= start);
      assertEquals(
        fastSwitches.map((s) => s.reason),
        [],
        `no switch at 5 Mbit/s: ${describe(await frameTrack(page), await switches(page), start)}`,
      );

      // 1.2 Mbit/s: down.
      proxy.rate = SLOW;
      const dropAt = Date.now();
      const downShown = await waitWidth(page, 640, dropAt, 20000, "640x360 after the drop");
      const down = (await switches(page)).find((s) => s.at >= dropAt);
      assert(
        down !== undefined && down.reason === "down" && down.id === LOW_RENDITION,
        JSON.stringify(down),
      );
      assertEquals(await page.evaluate(`document.getElementById("video").videoWidth`), 640);
      // The rest of the limited phase: the viewer stays down.
      await sleep(Math.max(0, dropAt + SLOW_HOLD_MS - Date.now()));
      const slowLatency = await latency(page);
      const whileSlow = (await switches(page)).filter((s) => s.at >= dropAt);

      // 5 Mbit/s again: up.
      proxy.rate = FAST;
      const liftAt = Date.now();
      const upShown = await waitWidth(page, 1280, liftAt, 30000, "1280x720 after the lift");
      const up = (await switches(page)).find((s) => s.at >= liftAt && s.reason === "up");
      assertEquals(await page.evaluate(`document.getElementById("video").videoWidth`), 1280);
      // A second of the top level after the up switch, to see the switch through.
      await waitInPage(
        page,
        new Function(`return window.frameTrack.last > ${upShown + 1000};`) as () => boolean,
        5000,
        "a second of frames after the switch up",
      );
      const end = Date.now();
      const afterLatency = await latency(page);
      const track = await frameTrack(page);
      const log = await switches(page);
      const after = await stats(page);
      const gap = largestGap(track, start, end);
      const ms = (value: number) => `${value.toFixed(0)} ms`;
      const s = (value: number | null) => value === null ? "?" : `${value.toFixed(2)} s`;
      console.log(
        `  ${after.playback}: down switch ${ms(down.at - dropAt)} after the drop, 640x360 on ` +
          `screen ${ms(downShown - dropAt)}; up switch ${
            up ? ms(up.at - liftAt) : "none"
          } after the lift, 1280x720 on screen ${ms(upShown - liftAt)}; longest frame gap ` +
          `${ms(gap)}; stalls counter ${after.stalls - before.stalls}; player latency ` +
          `${s(fastLatency)} at 5, ${s(slowLatency)} at the end of 1.2, ${s(afterLatency)} after`,
      );
      console.log(`  from the page's start: ${describe(track, log, opened)}`);
      console.log(`  switches before the schedule: ${startup.map((s) => s.reason).join(", ")}`);
      assertEquals((await record(page)).errors, []);
      assertEquals(
        whileSlow.map((s) => `${s.reason} ${s.id}`),
        [`down ${LOW_RENDITION}`],
        "while limited: one switch down, none up",
      );
      assert(up !== undefined && up.id === TOP_RENDITION, describe(track, log, start));
      assertAtMost(downShown - dropAt, MAX_DOWN_MS, "drop to 640x360 on screen (ms)");
      assertAtMost(upShown - liftAt, MAX_UP_MS, "lift to 1280x720 on screen (ms)");
      assertAtMost(gap, MAX_FRAME_GAP_MS, "longest pause between presented frames (ms)");
      await page.close();
    } finally {
      await publisher.stop();
    }
  },
});
