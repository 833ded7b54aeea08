/**
 * ABR benchmark (not a test): our player, the node choosing its rendition, against hls.js's own
 * ABR on ffmpeg's HLS output, behind the same bandwidth-limiting proxy on the same schedule:
 * 5 Mbit/s, 1.2 Mbit/s, 5 Mbit/s. The same encode for both (`abr_source.ts`: the two renditions
 * of the ABR tests, 1280x720 ~2500 and 640x360 ~800, 1 s keyframes / segments, a time code in the
 * picture); the players run one after the other, each with its own encode, so that one machine
 * does not encode both at once.
 *
 * - ours: `group: true` on `room/live`, default path (WebCodecs), its WebSocket through the proxy;
 * - hls.js: the page, its script, the master playlist, both variants' playlists and segments
 *   through the proxy (one limiter shared by all its connections), with the latency benchmark's
 *   hls.js settings (`HLS_JS_CONFIG`: one segment behind live) and its default ABR.
 *
 * Each player first settles on the top picture (3 s without a change), then the schedule runs.
 * From the frames presented (`abr_report.ts`): stalls (pauses over 200 ms), seconds on screen in
 * each rendition, time from the drop to the first low picture and from the lift to the first top
 * picture, glass-to-glass delay read from the picture before, during and after each switch.
 * Prints a table, writes `abr.svg` and `samples.json` to `bench-output/abr-<time>/`; `--docs`
 * copies the chart to `documentation/abr.svg`.
 *
 * `deno task bench abr [--fast 10] [--slow 20] [--after 30] [--docs] [--out DIR]`
 * @module
 */

import { parseArgs } from "node:util";
import type { Page } from "playwright-core";
import { launchBrowser, sleep, type TestBrowser } from "../browser/helpers/browser.ts";
import { openModulePage } from "../browser/helpers/pages.ts";
import { type NodeProcess, startNode, TEST_SECRETS } from "../helpers/node_process.ts";
import { RateProxy } from "../helpers/rate_proxy.ts";
import {
  forgetFrames,
  type PlayerKind,
  type Seen,
  takeSeen,
  waitSettled,
  watchPage,
} from "./abr_pages.ts";
import { type AbrNumbers, abrNumbers, AFTER_MS, DURING_MS, STALL_MS } from "./abr_report.ts";
import { HlsAbrSource, MASTER_PLAYLIST, OurAbrSource, RENDITIONS } from "./abr_source.ts";
import { readPlaylist } from "./hls_playlist.ts";
import { hlsJsPageHtml, waitFirstFrame } from "./latency_pages.ts";
import { StaticServer } from "./static_server.ts";
import { lineChart } from "./svg_chart.ts";

const { values } = parseArgs({
  args: Deno.args.filter((arg) => arg !== "abr"),
  options: {
    fast: { type: "string", default: "10" },
    slow: { type: "string", default: "20" },
    after: { type: "string", default: "30" },
    out: { type: "string" },
    docs: { type: "boolean", default: false },
  },
});
const FAST = 5_000_000;
const SLOW = 1_200_000;
const phases = {
  fast: Number(values.fast),
  slow: Number(values.slow),
  after: Number(values.after),
};
const ROOT = new URL("../../", import.meta.url);
const HLS_JS = new URL("node_modules/hls.js/dist/hls.min.js", ROOT);

/** One player's run. */
interface Run {
  kind: PlayerKind;
  name: string;
  settled: boolean;
  schedule: { start: number; dropAt: number; liftAt: number; end: number };
  seen: Seen;
  numbers: AbrNumbers;
}

/** Runs the schedule on a settled page behind `proxy`. */
async function schedule(
  kind: PlayerKind,
  name: string,
  page: Page,
  proxy: RateProxy,
): Promise<Run> {
  await watchPage(page, kind);
  await waitFirstFrame(page, 30000);
  const settled = await waitSettled(page, 3000, 40000);
  await forgetFrames(page);
  const start = Date.now();
  await sleep(phases.fast * 1000);
  proxy.rate = SLOW;
  const dropAt = Date.now();
  await sleep(phases.slow * 1000);
  proxy.rate = FAST;
  const liftAt = Date.now();
  await sleep(phases.after * 1000);
  const end = Date.now();
  const seen = await takeSeen(page);
  const timing = { start, dropAt, liftAt, end };
  const numbers = abrNumbers({ ...timing, frames: seen.frames, sizes: seen.track.sizes });
  return { kind, name, settled, schedule: timing, seen, numbers };
}

async function runOurs(browser: TestBrowser, node: NodeProcess): Promise<Run> {
  const source = await OurAbrSource.start(node.wsUrl, TEST_SECRETS.PUSH_SECRET);
  await using proxy = RateProxy.start(node.port, FAST);
  try {
    const page = await openModulePage(browser, node, "room/live", {
      group: true,
      cdnServerUrl: proxy.wsUrl,
    });
    try {
      return await schedule("ours", "ours (node ABR, WebCodecs)", page, proxy);
    } finally {
      await page.close();
    }
  } finally {
    await source.stop();
  }
}

async function waitForVariants(dir: string, segments: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      await Deno.stat(`${dir}/${MASTER_PLAYLIST}`);
      const lists = await Promise.all(
        RENDITIONS.map((_, index) => readPlaylist(`${dir}/v${index}.m3u8`)),
      );
      if (lists.every((list) => list.segments.length >= segments)) return;
    } catch { /* not written yet */ }
    await sleep(200);
  }
  throw new Error(`ffmpeg wrote no ${segments} segments per variant within ${timeoutMs} ms`);
}

async function runHlsJs(browser: TestBrowser): Promise<Run> {
  const dir = await Deno.makeTempDir({ prefix: "abr-hls-" });
  const source = HlsAbrSource.start(dir);
  const server = new StaticServer(dir, {
    "/hls.min.js": { body: await Deno.readFile(HLS_JS), type: "text/javascript" },
    "/hls.html": { body: hlsJsPageHtml("/hls.min.js", `/${MASTER_PLAYLIST}`), type: "text/html" },
  });
  try {
    await waitForVariants(dir, 3, 20000);
    await using proxy = RateProxy.start(Number(new URL(server.url).port), FAST, { shared: true });
    const page = await browser.page(`${proxy.httpUrl}hls.html`);
    try {
      return await schedule("hls.js", "hls.js ABR, ffmpeg HLS 1 s segments", page, proxy);
    } finally {
      await page.close();
    }
  } finally {
    await source.stop().catch(() => {});
    await server.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

const loadBefore = Deno.loadavg();
const stamp = new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);
const outDir = values.out ??
  decodeURIComponent(new URL(`bench-output/abr-${stamp}`, ROOT).pathname);
await Deno.mkdir(outDir, { recursive: true });
console.log(
  `ABR benchmark: ${RENDITIONS.join(" + ")}, 1 s keyframes; link ${FAST / 1e6} Mbit/s for ` +
    `${phases.fast} s, ${SLOW / 1e6} Mbit/s for ${phases.slow} s, ${FAST / 1e6} Mbit/s for ` +
    `${phases.after} s; load average ${loadBefore.map((v) => v.toFixed(2)).join(" ")} on ` +
    `${navigator.hardwareConcurrency} cores`,
);
const node = await startNode({ env: { LOG_INFO: "NO", LOG_WARNING: "NO" } });
const browser = await launchBrowser();
const runs: Run[] = [];
try {
  console.log("  ours...");
  runs.push(await runOurs(browser, node));
  console.log("  hls.js...");
  runs.push(await runHlsJs(browser));
} finally {
  await browser[Symbol.asyncDispose]();
  await node.stop();
}
const loadAfter = Deno.loadavg();

const ms = (value: number | null) =>
  value === null ? "none" : Number.isNaN(value) ? "?" : `${(value / 1000).toFixed(2)} s`;
const rows: Array<[string, (run: Run) => string]> = [
  ["settled on the top picture before the schedule", (r) => (r.settled ? "yes" : "NO")],
  [`stalls (pauses > ${STALL_MS} ms between frames)`, (r) => String(r.numbers.stalls)],
  ["longest pause between frames", (r) => ms(r.numbers.longestGapMs)],
  ["seconds frozen (those pauses)", (r) => r.numbers.frozenSeconds.toFixed(1)],
  ...RENDITIONS.map((id): [string, (run: Run) => string] => {
    const size = id.split("/").pop()!.split("-")[0];
    return [
      `seconds playing at ${size}`,
      (r) => (r.numbers.secondsIn[size] ?? 0).toFixed(1),
    ];
  }),
  ["drop → first low picture", (r) => ms(r.numbers.downMs)],
  ["lift → first top picture", (r) => ms(r.numbers.upMs)],
  ["switches up while still limited", (r) => String(r.numbers.upWhileLimited)],
  [
    `delay before the drop (median, last ${AFTER_MS / 1000} s)`,
    (r) => ms(r.numbers.delay.beforeDrop),
  ],
  [
    `delay during the switch down (max, to ${DURING_MS / 1000} s after)`,
    (r) => ms(r.numbers.delay.duringDown),
  ],
  [
    `delay at the end of 1.2 Mbit/s (median, last ${AFTER_MS / 1000} s)`,
    (r) => ms(r.numbers.delay.endOfLimited),
  ],
  [
    `delay during the switch up (max, to ${DURING_MS / 1000} s after)`,
    (r) => ms(r.numbers.delay.duringUp),
  ],
  [
    `delay after the switch up (median, last ${AFTER_MS / 1000} s)`,
    (r) => ms(r.numbers.delay.afterUp),
  ],
  ["frames presented (unreadable codes)", (r) => `${r.numbers.frames} (${r.numbers.unreadable})`],
  ["player errors", (r) => (r.seen.errors.length ? r.seen.errors.join("; ") : "none")],
];
console.log(`\n| measure | ${runs.map((r) => r.name).join(" | ")} |`);
console.log(`| --- | ${runs.map(() => "---").join(" | ")} |`);
for (const [label, cell] of rows) console.log(`| ${label} | ${runs.map(cell).join(" | ")} |`);
for (const run of runs) {
  const t = (at: number) => `${((at - run.schedule.start) / 1000).toFixed(1)}s`;
  console.log(
    `\n${run.name}: sizes ${
      run.seen.track.sizes.filter((s) => s.at >= run.schedule.start - 60000)
        .map((s) => `${t(s.at)} ${s.size}`).join(", ")
    }; switch events ${run.seen.switches.map((s) => `${t(s.at)} ${s.label}`).join(", ")}`,
  );
}
for (const run of runs.filter((run) => run.seen.log.length > 0)) {
  const t = (at: number) => `${((at - run.schedule.start) / 1000).toFixed(1)}s`;
  const errors = new Map<string, number>();
  for (const entry of run.seen.log.filter((entry) => entry.label.startsWith("error "))) {
    errors.set(entry.label, (errors.get(entry.label) ?? 0) + 1);
  }
  console.log(
    `${run.name}: errors ${
      [...errors].map(([label, count]) => `${label.slice(6)} ×${count}`).join(", ") || "none"
    }; from the drop to the end: ${
      run.seen.log.filter((entry) =>
        entry.at >= run.schedule.dropAt && entry.at <= run.schedule.end
      )
        .map((entry) => `${t(entry.at)} ${entry.label}`).join("; ")
    }`,
  );
}
console.log(`\nload average after: ${loadAfter.map((v) => v.toFixed(2)).join(" ")}`);

const colors = { ours: "#1f77b4", "hls.js": "#d62728" };
const total = phases.fast + phases.slow + phases.after;
const series = runs.flatMap((run) => {
  const { start, end } = run.schedule;
  const x = (at: number) => (at - start) / 1000;
  const delay = run.seen.frames.filter((f) => f.code !== null && f.shown >= start)
    .map((f): [number, number] => [x(f.shown), (f.shown - f.code!) / 1000]);
  const sizes = run.seen.track.sizes;
  const height = (change: { size: string }) => Number(change.size.split("x")[1]) / 720;
  const steps: Array<[number, number]> = [];
  let current = [...sizes].reverse().find((change) => change.at <= start);
  if (current) steps.push([0, height(current)]);
  for (const change of sizes.filter((c) => c.at > start && c.at <= end)) {
    if (current) steps.push([x(change.at), height(current)]);
    steps.push([x(change.at), height(change)]);
    current = change;
  }
  if (current) steps.push([x(end), height(current)]);
  return [
    { name: `${run.kind}: delay (s)`, color: colors[run.kind], points: delay },
    {
      name: `${run.kind}: picture height ÷ 720`,
      color: colors[run.kind],
      points: steps,
      dash: "6 3",
    },
  ];
});
const link: Array<[number, number]> = [
  [0, 1],
  [phases.fast, 1],
  [phases.fast, SLOW / FAST],
  [phases.fast + phases.slow, SLOW / FAST],
  [phases.fast + phases.slow, 1],
  [total, 1],
];
const svg = lineChart({
  title:
    "ABR, link 5 → 1.2 → 5 Mbit/s: ours (node ABR) and hls.js (its ABR, ffmpeg HLS), delay from the picture",
  xLabel: "seconds since the schedule started",
  yLabel: "delay (s); picture height ÷ 720; link ÷ 5 Mbit/s",
  series: [...series, { name: "link limit ÷ 5 Mbit/s", color: "#888", points: link, dash: "2 3" }],
  minYMax: 1.1,
  height: 440,
});
await Deno.writeTextFile(`${outDir}/abr.svg`, svg);
await Deno.writeTextFile(
  `${outDir}/samples.json`,
  JSON.stringify(
    {
      date: new Date().toISOString(),
      settings: { renditions: RENDITIONS, fast: FAST, slow: SLOW, phases },
      load: { before: loadBefore, after: loadAfter, cores: navigator.hardwareConcurrency },
      runs: runs.map((run) => ({
        kind: run.kind,
        name: run.name,
        settled: run.settled,
        schedule: run.schedule,
        numbers: run.numbers,
        sizes: run.seen.track.sizes,
        gaps: run.seen.track.gaps,
        switches: run.seen.switches,
        log: run.seen.log,
        errors: run.seen.errors,
      })),
    },
    null,
    1,
  ),
);
console.log(`chart and samples: ${outDir}/abr.svg, ${outDir}/samples.json`);
if (values.docs) {
  await Deno.copyFile(`${outDir}/abr.svg`, new URL("documentation/abr.svg", ROOT));
  console.log("chart copied to documentation/abr.svg");
}
