/**
 * The player recovers by itself in real Chromium: when the node it pulls from restarts on the
 * same port (it reconnects with back-off and resumes), and when the publisher drops and reconnects
 * (the node keeps the stream through the publisher's grace, so the player has nothing to do). It
 * keeps playing and reports no error. Runs on every transport.
 */

import { assert, assertEquals } from "../helpers/assert.ts";
import { tsFragments } from "../helpers/media.ts";
import { metric } from "../helpers/node_metrics.ts";
import { startNode, testTransports } from "../helpers/node_process.ts";
import { launchBrowser, sleep } from "./helpers/browser.ts";
import { LivePublisher } from "./helpers/live_publisher.ts";
import {
  currentTime,
  openWatchPage,
  record,
  stats,
  waitFirstFrame,
  waitPlayed,
} from "./helpers/pages.ts";

for (const transport of testTransports()) {
  Deno.test(`[${transport}] the player recovers from node restarts and publisher drops`, async (t) => {
    await using browser = await launchBrowser();
    const media = await tsFragments({ seconds: 8, fragmentSeconds: 2 });
    let node = await startNode({ transport, env: { LOG_INFO: "NO" } });
    const port = node.port;
    const publisher = new LivePublisher({ url: node.wsUrl, stream: "recover", media, parts: true });
    publisher.start();
    try {
      await sleep(1500);
      const page = await openWatchPage(browser, node, "recover");
      await waitFirstFrame(page, 10000);
      await waitPlayed(page, 2, 10000);

      await t.step("playback goes on after the node restarts on the same port", async () => {
        await node.stop();
        await sleep(300);
        node = await startNode({ transport, port, env: { LOG_INFO: "NO" } });
        const before = await currentTime(page);
        await waitPlayed(page, 4, 25000);
        const numbers = await stats(page);
        const result = await record(page);
        assertEquals(result.errors, []);
        assert(numbers.reconnects >= 1, `${numbers.reconnects} reconnects`);
        assert((await currentTime(page)) > before + 4);
        console.log(
          `  [${transport}] node restart: ${numbers.reconnects} reconnects, state ${numbers.state}`,
        );
      });

      await t.step(
        "playback goes on, on the same connection, when the publisher drops and reconnects",
        async () => {
          const reconnectsBefore = (await stats(page)).reconnects;
          const connectsBefore = publisher.connects;
          publisher.dropConnection();
          await waitPlayed(page, 4, 25000);
          const numbers = await stats(page);
          const result = await record(page);
          assertEquals(result.errors, []);
          assert(publisher.connects > connectsBefore, "the publisher reconnected");
          assertEquals(numbers.reconnects, reconnectsBefore, "the player kept its connection");
          assertEquals(await metric(node, 'hlswscdn_publisher_graces_total{event="resumed"}'), 1);
        },
      );
      await page.close();
    } finally {
      publisher.stop();
      await node.stop();
    }
  });
}
