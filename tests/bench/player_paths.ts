/**
 * Player media paths in headless Chromium: `transmux` (mux.js in a worker, fMP4) against `direct`
 * (MPEG-TS into MSE), each with parts and with whole fragments, on the same live test pattern
 * (30 fps, 2 s fragments, 200 ms parts). Prints, per run, the player's end-to-end latency p50/p99,
 * time to first frame, mean append time, stalls and dropped frames, and ratios against the
 * `transmux + parts` baseline of the same run. Not a test; numbers are noisy on a busy machine.
 *
 * `deno run -A tests/bench/player_paths.ts [seconds per run, default 15]`
 * @module
 */

import { pullToken } from "../helpers/client.ts";
import { tsFragments } from "../helpers/media.ts";
import { startNode } from "../helpers/node_process.ts";
import { launchBrowser, sleep, waitInPage } from "../browser/helpers/browser.ts";
import { LivePublisher } from "../browser/helpers/live_publisher.ts";

/** The parts of the player's records this benchmark reads (the page's `window.watch`). */
interface LatencyInfo {
  latency: number | null;
}
interface PlayerStats {
  appendLatency: number | null;
  stalls: number;
  droppedFrames: number;
  decodedFrames: number;
}

const seconds = Number(Deno.args[0] ?? 15);

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
}

interface Run {
  name: string;
  p50: number;
  p99: number;
  firstFrameMs: number;
  appendMs: number;
  stalls: number;
  dropped: string;
}

await using node = await startNode({ env: { LOG_INFO: "NO" } });
await using browser = await launchBrowser();
const media = await tsFragments({ seconds: 20, fragmentSeconds: 2 });
const publishers = [true, false].map((parts) => {
  const publisher = new LivePublisher({
    url: node.wsUrl,
    stream: parts ? "parts" : "whole",
    media,
    parts,
  });
  publisher.start();
  return publisher;
});
await sleep(3000);

const runs: Run[] = [];
for (const parts of [true, false]) {
  for (const path of ["transmux", "direct"]) {
    const stream = parts ? "parts" : "whole";
    const page = await browser.page(
      `${node.httpUrl}/player/watch.html?stream=${stream}&token=${await pullToken(
        stream,
      )}&path=${path}&parts=${parts ? 1 : 0}${Deno.env.get("BENCH_DEBUG") ? "&debug=1" : ""}`,
    );
    await waitInPage(
      page,
      () =>
        (globalThis as unknown as { watch: { firstFrameMs: number | null } }).watch.firstFrameMs,
      10000,
      "first frame",
    );
    await sleep(3000); // settle
    await page.evaluate(() =>
      (globalThis as unknown as { watch: { latency: unknown[] } }).watch.latency = []
    );
    await sleep(seconds * 1000);
    const { latency, stats, firstFrameMs } = await page.evaluate(() => {
      const watch = (globalThis as unknown as {
        watch: { latency: LatencyInfo[]; firstFrameMs: number; player: { stats: PlayerStats } };
      }).watch;
      return {
        latency: watch.latency.map((info) => info.latency ?? NaN),
        stats: watch.player.stats,
        firstFrameMs: watch.firstFrameMs,
      };
    });
    const values = latency.filter((value) => Number.isFinite(value));
    runs.push({
      name: `${path} + ${parts ? "parts" : "whole fragments"}`,
      p50: percentile(values, 0.5),
      p99: percentile(values, 0.99),
      firstFrameMs,
      appendMs: stats.appendLatency ?? NaN,
      stalls: stats.stalls,
      dropped: `${stats.droppedFrames}/${stats.decodedFrames}`,
    });
    await page.close();
  }
}
for (const publisher of publishers) publisher.stop();

const base = runs[0];
console.log(`player paths, ${seconds} s per run (latency = publisher clock to screen)`);
console.log(
  "run                        | p50 s | p99 s | first frame ms | append ms | stalls | dropped | p50 ratio",
);
for (const run of runs) {
  console.log(
    [
      run.name.padEnd(26),
      run.p50.toFixed(3).padStart(5),
      run.p99.toFixed(3).padStart(5),
      String(run.firstFrameMs).padStart(14),
      run.appendMs.toFixed(2).padStart(9),
      String(run.stalls).padStart(6),
      run.dropped.padStart(7),
      (run.p50 / base.p50).toFixed(2).padStart(9),
    ].join(" | "),
  );
}
