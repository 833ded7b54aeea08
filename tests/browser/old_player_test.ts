/**
 * An old player through a publisher blip, in real Chromium: a page written against the original
 * player API whose client sends no `caps` and treats every `E` as fatal (as the existing player
 * does, "error-auth") keeps playing while its publisher's connection is gone for 2 s, because the
 * node holds the stream through the publisher's grace and never sends an old client an `E`. Runs
 * on every transport.
 */

import { assert, assertEquals } from "../helpers/assert.ts";
import { tsFragments } from "../helpers/media.ts";
import { metric } from "../helpers/node_metrics.ts";
import { startNode, testTransports } from "../helpers/node_process.ts";
import { waitForValue } from "../helpers/wait.ts";
import { launchBrowser } from "./helpers/browser.ts";
import { LivePublisher } from "./helpers/live_publisher.ts";
import {
  currentTime,
  openOldStylePage,
  record,
  stats,
  waitFirstFrame,
  waitPlayed,
  wire,
} from "./helpers/pages.ts";

for (const transport of testTransports()) {
  Deno.test(`[${transport}] an old player that takes every E as fatal plays through a 2 s publisher blip`, async () => {
    await using node = await startNode({ transport, env: { LOG_INFO: "NO" } });
    await using browser = await launchBrowser();
    const media = await tsFragments({ seconds: 8, fragmentSeconds: 2 });
    const publisher = new LivePublisher({ url: node.wsUrl, stream: "blip", media, parts: true });
    publisher.start();
    try {
      await waitForValue(() => metric(node, 'hlswscdn_streams{origin="local"}'), 1, 10000);
      const page = await openOldStylePage(browser, node, "blip");
      await waitFirstFrame(page, 10000);
      await waitPlayed(page, 2, 10000);
      const before = await currentTime(page);
      const connects = publisher.connects;

      publisher.dropConnection(2000);
      await waitForValue(
        () => metric(node, 'hlswscdn_publisher_graces_total{event="entered"}'),
        1,
        5000,
      );
      await waitForValue(
        () => metric(node, 'hlswscdn_publisher_graces_total{event="resumed"}'),
        1,
        6000,
      );
      await waitPlayed(page, 4, 20000);

      const seen = await wire(page);
      const result = await record(page);
      const numbers = await stats(page);
      assert(publisher.connects > connects, "the publisher came back");
      assertEquals(seen.fatal, null, "no E reached the old client");
      assert(!seen.sent.some((text) => text.includes("caps=")), `an old client: ${seen.sent[0]}`);
      const control = seen.received.filter((text) => !/^(F|P|H)(:|$)/.test(text));
      assertEquals(control, ["OK:parts=1"], "nothing but media and heartbeats after OK");
      assertEquals(result.errors, []);
      assertEquals(result.ended, false);
      assertEquals(numbers.reconnects, 0, "the same connection throughout");
      assert((await currentTime(page)) > before + 4, "playback went on");
      assertEquals(await metric(node, 'hlswscdn_publisher_graces_total{event="expired"}'), 0);
      await page.close();
    } finally {
      publisher.stop();
    }
  });
}
