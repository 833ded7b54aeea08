/**
 * The fMP4 (CMAF) variant of our LL-HLS in real Chromium: hls.js (`npm:hls.js`, `lowLatencyMode`)
 * plays `index.mp4.m3u8` for at least 10 s with no error, loading `.m4s` parts at the live edge
 * (never an MPEG-TS file). The page comes from another origin (CORS). The publisher sends one frame
 * per part and loops its media with a discontinuity every 6 s, so the playlist's `EXT-X-MAP` is
 * written again after each.
 */

import { assert, assertAtMost, assertEquals } from "../helpers/assert.ts";
import { pullToken } from "../helpers/client.ts";
import { hasFfmpeg, tsFragments } from "../helpers/media.ts";
import { startNode } from "../helpers/node_process.ts";
import { StaticServer } from "../bench/static_server.ts";
import { launchBrowser, waitInPage } from "./helpers/browser.ts";
import { HLS_JS, hlsPageHtml, type HlsRecord, readHlsRecord } from "./helpers/hls_page.ts";
import { LivePublisher } from "./helpers/live_publisher.ts";

Deno.test({
  name: "hls.js plays the fMP4 LL-HLS playlist in low-latency mode",
  ignore: !(await hasFfmpeg()),
  fn: async () => {
    await using node = await startNode();
    const media = await tsFragments({ seconds: 6, fragmentSeconds: 2 });
    const publisher = new LivePublisher({
      url: node.wsUrl,
      stream: "room/cmaf",
      media,
      framesPerPart: 1,
    });
    publisher.start();
    const token = await pullToken("room/cmaf");
    const playlist = `${node.httpUrl}/hls/room/cmaf/index.mp4.m3u8?token=${token}`;
    await using server = new StaticServer("/nonexistent", {
      "/hls.min.js": { body: await Deno.readFile(HLS_JS), type: "text/javascript" },
      "/fmp4.html": { body: hlsPageHtml(playlist), type: "text/html" },
    });
    await using browser = await launchBrowser();
    try {
      const page = await browser.page(`${server.url}/fmp4.html`);
      await waitInPage(
        page,
        () => {
          const watch = (globalThis as unknown as { watch: HlsRecord }).watch;
          return watch.played >= 10 || watch.fatal.length > 0;
        },
        40000,
        "10 s played",
      );
      const record = await readHlsRecord(page);
      assertEquals(record.fatal, [], "no fatal error");
      assertEquals(record.errors, [], `no error (${record.errorContext.join("; ")})`);
      assert(record.played >= 10, `played ${record.played} s`);
      assertEquals(record.partTarget, 0.25, "the node's part target");
      assert(record.canBlockReload, "blocking reloads");
      assert(record.parts > 10, `parts loaded at the live edge (${record.parts})`);
      assertEquals(record.ts, 0, "no MPEG-TS file loaded");
      assertEquals(record.mp4, record.parts + record.fragments, "every load an fMP4 one");
      assertAtMost(record.latency ?? Infinity, 3, "hls.js's delay behind live");
      const text = await (await fetch(playlist)).text();
      const afterDiscontinuities = text.split("#EXT-X-DISCONTINUITY\n").slice(1);
      assert(
        afterDiscontinuities.every((rest) => rest.startsWith('#EXT-X-MAP:URI="init-')),
        `a map after each discontinuity:\n${text}`,
      );
      assert(text.includes("#EXT-X-MAP:"), "a map");
    } finally {
      await publisher.close();
    }
  },
});
