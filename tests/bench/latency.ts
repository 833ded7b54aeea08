/**
 * Glass-to-glass latency benchmark (not a test), read from the picture: the test pattern carries
 * a time code (32 black/white blocks: the capture wall clock in ms, drawn by ffmpeg as each frame
 * is made, `latency_timecode.ts`) that the page reads back from every presented frame
 * (`requestVideoFrameCallback` + canvas). Nothing of the player's own bookkeeping is used.
 *
 * ONE ffmpeg encode of the `publish` test pattern per phase, written by ffmpeg's `tee` muxer to
 * our publish path (the `publish` command's cutter and publisher, to a node) and to ffmpeg's HLS
 * muxer (a folder served over HTTP):
 *
 * - phase 1, 1 s fragments, parts of one frame (`partDuration: "frame"`, the publisher's default): our player by default
 *   (WebCodecs, the node's delay 0.1 s), the same with the page's `delay: 0.05`, our player with
 *   `playback: "mse"`, two viewers at once (their difference), hls.js on ffmpeg's 1 s segments, and hls.js on our LL-HLS (`latency_llhls.ts`),
 *   MPEG-TS and fMP4;
 * - phase 2, 2 s fragments, 200 ms parts: our player by default, hls.js on 2 s segments, and hls.js on our LL-HLS
 *   (MPEG-TS and fMP4).
 *
 * Per row: p50/p99 glass to glass, stalls (gaps of more than 200 ms between presented frames),
 * dropped frames (codes missing between presented frames), first frame (ms from `start()` /
 * `loadSource()` to the first decoded frame). Writes `latency.svg` and `samples.json` to
 * `bench-output/latency-<time>/`; `--docs` copies the chart to `documentation/latency.svg`.
 * `tests/bench/latency_player_clock.ts` is the older benchmark (the player's own clock reading).
 *
 * `deno task bench latency [--seconds 20] [--settle 5] [--size 1280x720] [--docs] [--out DIR]`
 * @module
 */

import { parseArgs } from "node:util";
import type { Page } from "playwright-core";
import { launchBrowser, sleep } from "../browser/helpers/browser.ts";
import { openModulePage } from "../browser/helpers/pages.ts";
import { startNode, TEST_SECRETS } from "../helpers/node_process.ts";
import { hlsJsPageHtml, waitFirstFrame } from "./latency_pages.ts";
import { percentile } from "./latency_report.ts";
import { LatencySource, PLAYLIST } from "./latency_source.ts";
import { readPlaylist } from "./hls_playlist.ts";
import { StaticServer } from "./static_server.ts";
import { LlHlsRow } from "./latency_llhls.ts";
import { lineChart } from "./svg_chart.ts";
import {
  type CodedFrame,
  pictureNumbers,
  TIME_CODE_READER,
  viewerDifferences,
} from "./latency_timecode.ts";

const { values } = parseArgs({
  args: Deno.args.filter((arg) => arg !== "latency"),
  options: {
    seconds: { type: "string", default: "20" },
    settle: { type: "string", default: "5" },
    size: { type: "string", default: "1280x720" },
    out: { type: "string" },
    docs: { type: "boolean", default: false },
  },
});
const seconds = Number(values.seconds);
const settleSeconds = Number(values.settle);
const STREAM = "bench/latency";
const ROOT = new URL("../../", import.meta.url);
const HLS_JS = new URL("node_modules/hls.js/dist/hls.min.js", ROOT);

/** One row of the report. */
interface Row {
  key: string;
  name: string;
  p50: number;
  p99: number;
  stalls: number;
  droppedPercent: number;
  firstFrameMs: number;
  frames: number;
  unreadable: number;
  points: Array<[number, number]>;
  errors: string[];
}

async function waitForPlaylist(dir: string, segments: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await readPlaylist(`${dir}/${PLAYLIST}`)).segments.length >= segments) return;
    } catch { /* not written yet */ }
    await sleep(200);
  }
  throw new Error(`ffmpeg's HLS muxer wrote no ${segments} segments within ${timeoutMs} ms`);
}

/** Opens pages, waits for their first frames, settles, then records their frames. */
async function watch(open: () => Promise<Page>, count = 1) {
  const pages = await Promise.all(Array.from({ length: count }, open));
  try {
    const firstFrames = await Promise.all(pages.map((page) => waitFirstFrame(page, 30000)));
    await Promise.all(pages.map((page) => page.evaluate(TIME_CODE_READER)));
    await sleep(settleSeconds * 1000);
    await Promise.all(pages.map((page) => page.evaluate("window.timeCode.take()")));
    await sleep(seconds * 1000);
    const frames = await Promise.all(
      pages.map((page) => page.evaluate("window.timeCode.take()") as Promise<CodedFrame[]>),
    );
    const errors = await Promise.all(
      pages.map((page) =>
        page.evaluate(() =>
          (globalThis as unknown as { watch?: { errors: string[] } }).watch?.errors ?? []
        )
      ),
    );
    return { firstFrames, frames, errors: errors.flat() };
  } finally {
    await Promise.all(pages.map((page) => page.close()));
  }
}

function row(
  key: string,
  name: string,
  firstFrameMs: number,
  frames: CodedFrame[],
  errors: string[],
): Row {
  const numbers = pictureNumbers(frames);
  const t0 = frames[0]?.shown ?? 0;
  return {
    key,
    name,
    p50: percentile(numbers.latencies, 0.5),
    p99: percentile(numbers.latencies, 0.99),
    stalls: numbers.stalls,
    droppedPercent: numbers.droppedShare * 100,
    firstFrameMs,
    frames: numbers.presented,
    unreadable: numbers.unreadable,
    points: frames.filter((frame) => frame.code !== null).map((frame) => [
      (frame.shown - t0) / 1000,
      (frame.shown - frame.code!) / 1000,
    ]),
    errors,
  };
}

const loadBefore = Deno.loadavg();
const stamp = new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);
const outDir = values.out ??
  decodeURIComponent(new URL(`bench-output/latency-${stamp}`, ROOT).pathname);
await Deno.mkdir(outDir, { recursive: true });
const hlsScript = await Deno.readFile(HLS_JS);
console.log(
  `latency benchmark (from the picture): test pattern ${values.size} at 30 fps; ${settleSeconds} s ` +
    `settling, ${seconds} s recorded per row; load average ${
      loadBefore.map((value) => value.toFixed(2)).join(" ")
    } on ${navigator.hardwareConcurrency} cores`,
);
const node = await startNode({ env: { LOG_INFO: "NO", LOG_WARNING: "NO" } });
const browser = await launchBrowser();
const rows: Row[] = [];
const differences: number[] = [];
const llhls = await LlHlsRow.start(node, STREAM, hlsScript);
const llhlsFmp4 = await LlHlsRow.start(node, STREAM, hlsScript, "fmp4");
try {
  const phases: Array<{ fragment: number; part: number | "frame" }> = [
    { fragment: 1, part: "frame" },
    { fragment: 2, part: 0.2 },
  ];
  for (const phase of phases) {
    const hlsDir = await Deno.makeTempDir({ prefix: "latency-hls-" });
    const source = await LatencySource.start({
      url: node.wsUrl,
      streamId: STREAM,
      secret: TEST_SECRETS.PUSH_SECRET,
      hlsDir,
      size: values.size,
      fragmentDuration: phase.fragment,
      partDuration: phase.part,
      timeCode: true,
    });
    const server = new StaticServer(hlsDir, {
      "/hls.min.js": { body: hlsScript, type: "text/javascript" },
      "/hls.html": { body: hlsJsPageHtml("/hls.min.js", `/${PLAYLIST}`), type: "text/html" },
    });
    try {
      await waitForPlaylist(hlsDir, 2, 20000);
      const ours = (options: Record<string, unknown>) => () =>
        openModulePage(browser, node, STREAM, options);
      const hls = () => browser.page(`${server.url}/hls.html`);
      const ourHls = () => llhls.open(browser);
      const ourFmp4 = () => llhlsFmp4.open(browser);
      const plans = phase.part === "frame"
        ? [
          { key: "webcodecs", name: "ours, default (WebCodecs), frame parts", open: ours({}) },
          {
            key: "webcodecs50",
            name: "ours, WebCodecs, frame parts, page delay 0.05",
            open: ours({ delay: 0.05 }),
          },
          {
            key: "mse",
            name: 'ours, playback "mse", frame parts',
            open: ours({ playback: "mse" }),
          },
          { key: "two", name: "two viewers (default)", open: ours({}), count: 2 },
          { key: "hls1", name: "hls.js, ffmpeg HLS 1 s segments", open: hls },
          { key: "llhls1", name: "hls.js, our LL-HLS, 1 s fragments", open: ourHls },
          { key: "fmp4_1", name: "hls.js, our LL-HLS fMP4, 1 s fragments", open: ourFmp4 },
        ]
        : [
          { key: "parts200", name: "ours, default, 200 ms parts", open: ours({}) },
          { key: "hls2", name: "hls.js, ffmpeg HLS 2 s segments", open: hls },
          { key: "llhls2", name: "hls.js, our LL-HLS, 2 s fragments", open: ourHls },
          { key: "fmp4_2", name: "hls.js, our LL-HLS fMP4, 2 s fragments", open: ourFmp4 },
        ];
      for (const plan of plans) {
        console.log(`  ${plan.name}...`);
        const seen = await watch(plan.open, plan.count ?? 1);
        if (plan.count === 2) {
          differences.push(...viewerDifferences(seen.frames[0], seen.frames[1]));
        }
        rows.push(row(plan.key, plan.name, seen.firstFrames[0], seen.frames[0], seen.errors));
      }
    } finally {
      await source.stop().catch(() => {});
      await server.close();
      await Deno.remove(hlsDir, { recursive: true }).catch(() => {});
    }
  }
} finally {
  await llhls.close();
  await llhlsFmp4.close();
  await browser[Symbol.asyncDispose]();
  await node.stop();
}
const loadAfter = Deno.loadavg();

console.log(
  "\n| row | p50 (ms) | p99 (ms) | stalls | dropped | first frame (ms) | frames (unreadable) |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- |");
for (const r of rows) {
  console.log(
    `| ${r.name} | ${r.p50.toFixed(0)} | ${r.p99.toFixed(0)} | ${r.stalls} | ${
      r.droppedPercent.toFixed(2)
    } % | ${r.firstFrameMs} | ${r.frames} (${r.unreadable}) |${
      r.errors.length ? ` errors: ${r.errors.join("; ")}` : ""
    }`,
  );
}
const absolute = differences.map(Math.abs);
console.log(
  `\ntwo viewers, frame shown at the same moment: |difference| p50 ${
    percentile(absolute, 0.5).toFixed(1)
  } ms, p99 ${percentile(absolute, 0.99).toFixed(1)} ms (${differences.length} frames)`,
);
console.log(`load average after: ${loadAfter.map((value) => value.toFixed(2)).join(" ")}`);

const colors = [
  "#1f77b4",
  "#17becf",
  "#ff7f0e",
  "#8c564b",
  "#2ca02c",
  "#9467bd",
  "#e377c2",
  "#d62728",
  "#7f7f7f",
  "#bcbd22",
  "#000000",
];
const svg = lineChart({
  title: `Glass to glass read from the picture, test pattern ${values.size} at 30 fps`,
  xLabel: "seconds since recording started (after first frame + settling)",
  yLabel: "latency (s)",
  series: rows.map((r, index) => ({
    name: `${r.name} (p50 ${(r.p50 / 1000).toFixed(2)} s)`,
    color: colors[index % colors.length],
    points: r.points,
  })),
});
await Deno.writeTextFile(`${outDir}/latency.svg`, svg);
await Deno.writeTextFile(
  `${outDir}/samples.json`,
  JSON.stringify(
    {
      date: new Date().toISOString(),
      settings: { size: values.size, fps: 30, seconds, settleSeconds },
      load: { before: loadBefore, after: loadAfter, cores: navigator.hardwareConcurrency },
      twoViewers: { p50: percentile(absolute, 0.5), p99: percentile(absolute, 0.99) },
      rows: rows.map(({ points: _, ...r }) => r),
    },
    null,
    1,
  ),
);
console.log(`\nchart and samples: ${outDir}/latency.svg, ${outDir}/samples.json`);
if (values.docs) {
  await Deno.copyFile(`${outDir}/latency.svg`, new URL("documentation/latency.svg", ROOT));
  console.log("chart copied to documentation/latency.svg");
}
