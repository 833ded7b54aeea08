/**
 * The player's side of adaptive bitrate in real headless Chromium, against a real node and the
 * real `publish` command sending two renditions (1280x720 and 640x360, 1 s keyframes). A page
 * pulls the group (`group: true`) on a free link, on each media path in turn (WebCodecs, MSE). It
 * starts on the top level and, once it plays smoothly on the node's clock, pins the low one (`currentLevel = 1`), then goes back to automatic
 * (`currentLevel = -1`) and the node moves it up again. Asserted on each path: `levelswitched`
 * fires (`pin`, or `down` if the node moved first; then `up`), the picture size changes (the
 * frames presented, `requestVideoFrameCallback` metadata, and `video.videoWidth`), no error, and
 * no stall a viewer sees: the longest pause between two presented frames stays under 250 ms.
 */

import type { Page } from "playwright-core";
import { assert, assertAtMost, assertEquals } from "../helpers/assert.ts";
import { hasFfmpeg } from "../helpers/media.ts";
import { type NodeProcess, startNode } from "../helpers/node_process.ts";
import { LOW_RENDITION, publishRenditions, TOP_RENDITION } from "../helpers/publish_command.ts";
import { launchBrowser, type TestBrowser, waitInPage } from "./helpers/browser.ts";
import { openModulePage, record, stats } from "./helpers/pages.ts";

const TOP = TOP_RENDITION;
const LOW = LOW_RENDITION;
/** The longest pause between two presented frames across a switch, ms (30 fps: 33 ms a frame). */
const MAX_FRAME_GAP_MS = 250;

/** Records presented frames' sizes and the pauses between them (`window.frames`). */
const FRAME_TRACKER = `
window.frames = { width: 0, height: 0, sizes: [], maxGap: 0, last: 0, smooth: 0 };
{
  const video = document.getElementById("video");
  const next = () => video.requestVideoFrameCallback((now, meta) => {
    const f = window.frames;
    if (f.last > 0) f.maxGap = Math.max(f.maxGap, now - f.last);
    f.smooth = f.last > 0 && now - f.last < 100 ? f.smooth + 1 : 0;
    f.last = now;
    if (meta.width !== f.width || meta.height !== f.height) {
      f.width = meta.width; f.height = meta.height;
      f.sizes.push(meta.width + "x" + meta.height);
    }
    next();
  });
  next();
}`;

interface Frames {
  width: number;
  height: number;
  sizes: string[];
  maxGap: number;
  /** Frames presented in a row since the last pause of 100 ms or more. */
  smooth: number;
}

function frames(page: Page): Promise<Frames> {
  return page.evaluate(() => (globalThis as unknown as { frames: Frames }).frames);
}

/** Starts recording `levelswitched` in the page (`window.switches`). */
function recordSwitches(page: Page): Promise<void> {
  return page.evaluate(() => {
    const scope = globalThis as unknown as {
      switches: string[];
      watch: { player: { addEventListener(name: string, handler: (info: never) => void): void } };
    };
    scope.switches = [];
    scope.watch.player.addEventListener(
      "levelswitched",
      (info: { id: string; reason: string }) => scope.switches.push(`${info.reason} ${info.id}`),
    );
  });
}

/** What the page shows now, for a failure message. */
async function describePage(page: Page): Promise<string> {
  return await page.evaluate(`JSON.stringify({
    switches: window.switches, frames: window.frames, level: window.watch.player.currentLevel,
    stats: window.watch.player.stats, errors: window.watch.errors,
  })`);
}

/** Waits for `check` in the page; on a timeout, says what the page shows. */
async function waitShown(page: Page, check: () => boolean, ms: number, what: string) {
  try {
    await waitInPage(page, check, ms, what);
  } catch {
    throw new Error(`${what}: not within ${ms} ms: ${await describePage(page)}`);
  }
}

function setLevel(page: Page, level: number): Promise<void> {
  return page.evaluate((level) => {
    (globalThis as unknown as { watch: { player: { currentLevel: number } } }).watch.player
      .currentLevel = level;
  }, level);
}

/** One page on one media path: top level, pin the low one, automatic again (the node moves up). */
async function pinAndBack(browser: TestBrowser, node: NodeProcess, options: object) {
  const page = await openModulePage(
    browser,
    node,
    "room/live",
    { group: true, ...options },
    FRAME_TRACKER,
  );
  await recordSwitches(page);
  // Both renditions live: the player lists both and shows the top one on a free link, on the
  // node's clock, past its start (a second of frames without a pause: MSE's start can pause once).
  await waitShown(
    page,
    () => {
      const scope = globalThis as unknown as {
        frames: Frames;
        watch: {
          player: { levels: unknown[]; currentLevel: number; stats: { clock: boolean } };
        };
      };
      const player = scope.watch.player;
      return player.levels.length === 2 && player.currentLevel === 0 && player.stats.clock &&
        scope.frames.width === 1280 && scope.frames.smooth >= 30;
    },
    20000,
    "the top level on screen, on the node's clock, playing smoothly",
  );
  const levels = await page.evaluate(() =>
    (globalThis as unknown as { watch: { player: { levels: { id: string }[] } } }).watch.player
      .levels.map((level) => level.id)
  );
  assertEquals(levels, [TOP, LOW]);
  const before = await stats(page);
  await page.evaluate(() => {
    const scope = globalThis as unknown as { frames: Frames; switches: string[] };
    scope.frames.maxGap = 0;
    scope.switches.length = 0; // from the pin on (a start may switch down and up once)
  });
  await setLevel(page, 1);
  await waitShown(
    page,
    () => {
      const scope = globalThis as unknown as {
        frames: Frames;
        watch: { player: { currentLevel: number; autoLevelEnabled: boolean } };
      };
      return scope.frames.width === 640 && scope.watch.player.currentLevel === 1 &&
        !scope.watch.player.autoLevelEnabled;
    },
    10000,
    "the pinned low level on screen",
  );
  assertEquals(await page.evaluate(`document.getElementById("video").videoWidth`), 640);
  await setLevel(page, -1);
  await waitShown(
    page,
    () => {
      const scope = globalThis as unknown as {
        frames: Frames;
        watch: { player: { currentLevel: number } };
      };
      return scope.frames.width === 1280 && scope.watch.player.currentLevel === 0;
    },
    15000,
    "the top level again, automatic",
  );
  const after = await stats(page);
  const shown = await frames(page);
  const switches = await page.evaluate(() =>
    (globalThis as unknown as { switches: string[] }).switches
  );
  console.log(
    `  ${after.playback}: switches ${switches.join(", ")}; sizes ${shown.sizes.join(" > ")}; ` +
      `longest frame gap ${shown.maxGap.toFixed(0)} ms; stalls ${after.stalls - before.stalls}`,
  );
  assertEquals((await record(page)).errors, []);
  // The first switch after the pin goes to the low level: `pin`, or `down` when the node had
  // already decided to move down before the PIN came (a loaded machine); then `up` to the top.
  assert(
    switches.length === 2 && /^(pin|down) /.test(switches[0]) && switches[0].endsWith(LOW) &&
      switches[1] === `up ${TOP}`,
    switches.join(", "),
  );
  assert(shown.sizes.join(",").endsWith("1280x720,640x360,1280x720"), shown.sizes.join());
  // No stall: no frozen picture. The longest pause between presented frames is what a viewer
  // sees; the player's `stalls` counter (logged above) also counts a buffer that ran empty for
  // an instant while frames kept coming in time.
  assertAtMost(shown.maxGap, MAX_FRAME_GAP_MS, `${after.playback}: longest frame gap (ms)`);
  await page.close();
  return after.playback;
}

Deno.test({
  name: "abr player: pin a level and back to auto; levelswitched, new picture size, no stall",
  ignore: !await hasFfmpeg(),
  async fn() {
    await using node = await startNode({ env: { LOG_INFO: "NO" } });
    const publisher = publishRenditions(node.wsUrl);
    try {
      await using browser = await launchBrowser();
      assertEquals(await pinAndBack(browser, node, {}), "webcodecs");
    } finally {
      await publisher.stop();
    }
  },
});

Deno.test({
  name:
    "abr player on MSE: pin a level and back to auto; levelswitched, new picture size, no stall",
  ignore: !await hasFfmpeg(),
  async fn() {
    await using node = await startNode({ env: { LOG_INFO: "NO" } });
    const publisher = publishRenditions(node.wsUrl);
    try {
      await using browser = await launchBrowser();
      assertEquals(await pinAndBack(browser, node, { playback: "mse" }), "mse");
    } finally {
      await publisher.stop();
    }
  },
});
