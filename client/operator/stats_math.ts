/**
 * What the operator page computes from `/stats` (whose `metrics` are Prometheus series by name,
 * `hlswscdn_refusals_total{code="RATE_LIMITED"}`): sums over labels, values by one label, rates
 * between two polls, and quantiles estimated from the send-delay histogram.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { byLabel, sum } from "./stats_math.ts";
 * const metrics = { 'x{code="A"}': 2, 'x{code="B"}': 3, y: 1 };
 * assert(sum(metrics, "x") === 5);
 * assert.deepEqual(byLabel(metrics, "x", "code"), { A: 2, B: 3 });
 * ```
 * @module
 */

/** The sum of a metric over all its labels. */
export function sum(metrics: Record<string, number>, prefix: string): number {
  let total = 0;
  for (const [name, value] of Object.entries(metrics)) {
    if (name === prefix || name.startsWith(prefix + "{")) total += value;
  }
  return total;
}

/** A metric's values by the value of one label. */
export function byLabel(
  metrics: Record<string, number>,
  prefix: string,
  label: string,
): Record<string, number> {
  const out: Record<string, number> = {};
  const pattern = new RegExp(label + '="([^"]*)"');
  for (const [name, value] of Object.entries(metrics)) {
    if (!name.startsWith(prefix + "{")) continue;
    const match = pattern.exec(name);
    if (match) out[match[1]] = (out[match[1]] ?? 0) + value;
  }
  return out;
}

/** The buckets of the send-delay histogram: `[upper bound in s, cumulative count]`, in order. */
export function bucketsOf(metrics: Record<string, number>): [number, number][] {
  const list: [number, number][] = [];
  for (const [name, value] of Object.entries(metrics)) {
    const match = /^hlswscdn_send_delay_seconds_bucket\{le="([^"]+)"\}$/.exec(name);
    if (match) list.push([match[1] === "+Inf" ? Infinity : Number(match[1]), value]);
  }
  return list.sort((a, b) => a[0] - b[0]);
}

/**
 * The `q` quantile in ms of what the histogram counted between two polls (`before` the older
 * buckets), interpolated inside its bucket; null when nothing was counted.
 */
export function quantile(
  now: [number, number][],
  before: [number, number][],
  q: number,
): number | null {
  const counts = now.map(([le, count], index) => [le, count - (before[index]?.[1] ?? 0)]);
  const total = counts.length ? counts[counts.length - 1][1] : 0;
  if (total <= 0) return null;
  let lower = 0;
  let below = 0;
  for (const [le, count] of counts) {
    if (count >= q * total) {
      if (le === Infinity) return lower * 1000;
      const inBucket = count - below;
      return (lower + (le - lower) * (inBucket ? (q * total - below) / inBucket : 1)) * 1000;
    }
    lower = le;
    below = count;
  }
  return null;
}

/** Per second from `before` to `now` over `seconds` (0 without an earlier value; never below 0). */
export function rate(now: number, before: number | undefined, seconds: number): number {
  return before === undefined ? 0 : Math.max(0, (now - before) / seconds);
}
