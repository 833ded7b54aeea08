/**
 * The latency benchmark's row for our Low-Latency HLS: hls.js (the page of the conventional-HLS
 * row, `latency_pages.ts`, with hls.js's own low-latency settings, {@linkcode LL_HLS_JS_CONFIG})
 * playing `/hls/<stream>/index.m3u8` (or, with `format: "fmp4"`, the fMP4 variant
 * `index.mp4.m3u8`) from node A, measured the same way (the program date time of
 * the frame on screen, which our playlists take from the stream's own `time` stamps). The page
 * comes from its own static server, another origin than the node, as on a real site.
 *
 * @example
 * ```ts ignore
 * const row = await LlHlsRow.start(a, STREAM, hlsScript);
 * plans.push({ key: "llhls", name: "hls.js, our LL-HLS", ours: false, open: () => row.open(browser) });
 * await row.close();
 * ```
 * @module
 */

import type { Page } from "playwright-core";
import type { TestBrowser } from "../browser/helpers/browser.ts";
import { pullToken } from "../helpers/client.ts";
import type { NodeProcess } from "../helpers/node_process.ts";
import { HLS_JS_CONFIG, hlsJsPageHtml } from "./latency_pages.ts";
import { StaticServer } from "./static_server.ts";

/**
 * hls.js for LL-HLS: `lowLatencyMode` and no `liveSyncDuration*` (which would override the
 * playlist's `PART-HOLD-BACK`); the same catch-up rate, back buffer and worker as the HLS row.
 */
export const LL_HLS_JS_CONFIG = {
  lowLatencyMode: true,
  maxLiveSyncPlaybackRate: HLS_JS_CONFIG.maxLiveSyncPlaybackRate,
  backBufferLength: HLS_JS_CONFIG.backBufferLength,
  enableWorker: HLS_JS_CONFIG.enableWorker,
};

/** hls.js on our LL-HLS, for one latency run. */
export class LlHlsRow {
  #server: StaticServer;

  private constructor(server: StaticServer) {
    this.#server = server;
  }

  /** Serves the page for `stream` on `node` (hls.js from `hlsScript`), MPEG-TS or fMP4. */
  static async start(
    node: NodeProcess,
    stream: string,
    hlsScript: Uint8Array,
    format: "ts" | "fmp4" = "ts",
  ): Promise<LlHlsRow> {
    const file = format === "fmp4" ? "index.mp4.m3u8" : "index.m3u8";
    const playlist = `${node.httpUrl}/hls/${stream}/${file}?token=${await pullToken(stream)}`;
    return new LlHlsRow(
      new StaticServer("/nonexistent", {
        "/hls.min.js": { body: hlsScript, type: "text/javascript" },
        "/llhls.html": {
          body: hlsJsPageHtml("/hls.min.js", playlist).replace(
            JSON.stringify(HLS_JS_CONFIG),
            JSON.stringify(LL_HLS_JS_CONFIG),
          ),
          type: "text/html",
        },
      }),
    );
  }

  /** Opens the page (the player starts at once). */
  open(browser: TestBrowser): Promise<Page> {
    return browser.page(`${this.#server.url}/llhls.html`);
  }

  /** Stops the page's server. */
  async close(): Promise<void> {
    await this.#server.close();
  }
}
