/**
 * The one place that counts bytes and events on a node, as Prometheus metrics (`npm:prom-client`,
 * which runs on Deno unchanged). Components receive a {@linkcode Metrics} and increment it; the
 * `/metrics` and `/stats` endpoints read it.
 *
 * @example
 * ```ts
 * import { Metrics } from "./metrics.ts";
 * const metrics = new Metrics();
 * metrics.bytesOut.inc(188);
 * console.assert((await metrics.registry.metrics()).includes("hlswscdn_bytes_out_total 188"));
 * ```
 * @module
 */

import client from "prom-client";

const PREFIX = "hlswscdn_";

/** Every metric of a node, in its own registry (so several nodes can live in one test process). */
export class Metrics {
  /** The registry `/metrics` renders. */
  readonly registry: client.Registry = new client.Registry();

  /** Open WebSocket connections by role (`pending`, `publisher`, `spectator`). */
  readonly connections: client.Gauge<"role">;
  /** WebSocket connections accepted since start. */
  readonly connectionsTotal: client.Counter;
  /** Live streams on this node by origin (`local`, `relay`). */
  readonly streams: client.Gauge<"origin">;
  /** Media bytes received from publishers and upstream nodes. */
  readonly bytesIn: client.Counter;
  /** Media bytes sent to spectators (relays included). */
  readonly bytesOut: client.Counter;
  /** Fragments received (whole or completed from parts). */
  readonly fragmentsIn: client.Counter;
  /** Parts received. */
  readonly partsIn: client.Counter;
  /** Fragments and parts sent to spectators. */
  readonly messagesOut: client.Counter<"kind">;
  /** Seconds from receiving a fragment or part to handing it to a spectator's socket. */
  readonly sendDelay: client.Histogram;
  /** Times a slow spectator was moved forward to a later fragment. */
  readonly spectatorJumps: client.Counter;
  /** Connections refused or closed by the node, by error code. */
  readonly refusals: client.Counter<"code">;
  /** Bytes held in fragment buffers (rings and fragments being assembled). */
  readonly bufferBytes: client.Gauge;
  /** Fragments not kept in a ring because of the buffer memory limit. */
  readonly bufferEvictions: client.Counter;

  /** Creates the metrics, with default process metrics (CPU, RSS). */
  constructor() {
    const registers = [this.registry];
    client.collectDefaultMetrics({ register: this.registry, prefix: PREFIX });
    this.connections = new client.Gauge({
      name: `${PREFIX}connections`,
      help: "Open WebSocket connections by role.",
      labelNames: ["role"],
      registers,
    });
    this.connectionsTotal = new client.Counter({
      name: `${PREFIX}connections_total`,
      help: "WebSocket connections accepted.",
      registers,
    });
    this.streams = new client.Gauge({
      name: `${PREFIX}streams`,
      help: "Live streams on this node by origin.",
      labelNames: ["origin"],
      registers,
    });
    this.bytesIn = new client.Counter({
      name: `${PREFIX}bytes_in_total`,
      help: "Media bytes received from publishers and upstream nodes.",
      registers,
    });
    this.bytesOut = new client.Counter({
      name: `${PREFIX}bytes_out_total`,
      help: "Media bytes sent to spectators.",
      registers,
    });
    this.fragmentsIn = new client.Counter({
      name: `${PREFIX}fragments_in_total`,
      help: "Fragments received (whole, or completed from parts).",
      registers,
    });
    this.partsIn = new client.Counter({
      name: `${PREFIX}parts_in_total`,
      help: "Parts received.",
      registers,
    });
    this.messagesOut = new client.Counter({
      name: `${PREFIX}media_messages_out_total`,
      help: "Fragments and parts sent to spectators, by kind.",
      labelNames: ["kind"],
      registers,
    });
    this.sendDelay = new client.Histogram({
      name: `${PREFIX}send_delay_seconds`,
      help: "Seconds from receiving a fragment or part to handing it to a spectator socket.",
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.spectatorJumps = new client.Counter({
      name: `${PREFIX}spectator_jumps_total`,
      help: "Times a slow spectator skipped fragments to catch up.",
      registers,
    });
    this.refusals = new client.Counter({
      name: `${PREFIX}refusals_total`,
      help: "Connections refused or closed by the node, by error code.",
      labelNames: ["code"],
      registers,
    });
    this.bufferBytes = new client.Gauge({
      name: `${PREFIX}buffer_bytes`,
      help: "Bytes held in fragment buffers.",
      registers,
    });
    this.bufferEvictions = new client.Counter({
      name: `${PREFIX}buffer_evictions_total`,
      help: "Fragments dropped from or not kept in a buffer because of the memory limit.",
      registers,
    });
  }
}
