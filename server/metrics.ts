/**
 * The one place that counts bytes and events on a node, as Prometheus metrics (`npm:prom-client`,
 * which runs on Deno unchanged). Components receive a {@linkcode Metrics} and increment it; the
 * `/metrics` and `/stats` endpoints read it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Metrics } from "./metrics.ts";
 * const metrics = new Metrics();
 * metrics.bytesOut.inc(188);
 * metrics.tallyOut("part", 376); // fan-out's count, added when the metrics are read
 * const text = await metrics.registry.metrics();
 * assert(text.includes("hlswscdn_bytes_out_total 564"));
 * assert(text.includes('hlswscdn_media_messages_out_total{kind="part"} 1'));
 * ```
 * @module
 */

import client from "prom-client";
import { registerProcessMetrics } from "./process_metrics.ts";

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
  /** Media bytes sent to spectators (relays included); see {@linkcode Metrics.tallyOut}. */
  readonly bytesOut: client.Counter;
  /** Fragments received (whole or completed from parts). */
  readonly fragmentsIn: client.Counter;
  /** Parts received. */
  readonly partsIn: client.Counter;
  /** Fragments and parts sent to spectators; see {@linkcode Metrics.tallyOut}. */
  readonly messagesOut: client.Counter<"kind">;
  /** Sends counted by `tallyOut` and not yet added to the counters. */
  #out = { bytes: 0, fragment: 0, part: 0 };
  /** Seconds from receiving a fragment or part to handing it to a spectator's socket. */
  readonly sendDelay: client.Histogram;
  /** Times a slow spectator was moved forward to a later fragment. */
  readonly spectatorJumps: client.Counter;
  /** Connections refused or closed by the node, by error code. */
  readonly refusals: client.Counter<"code">;
  /** Publisher graces by event: `entered`, then `resumed`, `expired` or `moved`. */
  readonly publisherGraces: client.Counter<"event">;
  /** Bytes held in fragment buffers (rings and fragments being assembled). */
  readonly bufferBytes: client.Gauge;
  /** Fragments not kept in a ring because of the buffer memory limit. */
  readonly bufferEvictions: client.Counter;
  /** The buffer memory limit in bytes (0 when the limiter is off). */
  readonly bufferLimit: client.Gauge;
  /** Plain HTTP responses by status. */
  readonly httpResponses: client.Counter<"status">;
  /** Addresses the rate limiter tracks now. */
  readonly rateLimitedAddresses: client.Gauge;
  /** Registry commands that failed, by operation (`lookup`, `list`, `register`, `refresh`, `delete`). */
  readonly registryErrors: client.Counter<"operation">;
  /** Times the registry connection was established again after it was lost. */
  readonly registryReconnects: client.Counter;
  /** 1 while the registry (Redis) connection is ready, 0 otherwise. */
  readonly registryConnected: client.Gauge;
  /** Upstream pulls that failed or dropped, by reason (an `E` code, or `connect`, `lost`). */
  readonly relayErrors: client.Counter<"reason">;
  /** Times a relay reconnected to an upstream after losing it. */
  readonly relayReconnects: client.Counter;
  /** Open connections to upstream nodes. */
  readonly relayUpstreams: client.Gauge;
  /** TLS certificate reloads by result (`loaded`, `rejected`). */
  readonly tlsReloads: client.Counter<"result">;
  /** Expiry of the TLS certificate in use, seconds since the Unix epoch. */
  readonly tlsCertificateExpiry: client.Gauge;
  /** Fetches of a JWKS key set by result (`ok`, `error`). */
  readonly jwksFetches: client.Counter<"result">;
  /** Constant 1, labelled with the node id and transport. */
  readonly info: client.Gauge<"node_id" | "transport">;

  /** Creates the metrics, with process metrics (CPU, RSS, open file descriptors). */
  constructor() {
    const registers = [this.registry];
    registerProcessMetrics(this.registry);
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
    const out = this.#out;
    this.bytesOut = new client.Counter({
      name: `${PREFIX}bytes_out_total`,
      help: "Media bytes sent to spectators.",
      registers,
      collect() {
        if (out.bytes > 0) this.inc(out.bytes);
        out.bytes = 0;
      },
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
      collect() {
        if (out.fragment > 0) this.inc({ kind: "fragment" }, out.fragment);
        if (out.part > 0) this.inc({ kind: "part" }, out.part);
        out.fragment = out.part = 0;
      },
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
    this.publisherGraces = new client.Counter({
      name: `${PREFIX}publisher_graces_total`,
      help: "Streams that lost their publisher and waited for it, by event " +
        "(entered, then resumed, expired or moved).",
      labelNames: ["event"],
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
    this.bufferLimit = new client.Gauge({
      name: `${PREFIX}buffer_limit_bytes`,
      help: "The buffer memory limit in bytes (0 when the limiter is off).",
      registers,
    });
    this.httpResponses = new client.Counter({
      name: `${PREFIX}http_responses_total`,
      help: "Plain HTTP responses by status.",
      labelNames: ["status"],
      registers,
    });
    this.rateLimitedAddresses = new client.Gauge({
      name: `${PREFIX}rate_limit_tracked_addresses`,
      help: "Client addresses the rate limiter tracks now.",
      registers,
    });
    this.registryErrors = new client.Counter({
      name: `${PREFIX}registry_errors_total`,
      help: "Publish registry commands that failed, by operation.",
      labelNames: ["operation"],
      registers,
    });
    this.registryReconnects = new client.Counter({
      name: `${PREFIX}registry_reconnects_total`,
      help: "Times the publish registry connection was established again after a loss.",
      registers,
    });
    this.registryConnected = new client.Gauge({
      name: `${PREFIX}registry_connected`,
      help: "1 while the publish registry connection is ready, 0 otherwise.",
      registers,
    });
    this.relayErrors = new client.Counter({
      name: `${PREFIX}relay_errors_total`,
      help: "Upstream pulls that failed or dropped, by reason.",
      labelNames: ["reason"],
      registers,
    });
    this.relayReconnects = new client.Counter({
      name: `${PREFIX}relay_reconnects_total`,
      help: "Times a relay reconnected to an upstream node after losing it.",
      registers,
    });
    this.relayUpstreams = new client.Gauge({
      name: `${PREFIX}relay_upstream_connections`,
      help: "Open connections to upstream nodes.",
      registers,
    });
    this.tlsReloads = new client.Counter({
      name: `${PREFIX}tls_reloads_total`,
      help: "TLS certificate reloads by result (loaded, rejected).",
      labelNames: ["result"],
      registers,
    });
    this.tlsCertificateExpiry = new client.Gauge({
      name: `${PREFIX}tls_certificate_expiry_seconds`,
      help: "Expiry of the TLS certificate in use, seconds since the Unix epoch.",
      registers,
    });
    this.jwksFetches = new client.Counter({
      name: `${PREFIX}jwks_fetches_total`,
      help: "Fetches of a JWKS key set by result (ok, error).",
      labelNames: ["result"],
      registers,
    });
    this.info = new client.Gauge({
      name: `${PREFIX}node_info`,
      help: "Constant 1, labelled with the node id and transport.",
      labelNames: ["node_id", "transport"],
      registers,
    });
    // Series that exist from the start, so dashboards and rates see zeros rather than gaps.
    for (const role of ["pending", "publisher", "spectator"]) this.connections.set({ role }, 0);
    for (const origin of ["local", "relay"]) this.streams.set({ origin }, 0);
    for (const event of ["entered", "resumed", "expired", "moved"]) {
      this.publisherGraces.inc({ event }, 0);
    }
    this.registryConnected.set(0);
    this.relayUpstreams.set(0);
  }

  /**
   * Counts one fragment or part of `bytes` sent to a spectator, in plain numbers added to
   * `bytesOut` and `messagesOut` when they are read: fan-out calls this for every spectator of
   * every part, and a labelled counter's `inc` costs a label hash each time.
   */
  tallyOut(kind: "fragment" | "part", bytes: number): void {
    const out = this.#out;
    out.bytes += bytes;
    out[kind]++;
  }
}
