/**
 * The WebCodecs path and the node clock in real headless Chromium, against a real node (which
 * grants `clock`) and a live publisher of real ffmpeg media (30 fps, 2 s fragments): one frame per
 * part, as new publishers send, and 200 ms parts, as older ones do.
 *
 * - the default page plays through WebCodecs for 10 s without a stall, every frame presented
 *   (`requestVideoFrameCallback`), audio running, and audio handed to the element within 50 ms of
 *   the video of the same time;
 * - two viewers of one stream show the same frame: their glass-to-glass latencies (node clock,
 *   same machine) differ by at most 20 ms;
 * - the latency bound on frame-sized parts holds, and the same bound fails on 200 ms parts (a
 *   regression to the old part size would fail this test);
 * - MSE plays where WebCodecs is switched off: `playback: "mse"`, and a page whose browser has no
 *   `VideoDecoder`.
 */

import type { Page } from "playwright-core";
import { assert, assertAtMost, assertEquals } from "../helpers/assert.ts";
import { tsFragments } from "../helpers/media.ts";
import { startNode } from "../helpers/node_process.ts";
import { launchBrowser, sleep } from "./helpers/browser.ts";
import { LivePublisher } from "./helpers/live_publisher.ts";
import {
  openModulePage,
  recentLatency,
  record,
  stats,
  waitFirstFrame,
  waitPlayed,
} from "./helpers/pages.ts";

/** Glass to glass with frame-sized parts must stay below this (p50 of the samples), seconds. */
const LATENCY_BOUND = 0.25;

/** Counts presented frames in the page (`window.presented`). */
function countFrames(page: Page): Promise<void> {
  return page.evaluate(`(() => {
    window.presented = 0;
    const video = document.getElementById("video");
    const next = () => video.requestVideoFrameCallback(() => { window.presented++; next(); });
    next();
  })()`);
}

function presented(page: Page): Promise<number> {
  return page.evaluate(() => (globalThis as unknown as { presented: number }).presented);
}

/** Median latency of the samples taken over the next `ms`. */
async function latencyOver(page: Page, ms: number): Promise<number> {
  const before = (await record(page)).latency.length;
  await sleep(ms);
  const samples = (await record(page)).latency.slice(before);
  return recentLatency({ ...(await record(page)), latency: samples }, samples.length).latency;
}

Deno.test("WebCodecs path: plays, in sync with audio, viewers together, latency on the node clock", async (t) => {
  await using node = await startNode({ env: { LOG_INFO: "NO" } });
  await using browser = await launchBrowser();
  const media = await tsFragments({ seconds: 8, fragmentSeconds: 2 });
  const frames = new LivePublisher({ url: node.wsUrl, stream: "frames", media, framesPerPart: 1 });
  const parts = new LivePublisher({ url: node.wsUrl, stream: "parts", media, framesPerPart: 6 });
  frames.start();
  parts.start();
  try {
    await sleep(1000);

    await t.step("plays 10 s through WebCodecs: no stall, every frame, audio in sync", async () => {
      const page = await openModulePage(browser, node, "frames");
      await countFrames(page);
      const firstFrame = await waitFirstFrame(page, 10000);
      await sleep(500);
      const before = await stats(page);
      const shownBefore = await presented(page);
      await sleep(10000);
      const after = await stats(page);
      const shown = await presented(page) - shownBefore;
      const result = await record(page);
      console.log(
        `  webcodecs: first frame ${firstFrame} ms, ${shown} frames presented in 10 s, ` +
          `audio ${after.audioFrames - before.audioFrames} frames, A/V ${
            ((after.avOffset ?? NaN) * 1000).toFixed(1)
          } ms, dropped ${after.droppedFrames}/${after.decodedFrames}, latency ${
            after.latency?.toFixed(3)
          } s, target ${after.targetDelay}`,
      );
      assertEquals(result.errors, []);
      assertEquals(after.playback, "webcodecs", "auto picks WebCodecs in Chromium");
      assert(after.clock, "the delay is held on the node's clock");
      assertEquals(after.stalls, before.stalls, "no stall in 10 s");
      assert(shown >= 270, `${shown} frames presented in 10 s (30 fps)`);
      assert(after.audioFrames - before.audioFrames >= 300, "audio plays (47 frames a second)");
      assertAtMost(Math.abs(after.avOffset ?? Infinity), 0.05, "A/V offset (s)");
      assertAtMost(firstFrame, 3000, "time to first frame (ms)");
      await page.close();
    });

    await t.step(
      "two viewers show the same frame; the latency bound holds on frame parts",
      async () => {
        const [one, two] = await Promise.all([
          openModulePage(browser, node, "frames"),
          openModulePage(browser, node, "frames"),
        ]);
        await Promise.all([waitFirstFrame(one, 10000), waitFirstFrame(two, 10000)]);
        await sleep(3000);
        const [first, second] = await Promise.all([latencyOver(one, 3000), latencyOver(two, 3000)]);
        console.log(
          `  two viewers: latency ${first.toFixed(3)} s and ${second.toFixed(3)} s`,
        );
        assertAtMost(Math.abs(first - second), 0.02, "difference between two viewers (s)");
        assertAtMost(first, LATENCY_BOUND, "glass to glass with frame-sized parts (s)");
        await Promise.all([one.close(), two.close()]);
      },
    );

    await t.step("the same latency bound fails on 200 ms parts", async () => {
      const page = await openModulePage(browser, node, "parts");
      await waitFirstFrame(page, 10000);
      await sleep(1500);
      const latency = await latencyOver(page, 2500);
      console.log(`  200 ms parts: latency ${latency.toFixed(3)} s`);
      assert(latency > LATENCY_BOUND, `200 ms parts exceed the bound: ${latency.toFixed(3)} s`);
      await page.close();
    });

    await t.step("MSE plays where WebCodecs is switched off", async () => {
      const forced = await openModulePage(browser, node, "frames", { playback: "mse" });
      const noDecoder = await openModulePage(
        browser,
        node,
        "frames",
        {},
        "delete window.VideoDecoder;",
      );
      for (const page of [forced, noDecoder]) {
        await waitFirstFrame(page, 10000);
        await waitPlayed(page, 3, 10000);
        const numbers = await stats(page);
        assertEquals((await record(page)).errors, []);
        assertEquals(numbers.playback, "mse");
        assertEquals(numbers.mediaPath, "transmux");
      }
      await Promise.all([forced.close(), noDecoder.close()]);
    });
  } finally {
    frames.stop();
    parts.stop();
  }
});
