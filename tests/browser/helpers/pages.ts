/**
 * Pages for player tests: the node's watch page (script-tag build, global `HlsWebSocketCdn`) and
 * an ES-module page written the way an integrator would, both recording into `window.watch`.
 *
 * @example
 * ```ts ignore
 * const page = await openWatchPage(browser, node, "live");
 * const played = await playedSeconds(page);
 * ```
 * @module
 */

import type { Page } from "playwright-core";
import { pullToken } from "../../helpers/client.ts";
import type { NodeProcess } from "../../helpers/node_process.ts";
import { type TestBrowser, waitInPage } from "./browser.ts";

/** What a test page records (the fields of `window.watch`). */
export interface PageRecord {
  latency: Array<
    { latency: number | null; delay: number; targetDelay: number; bufferLength: number }
  >;
  errors: string[];
  states: string[];
  ended: boolean;
  closed: boolean;
  firstFrameMs: number | null;
}

/** The player's `stats`, as far as tests read them. */
export interface PageStats {
  state: string;
  playback: string | null;
  clock: boolean;
  audioFrames: number;
  avOffset: number | null;
  latency: number | null;
  delay: number;
  targetDelay: number;
  parts: boolean;
  mediaPath: string | null;
  codecs: string;
  worker: boolean;
  reconnects: number;
  decodedFrames: number;
  droppedFrames: number;
  timeToFirstFrame: number | null;
  bitrate: number;
  stalls: number;
}

/** Opens the node's watch page for `stream`, with extra query parameters. */
export async function openWatchPage(
  browser: TestBrowser,
  node: NodeProcess,
  stream: string,
  query: Record<string, string> = {},
): Promise<Page> {
  const params = new URLSearchParams({ stream, token: await pullToken(stream), ...query });
  return await browser.page(`${node.httpUrl}/player/watch.html?${params}`);
}

/**
 * Opens a page that imports the ES module build and plays `stream` with `options`; `prelude` is
 * script run before the player is made (to take browser features away, for example).
 */
export async function openModulePage(
  browser: TestBrowser,
  node: NodeProcess,
  stream: string,
  options: Record<string, unknown> = {},
  prelude = "",
): Promise<Page> {
  const page = await browser.page();
  const config = JSON.stringify({
    cdnServerUrl: node.wsUrl,
    streamId: stream,
    authToken: await pullToken(stream),
    ...options,
  });
  const html = `<!doctype html><html><body>
<video id="video" muted autoplay playsinline style="width:640px;height:360px"></video>
<script type="module">
import { HlsWebSocket } from "/player/hls-websocket-cdn.mjs";
const record = { player: null, latency: [], errors: [], states: [], ended: false, closed: false, firstFrameMs: null };
window.watch = record;
const video = document.getElementById("video");
${prelude}
const player = new HlsWebSocket(${config});
record.player = player;
player.addEventListener("error", (error) => record.errors.push(error.code + ": " + error.message));
player.addEventListener("close", () => record.closed = true);
player.addEventListener("ended", () => record.ended = true);
player.addEventListener("state", (state) => record.states.push(state));
player.addEventListener("firstframe", (ms) => record.firstFrameMs = ms);
player.addEventListener("latency", (info) => record.latency.push(info));
player.attachMedia(video);
player.start();
video.play().catch(() => {});
</script></body></html>`;
  // A page of the node's origin without the policy of its watch page (which allows no inline
  // script): the document of /health, replaced by the embedding page.
  await page.goto(`${node.httpUrl}/health`);
  await page.setContent(html);
  return page;
}

/** What the wire of an old-style page carried (`window.wire`). */
export interface WireRecord {
  /** Text frames the page sent (`PULL` without `caps`, heartbeats). */
  sent: string[];
  /** Text frames the node sent. */
  received: string[];
  /** The first `E` the node sent, which an old player takes as fatal; null while none came. */
  fatal: string | null;
}

/**
 * Opens a page written against the original player API (`../shared/spec/compat.md`) whose
 * connection behaves as an old client's: every `PULL` goes out without `caps` (so the node treats
 * it as a player of the original protocol), and any `E` from the node is fatal, as it is for old
 * players (`error-auth`: the page destroys the player). `window.wire` records the frames.
 */
export async function openOldStylePage(
  browser: TestBrowser,
  node: NodeProcess,
  stream: string,
): Promise<Page> {
  // The node's origin without the watch page's policy (it allows no inline script).
  const page = await browser.page(`${node.httpUrl}/health`);
  const config = JSON.stringify({
    cdnServerUrl: node.wsUrl,
    streamId: stream,
    authToken: await pullToken(stream),
    delay: 2,
  });
  await page.setContent(`<!doctype html><html><body>
<video id="video" muted autoplay playsinline style="width:640px;height:360px"></video>
<script>
const wire = { sent: [], received: [], fatal: null };
window.wire = wire;
const Native = window.WebSocket;
window.WebSocket = class OldClientSocket extends Native {
  constructor(url, protocols) {
    super(url, protocols);
    this.addEventListener("message", (event) => {
      if (typeof event.data !== "string") return;
      wire.received.push(event.data);
      if (/^E(:|$)/i.test(event.data) && wire.fatal === null) {
        wire.fatal = event.data;
        window.watch?.player?.destroy();
      }
    });
  }
  send(data) {
    if (typeof data === "string" && /^PULL:/i.test(data)) {
      const query = new URLSearchParams(data.slice(5));
      query.delete("caps");
      data = "PULL:" + query;
    }
    if (typeof data === "string") wire.sent.push(data);
    super.send(data);
  }
};
</script>
<script type="module">
import { HlsWebSocket } from "/player/hls-websocket-cdn.mjs";
const record = { player: null, latency: [], errors: [], states: [], ended: false, closed: false, firstFrameMs: null };
window.watch = record;
const video = document.getElementById("video");
const player = new HlsWebSocket(${config});
record.player = player;
player.addEventListener("error", (error) => record.errors.push(error.code + ": " + error.message));
player.addEventListener("close", () => record.closed = true);
player.addEventListener("ended", () => record.ended = true);
player.addEventListener("firstframe", (ms) => record.firstFrameMs = ms);
player.attachMedia(video);
player.start();
video.play().catch(() => {});
</script></body></html>`);
  return page;
}

/** What an old-style page's wire carried. */
export function wire(page: Page): Promise<WireRecord> {
  return page.evaluate(() => (globalThis as unknown as { wire: WireRecord }).wire);
}

/** The page's record. */
export function record(page: Page): Promise<PageRecord> {
  return page.evaluate(() => {
    const watch = (globalThis as unknown as { watch: PageRecord & { player: unknown } }).watch;
    return { ...watch, player: undefined } as PageRecord;
  });
}

/** The player's stats in the page. */
export function stats(page: Page): Promise<PageStats> {
  return page.evaluate(() =>
    (globalThis as unknown as { watch: { player: { stats: PageStats } } }).watch.player.stats
  );
}

/** The video element's current time. */
export function currentTime(page: Page): Promise<number> {
  return page.evaluate<number>('document.querySelector("video").currentTime');
}

/** Waits until the video has played `seconds` more than now, or throws. */
export async function waitPlayed(page: Page, seconds: number, timeoutMs: number): Promise<void> {
  const from = await currentTime(page);
  const deadline = Date.now() + timeoutMs;
  let now = from;
  while (Date.now() < deadline) {
    now = await currentTime(page);
    if (now - from >= seconds) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const state = JSON.stringify(await record(page).catch(() => ({}))).slice(0, 1500);
  throw new Error(
    `played ${(now - from).toFixed(2)} s of ${seconds} s within ${timeoutMs} ms; ${state}`,
  );
}

/** Waits for the first decoded frame; returns the player's time to first frame in ms. */
export function waitFirstFrame(page: Page, timeoutMs: number): Promise<number> {
  return waitInPage(
    page,
    () =>
      (globalThis as unknown as { watch?: { firstFrameMs: number | null } }).watch?.firstFrameMs ??
        null,
    timeoutMs,
    "first frame",
  ) as Promise<number>;
}

/** Median of the latency samples of the last `count` measurements. */
export function recentLatency(
  record: PageRecord,
  count: number,
): { latency: number; delay: number; target: number } {
  const samples = record.latency.slice(-count);
  const median = (values: number[]) =>
    [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
  return {
    latency: median(samples.map((sample) => sample.latency ?? NaN).filter(Number.isFinite)),
    delay: median(samples.map((sample) => sample.delay)),
    target: median(samples.map((sample) => sample.targetDelay)),
  };
}

/**
 * Waits until the player's delay has settled at its target: the median of the last `count`
 * samples within `tolerance` seconds of the target. Returns those numbers; throws with the last
 * ones after `timeoutMs` (a player that never settles fails).
 */
export async function waitSettled(
  page: Page,
  tolerance: number,
  timeoutMs: number,
  count = 8,
): Promise<{ latency: number; delay: number; target: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const latest = recentLatency(await record(page), count);
    if (Math.abs(latest.delay - latest.target) <= tolerance) return latest;
    if (Date.now() > deadline) {
      throw new Error(
        `delay ${latest.delay.toFixed(3)} s did not settle within ${tolerance} s of the target ` +
          `${latest.target.toFixed(3)} s in ${timeoutMs} ms`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
