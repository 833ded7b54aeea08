/**
 * The player in real headless Chromium against real node processes and a live publisher of real
 * ffmpeg media (30 fps, 2 s fragments, 200 ms parts): the script-tag page (transmuxing in a
 * worker, the default in Chromium) and the ES-module page (MPEG-TS appended directly) play,
 * latency settles near the target and stays below what whole-fragment delivery allows,
 * whole fragments without clocks play too, `ended` follows `CLOSE`, and `destroy()` leaves no
 * socket open. Runs on every transport.
 */

import { assert, assertAtMost, assertEquals } from "../helpers/assert.ts";
import { tsFragments } from "../helpers/media.ts";
import { stats as nodeStats, waitUntil } from "../helpers/node_metrics.ts";
import { startNode, testTransports } from "../helpers/node_process.ts";
import { launchBrowser, sleep, waitInPage } from "./helpers/browser.ts";
import { LivePublisher } from "./helpers/live_publisher.ts";
import {
  openModulePage,
  openWatchPage,
  recentLatency,
  record,
  stats,
  waitFirstFrame,
  waitPlayed,
  waitSettled,
} from "./helpers/pages.ts";

/** Whole 2 s fragments cannot be watched closer than this to live, whatever the player does. */
const WHOLE_FRAGMENT_FLOOR = 2.0;

for (const transport of testTransports()) {
  Deno.test(`[${transport}] the player plays live streams in Chromium`, async (t) => {
    await using node = await startNode({ transport, env: { LOG_INFO: "NO" } });
    await using browser = await launchBrowser();
    const media = await tsFragments({ seconds: 8, fragmentSeconds: 2 });
    const live = new LivePublisher({ url: node.wsUrl, stream: "live", media, parts: true });
    live.start();
    try {
      await sleep(1500);

      await t.step("the script-tag page plays with parts, near live (MSE)", async () => {
        const page = await openWatchPage(browser, node, "live", { playback: "mse" });
        const firstFrame = await waitFirstFrame(page, 10000);
        await waitPlayed(page, 5, 15000);
        // The controller moves the delay at a few percent of playback speed: wait until it is there.
        const latency = await waitSettled(page, 0.35, 15000);
        const result = await record(page);
        const numbers = await stats(page);
        console.log(
          `  [${transport}] script tag: first frame ${firstFrame} ms, latency ${
            latency.latency.toFixed(3)
          } s, ` +
            `delay ${latency.delay.toFixed(3)} s (target ${
              latency.target.toFixed(3)
            } s), path ${numbers.mediaPath}, ` +
            `dropped ${numbers.droppedFrames}/${numbers.decodedFrames}`,
        );
        assertEquals(result.errors, []);
        assert(numbers.parts, "the node sends parts");
        assertEquals(numbers.mediaPath, "transmux", "auto transmuxes where fMP4 is accepted");
        assert(numbers.worker, "transmuxing runs in a worker");
        assertAtMost(
          numbers.droppedFrames,
          Math.max(15, numbers.decodedFrames * 0.08),
          "dropped frames (no frame appended twice)",
        );
        assert(numbers.decodedFrames > 100, `${numbers.decodedFrames} frames decoded`);
        assertAtMost(firstFrame, 3000, "time to first frame (ms)");
        assertAtMost(latency.latency, 1.5, "end-to-end latency with parts (s)");
        assert(latency.latency < WHOLE_FRAGMENT_FLOOR, "parts beat whole-fragment delivery");
        await page.close();
      });

      await t.step("the ES module page plays with MPEG-TS appended directly", async () => {
        const page = await openModulePage(browser, node, "live", {
          playback: "mse",
          mediaPath: "direct",
        });
        await waitFirstFrame(page, 10000);
        await waitPlayed(page, 5, 15000);
        const result = await record(page);
        const numbers = await stats(page);
        assertEquals(result.errors, []);
        assertEquals(numbers.mediaPath, "direct");
        assert(numbers.decodedFrames > 100, `${numbers.decodedFrames} frames decoded`);
        assertAtMost(recentLatency(result, 8).latency, 1.5, "end-to-end latency with parts (s)");
        await page.close();
      });

      await t.step("setDelayOptions moves the target while playing", async () => {
        const page = await openModulePage(browser, node, "live");
        await waitFirstFrame(page, 10000);
        await waitPlayed(page, 1, 10000);
        await page.evaluate("window.watch.player.setDelayOptions(1.5, 4)");
        await sleep(600);
        const numbers = await stats(page);
        assertAtMost(
          Math.abs(numbers.targetDelay - 1.5),
          0.001,
          "target delay after setDelayOptions",
        );
        await page.close();
      });

      await t.step("an old-style publisher (whole fragments, no clock) plays as well", async () => {
        const old = new LivePublisher({
          url: node.wsUrl,
          stream: "old",
          media,
          parts: false,
          noTime: true,
        });
        old.start();
        try {
          await sleep(2500);
          const page = await openWatchPage(browser, node, "old");
          await waitFirstFrame(page, 10000);
          await waitPlayed(page, 5, 15000);
          const result = await record(page);
          const numbers = await stats(page);
          assertEquals(result.errors, []);
          assertEquals(numbers.latency, null, "no clock, no end-to-end latency");
          // On the node's clock the target is counted from `at`, the origin's receipt of the
          // whole fragment, which already covers it; behind the newest media it must cover one.
          assert(
            numbers.clock || numbers.targetDelay >= WHOLE_FRAGMENT_FLOOR,
            `target ${numbers.targetDelay} covers a fragment`,
          );
          await page.close();
        } finally {
          old.stop();
        }
      });

      await t.step("video-only and audio-only streams play", async () => {
        for (
          const [kind, only] of [["video", { audio: false }], ["audio", { video: false }]] as const
        ) {
          const single = await tsFragments({ seconds: 6, fragmentSeconds: 2, ...only });
          const stream = `${kind}-only`;
          const publisher = new LivePublisher({
            url: node.wsUrl,
            stream,
            media: single,
            parts: true,
            framesPerPart: kind === "audio" ? 1 : 6,
          });
          publisher.start();
          try {
            await sleep(1500);
            const page = await openWatchPage(browser, node, stream);
            await waitFirstFrame(page, 10000);
            await waitPlayed(page, 3, 12000);
            const result = await record(page);
            const numbers = await stats(page);
            assertEquals(result.errors, [], kind);
            assert(numbers.codecs.startsWith(kind === "video" ? "avc1." : "mp4a."), numbers.codecs);
            assert(!numbers.codecs.includes(","), `${kind} only: ${numbers.codecs}`);
            await page.close();
          } finally {
            publisher.stop();
          }
        }
      });

      await t.step("ended fires after CLOSE, and destroy() leaves no socket open", async () => {
        const ending = new LivePublisher({ url: node.wsUrl, stream: "ending", media, parts: true });
        ending.start();
        await sleep(1500);
        const page = await openWatchPage(browser, node, "ending");
        await waitFirstFrame(page, 10000);
        await ending.close();
        await waitInPage(
          page,
          () => (globalThis as unknown as { watch: { ended: boolean } }).watch.ended,
          5000,
          "ended",
        );
        const result = await record(page);
        assert(result.closed, "close fired");
        assertEquals(result.errors, []);
        await page.close();

        const spectators = async () => (await nodeStats(node)).spectators as number;
        // The pages of the steps before closed their sockets; the node may see the last go later.
        await waitUntil(async () => await spectators() === 0, 5000, "no spectator left");
        const other = await openWatchPage(browser, node, "live");
        await waitFirstFrame(other, 10000);
        assertEquals(await spectators(), 1, "one page, one connection");
        await other.evaluate("window.watch.player.destroy()");
        await waitUntil(async () => await spectators() === 0, 5000, "no spectator after destroy()");
        assertEquals(await other.evaluate<string>("window.watch.player.state"), "destroyed");
        await other.close();
      });
    } finally {
      live.stop();
    }
  });
}
