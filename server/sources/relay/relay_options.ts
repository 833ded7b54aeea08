/**
 * What a relay is given and what it tells: its options and timers, how its start went, and what
 * `/stats` shows of it (`upstream_relay.ts`).
 *
 * @module
 */

import type { ProtocolError } from "../../../shared/errors.ts";
import type { Logger } from "../../log.ts";
import type { Metrics } from "../../metrics.ts";
import type { Stream } from "../../stream.ts";
import type { UpstreamLocator } from "./locator.ts";

/** How a relay started: with a stream, declined (try the next source), or failed. */
export type RelayStart =
  | { kind: "stream"; stream: Stream }
  | { kind: "declined"; reason: string }
  | { kind: "failed"; error: ProtocolError };

/** Timers of a relay, in milliseconds. */
export interface RelayTiming {
  /** `UPSTREAM_TIMEOUT_SECONDS`: connect and answer. */
  upstreamTimeoutMs: number;
  /** `HEARTBEAT_INTERVAL_SECONDS`. */
  heartbeatMs: number;
  /** `IDLE_TIMEOUT_SECONDS`: a silent upstream counts as lost. */
  idleMs: number;
  /** `RELAY_RESUME_TIMEOUT_SECONDS`. */
  resumeTimeoutMs: number;
  /** `RELAY_INACTIVITY_PERIOD_SEC`. */
  inactivityMs: number;
}

/** How a relay is set up. */
export interface UpstreamRelayOptions {
  /** Stream id. */
  streamId: string;
  /** `via` of the pull that started the relay (it ends with this node's id). */
  via: readonly string[];
  /** Name of the source that started it (`registry`, `relay`), for stats. */
  origin: string;
  /** Where the upstream is. */
  locator: UpstreamLocator;
  /** Makes the local stream (called once, before the first pull). */
  createStream(): Stream;
  /** Signs this node's pull token for the stream. */
  signPull(streamId: string): Promise<string>;
  /** Timers. */
  timing: RelayTiming;
  /** Log. */
  log: Logger;
  /** Counters (`relay_errors_total`, `relay_reconnects_total`, `relay_upstream_connections`). */
  metrics?: Metrics;
  /** The WebSocket class of upstream pulls. @default globalThis.WebSocket */
  WebSocket?: typeof WebSocket;
}

/** What `/stats` shows of a relay. */
export interface RelayStats {
  /** Stream id. */
  id: string;
  /** The source that started it. */
  origin: string;
  /** The upstream's URL (the latest one). */
  upstream: string | null;
  /** Whether the upstream connection is open now (0 or 1 per stream, whatever the spectators). */
  upstreamConnections: number;
  /** Spectators on this node. */
  spectators: number;
  /** Newest complete fragment. */
  lastSeq: number;
  /** Times the upstream was pulled again after it dropped. */
  resumes: number;
  /** Media bytes received from upstreams. */
  bytesIn: number;
}
