/**
 * The HLS counters of a node, in the node's registry: requests by kind and status, bytes sent by
 * kind, blocked requests by outcome, and the requests blocked now.
 *
 * @example
 * ```ts ignore
 * const metrics = new HlsMetrics(node.metrics.registry);
 * metrics.requests.inc({ kind: "part", status: "200" });
 * ```
 * @module
 */

import client from "prom-client";

const PREFIX = "hlswscdn_hls_";

/** Kinds of HLS requests. */
export type HlsRequestKind = "playlist" | "multivariant" | "segment" | "part" | "init" | "other";

/** Counters of the HLS wing. */
export class HlsMetrics {
  /** Requests by kind (`playlist`, `multivariant`, `segment`, `part`, `init`, `other`) and status. */
  readonly requests: client.Counter<"kind" | "status">;
  /** Body bytes sent by kind. */
  readonly bytes: client.Counter<"kind">;
  /** Blocked requests (playlist reloads, preload-hinted parts) by outcome (`ready`, `timeout`, `aborted`). */
  readonly blockedWaits: client.Counter<"outcome">;
  /** Requests blocked now. */
  readonly waiting: client.Gauge;
  /** Streams served as HLS now. */
  readonly tracks: client.Gauge;
  /** Streams with an fMP4 copy now. */
  readonly fmp4Tracks: client.Gauge;
  /** Bytes held by the fMP4 copies now. */
  readonly fmp4Bytes: client.Gauge;

  /** Registers the counters in `registry`. */
  constructor(registry: client.Registry) {
    const registers = [registry];
    this.requests = new client.Counter({
      name: `${PREFIX}requests_total`,
      help: "HLS requests by kind and status.",
      labelNames: ["kind", "status"],
      registers,
    });
    this.bytes = new client.Counter({
      name: `${PREFIX}bytes_total`,
      help: "HLS body bytes sent by kind.",
      labelNames: ["kind"],
      registers,
    });
    this.blockedWaits = new client.Counter({
      name: `${PREFIX}blocked_waits_total`,
      help: "Blocked HLS requests by outcome.",
      labelNames: ["outcome"],
      registers,
    });
    this.waiting = new client.Gauge({
      name: `${PREFIX}waiting`,
      help: "HLS requests blocked now.",
      registers,
    });
    this.tracks = new client.Gauge({
      name: `${PREFIX}tracks`,
      help: "Streams served as HLS now.",
      registers,
    });
    this.fmp4Tracks = new client.Gauge({
      name: `${PREFIX}fmp4_tracks`,
      help: "Streams with an fMP4 copy now (wanted in the last 30 s).",
      registers,
    });
    this.fmp4Bytes = new client.Gauge({
      name: `${PREFIX}fmp4_bytes`,
      help: "Bytes held by the fMP4 copies of the HLS streams now.",
      registers,
    });
  }
}
