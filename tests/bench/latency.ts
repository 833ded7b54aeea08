/**
 * End-to-end latency benchmark (not a test): our player against conventional HLS, on one source.
 *
 * ONE ffmpeg encode of the `publish` test pattern (30 fps, 2 s fragments, x264 `zerolatency`) is
 * written by ffmpeg's `tee` muxer both to our publish path (the `publish` command's cutter and
 * publisher, parts with `time` stamps, to node A) and to ffmpeg's HLS muxer (a folder with
 * `#EXT-X-PROGRAM-DATE-TIME`, served over HTTP by a small static server). In headless Chromium,
 * one after the other on the same live stream:
 *
 * 1. our player with parts (from node A);
 * 2. our player with whole fragments (`parts: false`, node A);
 * 3. hls.js (`npm:hls.js`, low-latency settings) playing the HLS folder;
 * 4. our player with parts through two relay hops (A ← B ← C via `RELAY_FROM_URL`, player on C);
 * 5. hls.js (same settings) on our Low-Latency HLS from node A (`latency_llhls.ts`).
 *
 * For each: time from `start()` / `hls.loadSource()` to the first decoded frame (median and
 * maximum of `--starts` starts), then latency
 * (now minus the publisher clock of the frame on screen) sampled every 250 ms after settling;
 * p50/p99 and ratios against hls.js. Writes `latency.svg` (latency over time) and `samples.json`
 * to `bench-output/latency-<time>/`; `--docs` also copies the chart to `documentation/latency.svg`.
 *
 * `deno task bench latency [--seconds 60] [--settle 8] [--size 1280x720] [--transport ws|deno]
 * [--media-path auto|direct|transmux] [--starts 5] [--docs] [--out DIR]`
 * @module
 */

import { parseArgs } from "node:util";
import type { Page } from "playwright-core";
import { writeMessage } from "../../shared/protocol.ts";
import { launchBrowser, sleep } from "../browser/helpers/browser.ts";
import { openModulePage } from "../browser/helpers/pages.ts";
import { pullToken } from "../helpers/client.ts";
import { type NodeProcess, startNode, TEST_SECRETS } from "../helpers/node_process.ts";
import {
  collect,
  hlsJsPageHtml,
  instrumentOurPlayer,
  type LatencySample,
  type PlayerNumbers,
  startSampling,
  waitFirstFrame,
} from "./latency_pages.ts";
import { printReport, type RunSummary, summarize } from "./latency_report.ts";
import { LatencySource, PLAYLIST } from "./latency_source.ts";
import { readPlaylist } from "./hls_playlist.ts";
import { StaticServer } from "./static_server.ts";
import { lineChart } from "./svg_chart.ts";
import { LlHlsRow } from "./latency_llhls.ts";

const { values } = parseArgs({
  args: Deno.args.filter((arg) => arg !== "latency"),
  options: {
    seconds: { type: "string", default: "60" },
    settle: { type: "string", default: "8" },
    size: { type: "string", default: "1280x720" },
    transport: { type: "string", default: "ws" },
    out: { type: "string" },
    docs: { type: "boolean", default: false },
    "media-path": { type: "string", default: "auto" },
    starts: { type: "string", default: "5" },
  },
});
const seconds = Number(values.seconds);
const settleSeconds = Number(values.settle);
const starts = Math.max(1, Number(values.starts));
const transport = values.transport as "ws" | "deno";
/** Our player's options in every run (`--media-path`: `auto`, `direct` or `transmux`). */
const playerOptions = { mediaPath: values["media-path"] };
const STREAM = "bench/latency";
const ROOT = new URL("../../", import.meta.url);
const HLS_JS = new URL("node_modules/hls.js/dist/hls.min.js", ROOT);

/** One player run: how to open it, and what it measured. */
interface RunPlan {
  key: "parts" | "whole" | "hls" | "hops" | "llhls";
  name: string;
  open(): Promise<Page>;
  ours: boolean;
}

/** A spectator that keeps a relay chain warm and throws the media away. */
async function warmSpectator(node: NodeProcess): Promise<WebSocket> {
  const socket = new WebSocket(node.wsUrl);
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = () => reject(new Error(`cannot connect to ${node.wsUrl}`));
  });
  const auth = await pullToken(STREAM);
  socket.send(
    writeMessage({ type: "PULL", stream: STREAM, auth, parts: true, maxInitialFragments: 0 }),
  );
  return socket;
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

async function measure(plan: RunPlan): Promise<{
  firstFrames: number[];
  samples: LatencySample[];
  numbers: PlayerNumbers;
  errors: string[];
}> {
  const page = await plan.open();
  let measured;
  try {
    const firstFrameMs = await waitFirstFrame(page, 30000);
    if (plan.ours) await instrumentOurPlayer(page);
    await sleep(settleSeconds * 1000);
    const before = await startSampling(page);
    await sleep(seconds * 1000);
    const { samples, numbers, errors } = await collect(page);
    measured = {
      firstFrames: [firstFrameMs],
      samples,
      numbers: {
        stalls: numbers.stalls - before.stalls,
        dropped: numbers.dropped - before.dropped,
        decoded: numbers.decoded - before.decoded,
      },
      errors,
    };
  } finally {
    await page.close();
  }
  // More starts, at other moments of the fragment, for a steadier time to first frame.
  for (let start = 1; start < starts; start++) {
    await sleep(300 + Math.random() * 1500);
    const again = await plan.open();
    try {
      measured.firstFrames.push(await waitFirstFrame(again, 30000));
    } finally {
      await again.close();
    }
  }
  return measured;
}

const loadBefore = Deno.loadavg();
const stamp = new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);
const outDir = values.out ??
  decodeURIComponent(new URL(`bench-output/latency-${stamp}`, ROOT).pathname);
await Deno.mkdir(outDir, { recursive: true });
const hlsDir = await Deno.makeTempDir({ prefix: "latency-hls-" });
let hlsScript: Uint8Array;
try {
  hlsScript = await Deno.readFile(HLS_JS);
} catch {
  console.error(`cannot read ${HLS_JS.pathname}: run 'deno install' to fill node_modules/`);
  Deno.exit(2);
}

console.log(
  `latency benchmark: test pattern ${values.size} at 30 fps, 2 s fragments, 200 ms parts; ` +
    `${settleSeconds} s settling, ${seconds} s sampled every 250 ms per player; transport ${transport}; ` +
    `load average ${
      loadBefore.map((value) => value.toFixed(2)).join(" ")
    } on ${navigator.hardwareConcurrency} cores`,
);
const quiet = { LOG_INFO: "NO", LOG_WARNING: "NO" };
const a = await startNode({ transport, env: { ...quiet, NODE_ID: "A" } });
const b = await startNode({
  transport,
  env: { ...quiet, NODE_ID: "B", RELAY_FROM_ENABLED: "YES", RELAY_FROM_URL: a.wsUrl },
});
const c = await startNode({
  transport,
  env: { ...quiet, NODE_ID: "C", RELAY_FROM_ENABLED: "YES", RELAY_FROM_URL: b.wsUrl },
});
const browser = await launchBrowser();
const source = await LatencySource.start({
  url: a.wsUrl,
  streamId: STREAM,
  secret: TEST_SECRETS.PUSH_SECRET,
  hlsDir,
  size: values.size,
});
const server = new StaticServer(hlsDir, {
  "/hls.min.js": { body: hlsScript, type: "text/javascript" },
  "/hls.html": { body: hlsJsPageHtml("/hls.min.js", `/${PLAYLIST}`), type: "text/html" },
});
let warm: WebSocket | undefined;
const llhls = await LlHlsRow.start(a, STREAM, hlsScript);
const results: RunSummary[] = [];
const clockOffsets = new Map<string, number>();
try {
  await waitForPlaylist(hlsDir, 2, 20000);
  warm = await warmSpectator(c);
  await sleep(1000);
  const plans: RunPlan[] = [
    {
      key: "parts",
      name: "our player, parts",
      ours: true,
      open: () => openModulePage(browser, a, STREAM, playerOptions),
    },
    {
      key: "whole",
      name: "our player, whole fragments",
      ours: true,
      open: () => openModulePage(browser, a, STREAM, { ...playerOptions, parts: false }),
    },
    {
      key: "hls",
      name: "hls.js, HLS",
      ours: false,
      open: () => browser.page(`${server.url}/hls.html`),
    },
    {
      key: "hops",
      name: "our player, parts, 2 relay hops",
      ours: true,
      open: () => openModulePage(browser, c, STREAM, playerOptions),
    },
    { key: "llhls", name: "hls.js, our LL-HLS", ours: false, open: () => llhls.open(browser) },
  ];
  for (const plan of plans) {
    console.log(`  ${plan.name}...`);
    const measured = await measure(plan);
    results.push(summarize(plan.key, plan.name, measured));
    for (const [uri, offset] of await source.clockOffsets()) clockOffsets.set(uri, offset);
  }
} finally {
  warm?.close();
  await source.stop().catch(() => {});
  await server.close();
  await llhls.close();
  await browser[Symbol.asyncDispose]();
  await Promise.all([a, b, c].map((node) => node.stop()));
  await Deno.remove(hlsDir, { recursive: true }).catch(() => {});
}
const loadAfter = Deno.loadavg();

printReport(results, [...clockOffsets.values()], { loadBefore, loadAfter });

const colors: Record<string, { color: string; dash?: string }> = {
  parts: { color: "#1f77b4" },
  whole: { color: "#ff7f0e" },
  hls: { color: "#2ca02c" },
  hops: { color: "#9467bd", dash: "5 3" },
  llhls: { color: "#d62728" },
};
const svg = lineChart({
  title:
    `Glass-to-glass latency, test pattern ${values.size} at 30 fps, 2 s fragments (one encode)`,
  xLabel: "seconds since sampling started (after first frame + settling)",
  yLabel: "latency (s)",
  series: results.map((run) => ({
    name: `${run.name} (p50 ${run.p50.toFixed(2)} s)`,
    ...colors[run.key],
    points: run.samples.map((sample) => [sample.t, sample.latency]),
  })),
});
await Deno.writeTextFile(`${outDir}/latency.svg`, svg);
await Deno.writeTextFile(
  `${outDir}/samples.json`,
  JSON.stringify(
    {
      date: new Date().toISOString(),
      settings: {
        mediaPath: playerOptions.mediaPath,
        size: values.size,
        fps: 30,
        fragmentSeconds: 2,
        partSeconds: 0.2,
        seconds,
        settleSeconds,
        starts,
        transport,
      },
      load: { before: loadBefore, after: loadAfter, cores: navigator.hardwareConcurrency },
      hlsClockOffsetsMs: Object.fromEntries(clockOffsets),
      runs: results,
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
