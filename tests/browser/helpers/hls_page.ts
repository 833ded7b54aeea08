/**
 * A test page that plays an HLS playlist with hls.js in low-latency mode and records what
 * happens (errors, parts and fragments loaded, seconds played, hls.js's latency, the playlist's
 * part target), for the browser tests of our LL-HLS.
 *
 * @example
 * ```ts ignore
 * const html = hlsPageHtml(`${node.httpUrl}/hls/room/a/index.mp4.m3u8?token=${token}`);
 * const record = await readHlsRecord(page);
 * ```
 * @module
 */

import type { Page } from "playwright-core";

/** Where hls.js's browser build is. */
export const HLS_JS = new URL("../../../node_modules/hls.js/dist/hls.min.js", import.meta.url);

/** A page (served beside `/hls.min.js`) that plays `playlist` and records into `window.watch`. */
export function hlsPageHtml(playlist: string): string {
  return `<!doctype html><html><body>
<video id="video" muted autoplay playsinline></video>
<script src="/hls.min.js"></script>
<script>
const record = { errors: [], fatal: [], parts: 0, fragments: 0, played: 0, latency: null, partTarget: null, mp4: 0, ts: 0, errorContext: [] };
window.watch = record;
const video = document.getElementById("video");
const hls = new Hls({ lowLatencyMode: true, enableWorker: true });
hls.on(Hls.Events.ERROR, (_, data) => {
  (data.fatal ? record.fatal : record.errors).push(data.type + ": " + data.details);
  const buffered = video.buffered.length ? video.buffered.end(video.buffered.length - 1) : 0;
  record.errorContext.push(data.details + " at " + video.currentTime.toFixed(2) + " s, buffered to " +
    buffered.toFixed(2) + " s, latency " + (hls.latency ?? 0).toFixed(2) + " s, part " +
    (data.frag ? data.frag.sn + (data.part ? "." + data.part.index : "") : "-") + ", wall " + Date.now() % 100000);
});
hls.on(Hls.Events.FRAG_LOADED, (_, data) => {
  if (data.part) record.parts++; else record.fragments++;
  const url = (data.part ?? data.frag).url;
  if (/\\.m4s(\\?|$)/.test(url)) record.mp4++;
  if (/\\.ts(\\?|$)/.test(url)) record.ts++;
});
hls.on(Hls.Events.LEVEL_UPDATED, (_, data) => {
  record.partTarget = data.details.partTarget;
  record.canBlockReload = data.details.canBlockReload;
});
hls.attachMedia(video);
hls.loadSource(${JSON.stringify(playlist)});
video.play().catch(() => {});
let started = null;
setInterval(() => {
  if (video.currentTime > 0 && started === null) started = video.currentTime;
  if (started !== null) record.played = video.currentTime - started;
  record.latency = hls.latency;
}, 100);
</script></body></html>`;
}

/** What the page recorded. */
export interface HlsRecord {
  /** Non-fatal hls.js errors (`type: details`). */
  errors: string[];
  /** Fatal hls.js errors. */
  fatal: string[];
  /** Each error with where playback was (time, buffer end, latency, fragment), for messages. */
  errorContext: string[];
  /** Parts loaded. */
  parts: number;
  /** Whole segments loaded. */
  fragments: number;
  /** Media loads (parts or segments) of `.m4s` files. */
  mp4: number;
  /** Media loads of `.ts` files. */
  ts: number;
  /** Seconds played since the first frame. */
  played: number;
  /** hls.js's delay behind the live edge, seconds. */
  latency: number | null;
  /** The playlist's `PART-TARGET`. */
  partTarget: number | null;
  /** The playlist allows blocking reloads. */
  canBlockReload: boolean;
}

/** Reads the page's record. */
export function readHlsRecord(page: Page): Promise<HlsRecord> {
  return page.evaluate(() => (globalThis as unknown as { watch: HlsRecord }).watch);
}
