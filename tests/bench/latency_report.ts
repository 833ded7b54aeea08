/**
 * Numbers of the latency benchmark: per player run, latency percentiles from the samples, and the
 * printed report (table, ratios against conventional HLS, the cost of two relay hops, and the
 * targets of issue 7).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { percentile } from "./latency_report.ts";
 * assert(percentile([3, 1, 2], 0.5) === 2);
 * ```
 * @module
 */

import type { LatencySample, PlayerNumbers } from "./latency_pages.ts";

/** Targets: with parts, p50 and p99 latency (s); the most two hops may add (s); first frame (ms). */
export const TARGETS = { p50: 1.0, p99: 1.5, hopsAdded: 0.1, firstFrameMs: 500 };

/** One run, summarized. */
export interface RunSummary {
  /** `parts`, `whole`, `hls` or `hops`. */
  key: string;
  /** Readable name. */
  name: string;
  /** Start to first decoded frame, ms: the median of every start. */
  firstFrameMs: number;
  /** The slowest start, ms. */
  firstFrameMaxMs: number;
  /** Every start, ms. */
  firstFrames: number[];
  /** Latency percentiles and extremes, seconds. */
  p50: number;
  p99: number;
  min: number;
  max: number;
  /** Samples without a latency (the player knew none). */
  missing: number;
  /** Stalls, dropped and decoded frames while sampling. */
  numbers: PlayerNumbers;
  /** Errors the page reported. */
  errors: string[];
  /** Median of the player's own delay behind live (s). */
  delayP50: number;
  /** Samples: seconds since sampling started, latency, the player's delay and its target (s). */
  samples: Array<
    { t: number; latency: number | null; delay: number | null; target: number | null }
  >;
}

/** The value at fraction `p` of the sorted values (nearest rank). */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
}

/** Summarizes one run. */
export function summarize(
  key: string,
  name: string,
  measured: {
    firstFrames: number[];
    samples: LatencySample[];
    numbers: PlayerNumbers;
    errors: string[];
  },
): RunSummary {
  const start = measured.samples[0]?.at ?? 0;
  const values = measured.samples.map((sample) => sample.latency).filter(
    (value): value is number => value !== null && Number.isFinite(value),
  );
  const round = (value: number | null) => value === null ? null : Math.round(value * 1000) / 1000;
  return {
    key,
    name,
    firstFrameMs: percentile(measured.firstFrames, 0.5),
    firstFrameMaxMs: Math.max(...measured.firstFrames),
    firstFrames: measured.firstFrames,
    p50: percentile(values, 0.5),
    p99: percentile(values, 0.99),
    min: Math.min(...values),
    max: Math.max(...values),
    missing: measured.samples.length - values.length,
    delayP50: percentile(
      measured.samples.map((sample) => sample.delay).filter((value): value is number =>
        value !== null && Number.isFinite(value)
      ),
      0.5,
    ),
    numbers: measured.numbers,
    errors: measured.errors,
    samples: measured.samples.map((sample) => ({
      t: Math.round(sample.at - start) / 1000,
      latency: round(sample.latency),
      delay: round(sample.delay),
      target: round(sample.target),
    })),
  };
}

const fixed = (value: number, digits = 3) => Number.isFinite(value) ? value.toFixed(digits) : "-";

/** Prints the table, the ratios, the hop cost and the targets. */
export function printReport(
  runs: RunSummary[],
  clockOffsetsMs: number[],
  load: { loadBefore: number[]; loadAfter: number[] },
): void {
  const hls = runs.find((run) => run.key === "hls");
  const rows = [[
    "player",
    "p50 s",
    "p99 s",
    "min s",
    "max s",
    "own delay p50 s",
    "first frame ms p50/max",
    "p50 / HLS",
    "p99 / HLS",
    "first frame / HLS",
    "stalls",
    "dropped",
  ]];
  for (const run of runs) {
    rows.push([
      run.name,
      fixed(run.p50),
      fixed(run.p99),
      fixed(run.min),
      fixed(run.max),
      fixed(run.delayP50),
      `${run.firstFrameMs}/${run.firstFrameMaxMs}`,
      hls ? fixed(run.p50 / hls.p50, 2) : "-",
      hls ? fixed(run.p99 / hls.p99, 2) : "-",
      hls ? fixed(run.firstFrameMs / hls.firstFrameMs, 2) : "-",
      String(run.numbers.stalls),
      `${run.numbers.dropped}/${run.numbers.decoded}`,
    ]);
  }
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  console.log("");
  for (const row of rows) {
    console.log(
      row.map((cell, column) =>
        column === 0 ? cell.padEnd(widths[0]) : cell.padStart(widths[column])
      )
        .join("  "),
    );
  }
  for (const run of runs) {
    if (run.errors.length > 0) console.log(`${run.name}: errors ${run.errors.join("; ")}`);
    if (run.missing > 0) console.log(`${run.name}: ${run.missing} samples without a latency`);
  }
  if (clockOffsetsMs.length > 0) {
    console.log(
      `HLS program date time minus our stamp of the same frame: p50 ${
        fixed(percentile(clockOffsetsMs, 0.5), 0)
      } ms (${clockOffsetsMs.length} segments; positive: hls.js latency reads that much low)`,
    );
  }
  const parts = runs.find((run) => run.key === "parts");
  const hops = runs.find((run) => run.key === "hops");
  const checks: Array<[string, boolean]> = [];
  if (parts) {
    checks.push([`parts: p50 ${fixed(parts.p50)} s < ${TARGETS.p50} s`, parts.p50 < TARGETS.p50]);
    checks.push([`parts: p99 ${fixed(parts.p99)} s < ${TARGETS.p99} s`, parts.p99 < TARGETS.p99]);
    checks.push([
      `parts: first frame p50 ${parts.firstFrameMs} ms < ${TARGETS.firstFrameMs} ms (max ${parts.firstFrameMaxMs} ms)`,
      parts.firstFrameMs < TARGETS.firstFrameMs,
    ]);
  }
  if (parts && hops) {
    const added = hops.p50 - parts.p50;
    console.log(
      `two relay hops add: p50 ${fixed(added * 1000, 0)} ms, p99 ${
        fixed((hops.p99 - parts.p99) * 1000, 0)
      } ms (runs one after the other)`,
    );
    checks.push([
      `2 hops: p50 +${fixed(added * 1000, 0)} ms <= +${TARGETS.hopsAdded * 1000} ms`,
      added <= TARGETS.hopsAdded,
    ]);
  }
  console.log("targets:");
  for (const [what, met] of checks) console.log(`  ${met ? "met   " : "MISSED"} ${what}`);
  console.log(
    `load average before ${load.loadBefore.map((value) => value.toFixed(2)).join(" ")}, after ${
      load.loadAfter.map((value) => value.toFixed(2)).join(" ")
    }`,
  );
}
