/**
 * The metrics of adaptive bitrate, registered on a node's {@linkcode Metrics} registry the first
 * time a group is pulled: `hlswscdn_abr_switches_total{direction}` (`down`, `up`, `pin`),
 * `hlswscdn_abr_viewers{rendition}` (group spectators on each rendition now) and
 * `hlswscdn_abr_shed_bytes_total` (video left out before a switch down).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Metrics } from "../metrics.ts";
 * import { abrMetrics } from "./abr_metrics.ts";
 * const metrics = new Metrics();
 * abrMetrics(metrics).switches.inc({ direction: "down" });
 * assert(abrMetrics(metrics) === abrMetrics(metrics));
 * assert((await metrics.registry.metrics()).includes('hlswscdn_abr_switches_total{direction="down"} 1'));
 * ```
 * @module
 */

import client from "prom-client";
import type { Metrics } from "../metrics.ts";

/** The counters of adaptive bitrate. */
export interface AbrMetrics {
  /** Rendition switches by direction (`down`, `up`, `pin`). */
  switches: client.Counter<"direction">;
  /** Group spectators on each rendition now. */
  viewers: client.Gauge<"rendition">;
  /** Video bytes left out between a decision to move down and the lower rendition's keyframe. */
  shedBytes: client.Counter;
}

const made = new WeakMap<Metrics, AbrMetrics>();

/** The adaptive-bitrate metrics of a node (made and registered once per {@linkcode Metrics}). */
export function abrMetrics(metrics: Metrics): AbrMetrics {
  let abr = made.get(metrics);
  if (abr === undefined) {
    const registers = [metrics.registry];
    abr = {
      switches: new client.Counter({
        name: "hlswscdn_abr_switches_total",
        help: "Rendition switches of group spectators, by direction (down, up, pin).",
        labelNames: ["direction"],
        registers,
      }),
      viewers: new client.Gauge({
        name: "hlswscdn_abr_viewers",
        help: "Group spectators on each rendition now.",
        labelNames: ["rendition"],
        registers,
      }),
      shedBytes: new client.Counter({
        name: "hlswscdn_abr_shed_bytes_total",
        help: "Video bytes left out between a decision to move down and the next keyframe.",
        registers,
      }),
    };
    made.set(metrics, abr);
  }
  return abr;
}
