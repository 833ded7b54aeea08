/**
 * The relayed streams of a node, one {@linkcode UpstreamRelay} per stream id: however many
 * spectators pull a stream, and whichever source (registry or `RELAY_FROM_URL`) found it, the node
 * holds one upstream connection for it. Concurrent pulls of a stream that is still being fetched
 * share that one attempt.
 *
 * A relay's pulls carry the relay path (`via`) of the pull that started it, so that a loop through
 * other nodes is seen within one round trip. So that a client's made-up path cannot spoil the
 * relay for everyone: a relay is never started with a path the upstream would refuse as too long
 * (that pull alone gets `LOOP_DETECTED`), and when a start fails with `LOOP_DETECTED`, the pulls
 * that joined it with another path get a relay of their own.
 *
 * @example
 * ```ts ignore
 * const hub = new RelayHub({ config, memory, metrics, log, signPull: (id) => verifier.signPull(id) });
 * const start = await hub.acquire(request, "relay", fixedUpstream("ws://origin/"), signal);
 * if (start.kind === "stream") start.stream.attach(spectator);
 * ```
 * @module
 */

import { ErrorCode, type ProtocolError } from "../../../shared/errors.ts";
import { quote } from "../../../shared/quote.ts";
import type { BufferMemory } from "../../buffer_memory.ts";
import type { NodeConfig } from "../../config.ts";
import type { Logger } from "../../log.ts";
import type { Metrics } from "../../metrics.ts";
import { Stream } from "../../stream.ts";
import type { StreamEnd } from "../../stream_end.ts";
import type { UpstreamLocator } from "./locator.ts";
import { checkRelayPathLength } from "./relay_path.ts";
import type { RelayStart } from "./relay_options.ts";
import { UpstreamRelay } from "./upstream_relay.ts";

/** What a relay is acquired for: a pull of a stream, with the relay path it came by. */
export interface RelayRequest {
  /** Stream id. */
  readonly stream: string;
  /** Nodes the pull went through, this one last (the relay's pulls carry it as `via`). */
  readonly via: readonly string[];
}

/** What the hub needs from its node. */
export interface RelayHubOptions {
  /** Node configuration (timeouts, `RELAY_*`, buffers). */
  config: NodeConfig;
  /** The node's buffer account. */
  memory: BufferMemory;
  /** Counters. */
  metrics: Metrics;
  /** Log. */
  log: Logger;
  /** Signs this node's pull token for a stream. */
  signPull(streamId: string): Promise<string>;
  /** The WebSocket class of upstream pulls. @default globalThis.WebSocket */
  WebSocket?: typeof WebSocket;
}

/** Rejects with the signal's reason when it aborts first. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function samePath(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id, index) => id === b[index]);
}

/** The node's relays, by stream id. */
export class RelayHub {
  #options: RelayHubOptions;
  #relays = new Map<string, UpstreamRelay>();

  /** Creates an empty hub. */
  constructor(options: RelayHubOptions) {
    this.#options = options;
  }

  /** The relay of a stream, live or starting. */
  get(streamId: string): UpstreamRelay | undefined {
    return this.#relays.get(streamId);
  }

  /** Relays started by one source (all when `origin` is absent). */
  relays(origin?: string): UpstreamRelay[] {
    return [...this.#relays.values()].filter((relay) =>
      origin === undefined || relay.origin === origin
    );
  }

  /**
   * The relayed stream for a pull: the existing relay of the stream when there is one (joining its
   * start when it is still starting), else a new relay from `locator`. A shared start that fails
   * for a relay of another locator is followed by an attempt of this one. `signal` only stops this
   * caller's wait; the start goes on for the others.
   */
  async acquire(
    request: RelayRequest,
    origin: string,
    locator: UpstreamLocator,
    signal: AbortSignal,
  ): Promise<RelayStart> {
    const existing = this.#relays.get(request.stream);
    if (existing !== undefined) {
      this.#options.log.debug(`a pull joins the relay of ${quote(request.stream)}`);
      const result = await abortable(existing.started, signal);
      if (result.kind === "stream" && result.stream.ended === null) return result;
      // A loop seen on another path says nothing about this one.
      const otherPath = result.kind === "failed" &&
        result.error.code === ErrorCode.LOOP_DETECTED && !samePath(existing.via, request.via);
      if (existing.locator.key === locator.key && !otherPath) {
        return result.kind === "stream" ? { kind: "declined", reason: "the stream ended" } : result;
      }
      const current = this.#relays.get(request.stream);
      if (current !== undefined && current !== existing) {
        return this.acquire(request, origin, locator, signal);
      }
    }
    try {
      checkRelayPathLength(request.via);
    } catch (error) {
      return { kind: "failed", error: error as ProtocolError };
    }
    return await abortable(this.#start(request, origin, locator).started, signal);
  }

  #start(request: RelayRequest, origin: string, locator: UpstreamLocator): UpstreamRelay {
    const { config, memory, metrics, log } = this.#options;
    const id = request.stream;
    const relay = new UpstreamRelay({
      streamId: id,
      via: request.via,
      origin,
      locator,
      createStream: () =>
        new Stream({
          id,
          maxFragments: config.buffers.maxFragments,
          maxFragmentBytes: config.maxBinaryMessageSize,
          memory,
          metrics,
          log: log.child(`stream ${id}`),
        }),
      signPull: this.#options.signPull,
      WebSocket: this.#options.WebSocket,
      metrics,
      timing: {
        upstreamTimeoutMs: config.timeouts.upstreamSeconds * 1000,
        heartbeatMs: config.timeouts.heartbeatSeconds * 1000,
        idleMs: config.timeouts.idleSeconds * 1000,
        resumeTimeoutMs: config.relay.resumeTimeoutSeconds * 1000,
        inactivityMs: config.relay.inactivityPeriodSeconds * 1000,
      },
      log,
    });
    this.#relays.set(id, relay);
    let counted = false;
    relay.addEventListener("ended", () => {
      if (this.#relays.get(id) === relay) this.#relays.delete(id);
      if (counted) metrics.streams.dec({ origin: "relay" });
      counted = false;
    }, { once: true });
    relay.started.then((result) => {
      if (result.kind === "stream" && !relay.closed) {
        counted = true;
        metrics.streams.inc({ origin: "relay" });
      }
    }, () => {});
    return relay;
  }

  /** Ends the relays of one source (all when `origin` is absent), e.g. at shutdown. */
  closeAll(end: StreamEnd, origin?: string): void {
    for (const relay of this.relays(origin)) relay.close(end);
  }
}
