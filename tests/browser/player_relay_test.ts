/**
 * The player in real headless Chromium, pulling from an edge node that relays the stream from the
 * origin (`RELAY_FROM_URL`): the edge forwards parts as they come, so the player gets parts and
 * its glass-to-glass latency stays below what whole fragments allow. Runs on every transport.
 */

import { assert, assertAtMost, assertEquals } from "../helpers/assert.ts";
import { tsFragments } from "../helpers/media.ts";
import { stats as nodeStats } from "../helpers/node_metrics.ts";
import { startNode, testTransports } from "../helpers/node_process.ts";
import { launchBrowser, sleep } from "./helpers/browser.ts";
import { LivePublisher } from "./helpers/live_publisher.ts";
import {
  openWatchPage,
  recentLatency,
  record,
  stats,
  waitFirstFrame,
  waitPlayed,
} from "./helpers/pages.ts";

/** Whole 2 s fragments cannot be watched closer than this to live, whatever the player does. */
const WHOLE_FRAGMENT_FLOOR = 2.0;

for (const transport of testTransports()) {
  Deno.test(`[${transport}] the player plays parts through a relay hop`, async () => {
    const quiet = { LOG_INFO: "NO" };
    await using origin = await startNode({ transport, env: { ...quiet, NODE_ID: "origin" } });
    await using edge = await startNode({
      transport,
      env: { ...quiet, NODE_ID: "edge", RELAY_FROM_ENABLED: "YES", RELAY_FROM_URL: origin.wsUrl },
    });
    await using browser = await launchBrowser();
    const media = await tsFragments({ seconds: 8, fragmentSeconds: 2 });
    const live = new LivePublisher({ url: origin.wsUrl, stream: "relayed", media, parts: true });
    live.start();
    try {
      await sleep(1500);
      const page = await openWatchPage(browser, edge, "relayed");
      const firstFrame = await waitFirstFrame(page, 10000);
      await waitPlayed(page, 5, 15000);
      const result = await record(page);
      const numbers = await stats(page);
      const latency = recentLatency(result, 8);
      console.log(
        `  [${transport}] through a relay: first frame ${firstFrame} ms, latency ${
          latency.latency.toFixed(3)
        } s (target ${latency.target.toFixed(3)} s)`,
      );
      assertEquals(result.errors, []);
      assert(numbers.parts, "the edge sends parts");
      const streams = (await nodeStats(edge)).streams as Array<
        { id: string; origin?: string }
      >;
      const relayed = streams.find((item) => item.id === "relayed");
      assertEquals(relayed?.origin, "relay", "the edge relays the stream from the origin");
      assertAtMost(firstFrame, 3000, "time to first frame through a relay (ms)");
      assertAtMost(latency.latency, 1.5, "end-to-end latency with parts through a relay (s)");
      assert(latency.latency < WHOLE_FRAGMENT_FLOOR, "parts beat whole-fragment delivery");
      await page.close();
    } finally {
      live.stop();
    }
  });
}
