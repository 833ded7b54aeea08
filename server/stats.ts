/**
 * `GET /stats`: what a node is doing, as JSON. The node's own summary (connections by role,
 * streams, buffered bytes) plus every metric of `/metrics` under its Prometheus series name
 * (`hlswscdn_refusals_total{code="RATE_LIMITED"}`), so a script or the operator page needs no
 * Prometheus parser.
 *
 * @example
 * ```ts ignore
 * const stats = await nodeStats(node);
 * console.log(stats.connections, stats.metrics['hlswscdn_bytes_out_total']);
 * ```
 * @module
 */

import type client from "prom-client";
import { cpuSeconds, openFileDescriptors } from "./process_metrics.ts";

/** Formats a series name as Prometheus does: `name{a="1",b="x"}` (labels sorted). */
export function seriesName(name: string, labels: Record<string, string | number>): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return name;
  const text = keys.map((key) => `${key}=${JSON.stringify(String(labels[key]))}`).join(",");
  return `${name}{${text}}`;
}

/** Every series of a registry as `series name → value`. */
export async function flattenMetrics(registry: client.Registry): Promise<Record<string, number>> {
  const result: Record<string, number> = {};
  for (const metric of await registry.getMetricsAsJSON()) {
    for (const value of metric.values) {
      const name = (value as { metricName?: string }).metricName ?? metric.name;
      result[seriesName(name, value.labels as Record<string, string | number>)] = value.value;
    }
  }
  return result;
}

/** What `/stats` reads of a node (a `CdnNode` is one). */
export interface StatsSource {
  /** The node's own summary: connections by role, streams, buffered bytes. */
  stats(): Record<string, unknown>;
  /** When the node started (`performance.now()`). */
  readonly startedAt: number;
  /** Whether it is shutting down. */
  readonly shuttingDown: boolean;
  /** Its buffer account. */
  readonly memory: { readonly limit: number };
  /** Its door. */
  readonly admission: { readonly trackedAddresses: number };
  /** Its counters. */
  readonly metrics: { readonly registry: client.Registry };
}

/** What a `/stats` document may show. */
export interface StatsAudience {
  /** The request carries the operator token: upstream URLs are shown too. */
  operator: boolean;
}

/**
 * The whole `/stats` document of a node. Without the operator token it holds no URL (a relay's
 * upstream can carry internal addresses): the `upstream` of each relayed stream is left out.
 */
export async function nodeStats(
  node: StatsSource,
  audience: StatsAudience = { operator: false },
): Promise<Record<string, unknown>> {
  const memory = Deno.memoryUsage();
  const cpu = cpuSeconds();
  const summary = node.stats();
  const streams = (summary.streams as Record<string, unknown>[]).map((stream) => {
    if (audience.operator) return stream;
    const { upstream: _upstream, ...rest } = stream;
    return rest;
  });
  return {
    ...summary,
    streams,
    uptimeSeconds: Math.round((performance.now() - node.startedAt) / 100) / 10,
    shuttingDown: node.shuttingDown,
    bufferLimitBytes: node.memory.limit === Infinity ? 0 : node.memory.limit,
    rateLimitTrackedAddresses: node.admission.trackedAddresses,
    process: {
      rssBytes: memory.rss,
      heapBytes: memory.heapUsed,
      cpuSeconds: Math.round((cpu.user + cpu.system) * 1000) / 1000,
      openFds: openFileDescriptors() ?? null,
    },
    metrics: await flattenMetrics(node.metrics.registry),
  };
}
