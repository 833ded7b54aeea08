/**
 * The players of the latency benchmark in headless Chromium, measured the same way: time from
 * `start()` (our player) or `hls.loadSource()` (hls.js) to the first decoded frame (`loadeddata`),
 * then a sample of the glass-to-glass latency every 250 ms, taken in the page: now minus the
 * publisher's clock of the frame on screen, from our `time` stamps (`player.latency`) or from the
 * HLS program date time (`hls.playingDate`).
 *
 * @example
 * ```ts ignore
 * const page = await browser.page(`${server.url}/hls.html`);
 * const firstFrameMs = await waitFirstFrame(page, 20000);
 * await startSampling(page);
 * await sleep(60000);
 * const result = await collect(page);
 * ```
 * @module
 */

import type { Page } from "playwright-core";

/** hls.js settings for the lowest latency conventional HLS (2 s segments, no LL-HLS parts) allows. */
export const HLS_JS_CONFIG = {
  lowLatencyMode: true,
  /** Play one target duration behind the newest listed segment (the default is 3). */
  liveSyncDurationCount: 1,
  /** Jump back to the sync point beyond three target durations. */
  liveMaxLatencyDurationCount: 3,
  /** Catch up by playing up to 10 % faster (the default 1 never does). */
  maxLiveSyncPlaybackRate: 1.1,
  backBufferLength: 4,
  enableWorker: true,
};

/** The hls.js page: `hlsScript` defines the global `Hls`; it plays `playlist`. */
export function hlsJsPageHtml(hlsScript: string, playlist: string): string {
  return `<!doctype html><html><body>
<video id="video" muted autoplay playsinline style="width:640px;height:360px"></video>
<script src="${hlsScript}"></script>
<script>
const record = { firstFrameMs: null, errors: [], waiting: 0, samples: [] };
window.watch = record;
const video = document.getElementById("video");
const hls = new Hls(${JSON.stringify(HLS_JS_CONFIG)});
record.hls = hls;
hls.on(Hls.Events.ERROR, (_, data) => {
  if (data.fatal) record.errors.push(data.type + ": " + data.details);
});
video.addEventListener("waiting", () => record.waiting++);
hls.attachMedia(video);
const started = performance.now();
video.addEventListener("loadeddata", () => {
  if (record.firstFrameMs === null) record.firstFrameMs = Math.round(performance.now() - started);
});
hls.loadSource(${JSON.stringify(playlist)});
video.play().catch(() => {});
window.latencyNow = () => {
  const date = hls.playingDate;
  return date
    ? { latency: (Date.now() - date.getTime()) / 1000, delay: hls.latency, target: hls.targetLatency }
    : null;
};
window.playerNumbers = () => {
  const quality = video.getVideoPlaybackQuality();
  return { stalls: record.waiting, dropped: quality.droppedVideoFrames, decoded: quality.totalVideoFrames };
};
</script></body></html>`;
}

/**
 * Adds `latencyNow` and `playerNumbers` to a page made by `openModulePage` (our player, recording
 * into `window.watch`).
 */
export async function instrumentOurPlayer(page: Page): Promise<void> {
  await page.evaluate(() => {
    const scope = globalThis as unknown as Record<string, unknown> & {
      watch: {
        player: {
          latency: { latency: number | null; delay: number; targetDelay: number } | null;
          stats: { stalls: number; droppedFrames: number; decodedFrames: number };
        };
      };
    };
    scope.latencyNow = () => {
      const info = scope.watch.player.latency;
      return info?.latency == null
        ? null
        : { latency: info.latency, delay: info.delay, target: info.targetDelay };
    };
    scope.playerNumbers = () => {
      const stats = scope.watch.player.stats;
      return { stalls: stats.stalls, dropped: stats.droppedFrames, decoded: stats.decodedFrames };
    };
  });
}

/** Waits for the first decoded frame; returns its time since start in ms. */
export async function waitFirstFrame(page: Page, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ms = await page.evaluate(() =>
      (globalThis as unknown as { watch?: { firstFrameMs: number | null } }).watch?.firstFrameMs
    );
    if (typeof ms === "number") return ms;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const errors = await page.evaluate(() =>
    JSON.stringify((globalThis as unknown as { watch?: { errors: string[] } }).watch?.errors)
  );
  throw new Error(`no first frame within ${timeoutMs} ms (errors: ${errors})`);
}

/** Player counters at a moment. */
export interface PlayerNumbers {
  /** Times playback ran dry. */
  stalls: number;
  /** Dropped video frames. */
  dropped: number;
  /** Decoded video frames. */
  decoded: number;
}

/** One latency sample. */
export interface LatencySample {
  /** Wall clock of the sample, ms since the epoch. */
  at: number;
  /** Glass-to-glass latency in seconds, or null when the player knows none. */
  latency: number | null;
  /** The player's own delay behind live, in seconds (ours: behind the newest media received; hls.js: `hls.latency`, behind the playlist's live edge). */
  delay: number | null;
  /** The delay the player aims at, in seconds. */
  target: number | null;
}

/** Starts sampling `latencyNow()` every `periodMs` in the page (forgetting earlier samples). */
export async function startSampling(page: Page, periodMs = 250): Promise<PlayerNumbers> {
  return await page.evaluate((period) => {
    const scope = globalThis as unknown as {
      latencyNow(): { latency: number; delay: number; target: number } | null;
      playerNumbers(): PlayerNumbers;
      samples: LatencySample[];
      sampler?: ReturnType<typeof setInterval>;
    };
    scope.samples = [];
    clearInterval(scope.sampler);
    scope.sampler = setInterval(() => {
      const now = scope.latencyNow();
      scope.samples.push({
        at: Date.now(),
        latency: now?.latency ?? null,
        delay: now?.delay ?? null,
        target: now?.target ?? null,
      });
    }, period);
    return scope.playerNumbers();
  }, periodMs);
}

/** Stops sampling; returns the samples and the counters. */
export async function collect(
  page: Page,
): Promise<{ samples: LatencySample[]; numbers: PlayerNumbers; errors: string[] }> {
  return await page.evaluate(() => {
    const scope = globalThis as unknown as {
      playerNumbers(): PlayerNumbers;
      samples: LatencySample[];
      sampler?: ReturnType<typeof setInterval>;
      watch: { errors: string[] };
    };
    clearInterval(scope.sampler);
    return { samples: scope.samples, numbers: scope.playerNumbers(), errors: scope.watch.errors };
  });
}
