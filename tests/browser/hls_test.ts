/**
 * Low-Latency HLS in real Chromium: hls.js (`npm:hls.js`, `lowLatencyMode`) plays a stream from the
 * node it is published on and the same stream relayed by a second node, each for at least 10 s,
 * with no error, loading parts at the live edge. The pages come from another origin (CORS). The
 * publisher sends one frame per part (frame-level parts) and loops its media with a
 * discontinuity every 6 s.
 */

import { assert, assertAtMost, assertEquals } from "../helpers/assert.ts";
import { pullToken } from "../helpers/client.ts";
import { hasFfmpeg, tsFragments } from "../helpers/media.ts";
import { startNode } from "../helpers/node_process.ts";
import { StaticServer } from "../bench/static_server.ts";
import { launchBrowser, waitInPage } from "./helpers/browser.ts";
import {
  HLS_JS,
  hlsPageHtml as pageHtml,
  type HlsRecord,
  readHlsRecord as readRecord,
} from "./helpers/hls_page.ts";
import { LivePublisher } from "./helpers/live_publisher.ts";

Deno.test({
  name: "hls.js plays LL-HLS from the origin and from a relay, in low-latency mode",
  ignore: !(await hasFfmpeg()),
  fn: async () => {
    await using origin = await startNode({ env: { NODE_ID: "A" } });
    await using relay = await startNode({
      env: { NODE_ID: "B", RELAY_FROM_ENABLED: "YES", RELAY_FROM_URL: origin.wsUrl },
    });
    const media = await tsFragments({ seconds: 6, fragmentSeconds: 2 });
    const publisher = new LivePublisher({
      url: origin.wsUrl,
      stream: "room/hls",
      media,
      framesPerPart: 1,
    });
    publisher.start();
    const token = await pullToken("room/hls");
    const path = `/hls/room/hls/index.m3u8?token=${token}`;
    await using server = new StaticServer("/nonexistent", {
      "/hls.min.js": { body: await Deno.readFile(HLS_JS), type: "text/javascript" },
      "/origin.html": { body: pageHtml(`${origin.httpUrl}${path}`), type: "text/html" },
      "/relay.html": { body: pageHtml(`${relay.httpUrl}${path}`), type: "text/html" },
    });
    await using browser = await launchBrowser();
    try {
      const pages = await Promise.all(
        ["origin", "relay"].map((name) => browser.page(`${server.url}/${name}.html`)),
      );
      await Promise.all(pages.map((page) =>
        waitInPage(
          page,
          () => {
            const watch = (globalThis as unknown as { watch: HlsRecord }).watch;
            return watch.played >= 10 || watch.fatal.length > 0;
          },
          40000,
          "10 s played",
        )
      ));
      for (const [index, page] of pages.entries()) {
        const record = await readRecord(page);
        const name = index === 0 ? "origin" : "relay";
        assertEquals(record.fatal, [], `${name}: no fatal error`);
        assertEquals(record.errors, [], `${name}: no error`);
        assert(record.played >= 10, `${name}: played ${record.played} s`);
        assertEquals(record.partTarget, 0.25, `${name}: the node's part target`);
        assert(record.canBlockReload, `${name}: blocking reloads`);
        assert(record.parts > 10, `${name}: parts loaded at the live edge (${record.parts})`);
        assertAtMost(record.latency ?? Infinity, 3, `${name}: hls.js's delay behind live`);
      }
      // Every node numbers the same parts the same way, and takes any node's signed URIs.
      const [fromOrigin, fromRelay] = await Promise.all(
        [origin, relay].map(async (node) => await (await fetch(`${node.httpUrl}${path}`)).text()),
      );
      const partsOf = (text: string, msn: number) =>
        text.split("\n").filter((line) => line.includes(`URI="p${msn}.`))
          .map((line) => line.replace(/\?[^"]*/, ""));
      const newest = -1 +
        Number(/\ns(\d+)\.ts\?/.exec(fromOrigin.split("\n").reverse().join("\n"))![1]);
      assert(partsOf(fromOrigin, newest).length > 5, "the segment's parts are listed");
      assertEquals(partsOf(fromRelay, newest), partsOf(fromOrigin, newest), "same parts on both");
      const uri = new RegExp(`\\n(s${newest}\\.ts\\?[^\\n]+)`).exec(fromOrigin)![1];
      const [a, b] = await Promise.all([origin, relay].map(async (node) => {
        const response = await fetch(`${node.httpUrl}/hls/room/hls/${uri}`);
        assertEquals(response.status, 200, `the origin's URI on ${node.httpUrl}`);
        return new Uint8Array(await response.arrayBuffer());
      }));
      assertEquals(b.byteLength, a.byteLength, "the same segment from either node");
    } finally {
      await publisher.close();
    }
  },
});
