/**
 * A CDN node: wires the parts (sources, connections, metrics) and answers the transport.
 *
 * @example
 * ```ts ignore
 * const node = new CdnNode(parseConfig(env));
 * const listener = await wsTransport.listen({ hostname: "127.0.0.1", port: 8080, maxMessageSize: 1 << 26 }, node);
 * await node.shutdown();
 * ```
 * @module
 */

import { GroupDirectoryChain } from "./groups/directory_chain.ts";
import { groupStats, type GroupViewerView } from "./groups/group_stats.ts";
import { TokenVerifier } from "./token_verifier.ts";
import { BufferMemory } from "./buffer_memory.ts";
import type { NodeConfig } from "./config.ts";
import { Connection, type ConnectionContext } from "./connection.ts";
import { Admission, refuseSocket } from "./limits/admission.ts";
import { Logger } from "./log.ts";
import { Metrics } from "./metrics.ts";
import { OperatorAccess } from "./operator/access.ts";
import { SourceChain } from "./sources/chain.ts";
import { LocalPublications } from "./sources/local.ts";
import type { StreamSource } from "./sources/source.ts";
import type { ServerSocket, UpgradeRequest } from "./transport/transport.ts";
import { ErrorCode } from "../shared/errors.ts";
import { HlsService } from "./hls/hls_service.ts";

/** How often connections are checked (timeouts, heartbeats, slow spectators). */
const TICK_MS = 1000;

/** What extra sources are built from: the parts of a node they share. */
export interface NodeParts {
  /** Configuration. */
  readonly config: NodeConfig;
  /** Root log. */
  readonly log: Logger;
  /** Counters. */
  readonly metrics: Metrics;
  /** Bytes in fragment buffers. */
  readonly memory: BufferMemory;
  /** Streams published here. */
  readonly publications: LocalPublications;
  /** Signs this node's pull token for a stream (for relays). */
  signPull(streamId: string): Promise<string>;
}

/** Extra sources after the local one, built once the node's parts exist. */
export type SourceFactory = (parts: NodeParts) => StreamSource[];

/** One node of the CDN. */
export class CdnNode {
  /** Configuration. */
  readonly config: NodeConfig;
  /** Root log. */
  readonly log: Logger;
  /** Counters. */
  readonly metrics: Metrics = new Metrics();
  /** Bytes in fragment buffers. */
  readonly memory: BufferMemory;
  /** Token checks. */
  readonly verifier: TokenVerifier;
  /** Streams published here. */
  readonly publications: LocalPublications;
  /** Where pulled streams come from, in order. */
  readonly sources: SourceChain;
  /** Rate limits, origins and the connection cap. */
  readonly admission: Admission;
  /** Who is the operator (`OPERATOR_TOKEN`), with a back-off for wrong tokens. */
  readonly operatorAccess: OperatorAccess;
  /** Low-Latency HLS under `/hls/`, or null when `HLS_ENABLED` is off. */
  readonly hls: HlsService | null;
  /** When the node started (`performance.now()`). */
  readonly startedAt: number = performance.now();
  #connections = new Set<Connection>();
  /** What each admitted connection took at the door (its per-address slots). */
  #admitted = new Map<Connection, { spoke(): void; release(): void }>();
  #context: ConnectionContext;
  #ticker: ReturnType<typeof setInterval>;
  #shuttingDown = false;

  /** Creates the node; `extraSources` adds the registry and relay sources after the local one. */
  constructor(
    config: NodeConfig,
    log = new Logger(config.log),
    extraSources: SourceFactory = () => [],
  ) {
    this.config = config;
    this.log = log;
    this.memory = new BufferMemory(
      config.buffers.limiterEnabled ? config.buffers.limitBytes : Infinity,
      (used) => this.metrics.bufferBytes.set(used),
    );
    this.verifier = new TokenVerifier(config.auth, { log, metrics: this.metrics });
    this.publications = new LocalPublications({
      maxFragments: config.buffers.maxFragments,
      maxFragmentBytes: config.maxBinaryMessageSize,
      memory: this.memory,
      metrics: this.metrics,
      log,
      graceMs: config.timeouts.publisherGraceSeconds * 1000,
    });
    this.sources = new SourceChain([
      this.publications,
      ...extraSources({
        config,
        log,
        metrics: this.metrics,
        memory: this.memory,
        publications: this.publications,
        signPull: (streamId) => this.verifier.signPull(streamId),
      }),
    ]);
    this.#context = {
      config,
      log,
      verifier: this.verifier,
      publications: this.publications,
      sources: this.sources,
      directory: new GroupDirectoryChain(this.sources.sources),
      metrics: this.metrics,
      spectatorPolicy: {
        maxQueueBytes: config.spectators.maxQueueBytes,
        maxLagMs: config.spectators.maxLagSeconds * 1000,
        stallTimeoutMs: config.spectators.stallTimeoutSeconds * 1000,
      },
      forget: (connection) => {
        this.#connections.delete(connection);
        this.#admitted.get(connection)?.release();
        this.#admitted.delete(connection);
      },
      spoke: (connection) => this.#admitted.get(connection)?.spoke(),
    };
    this.admission = new Admission({ config, metrics: this.metrics, log });
    this.operatorAccess = new OperatorAccess(config.operator.token);
    this.metrics.bufferLimit.set(config.buffers.limiterEnabled ? config.buffers.limitBytes : 0);
    this.metrics.info.set({ node_id: config.nodeId, transport: config.transport }, 1);
    this.hls = config.hls.enabled
      ? new HlsService({
        config,
        verifier: this.verifier,
        sources: this.sources,
        registry: this.metrics.registry,
        knownStreams: () => [
          ...this.publications.streamIds,
          ...this.sources.sources.flatMap((source) =>
            (source.stats?.() ?? []).map((entry) => String(entry.id))
          ),
        ],
      })
      : null;
    this.#ticker = setInterval(() => this.#tick(), TICK_MS);
  }

  /** Whether `shutdown` has begun. */
  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Open connections. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Whether an upgrade on this path is for the WebSocket endpoint (`WEBSOCKET_PREFIX`). */
  isWebSocketPath(pathname: string): boolean {
    const prefix = this.config.websocketPrefix;
    return prefix.endsWith("/") ? pathname.startsWith(prefix) : pathname === prefix;
  }

  /** A new WebSocket connection. */
  onSocket(socket: ServerSocket, request: UpgradeRequest): void {
    let verdict;
    try {
      verdict = this.#shuttingDown
        ? { admitted: true as const, spoke() {}, release() {} }
        : this.admission.admitSocket(request, this.#connections.size);
    } catch (error) {
      // Never let one connection's surprise take the node down.
      this.log.error(`cannot admit a connection: ${error instanceof Error ? error.stack : error}`);
      refuseSocket(socket, ErrorCode.INTERNAL_ERROR, "internal error");
      return;
    }
    if (!verdict.admitted) {
      refuseSocket(socket, verdict.code, verdict.message);
      return;
    }
    const connection = new Connection(socket, request, this.#context);
    this.#connections.add(connection);
    this.#admitted.set(connection, verdict);
    if (this.#shuttingDown) connection.shutdown();
  }

  /** A JSON summary for `/stats`. */
  stats(): Record<string, unknown> {
    const streams = this.publications.streamIds.map((id) => {
      const stream = this.publications.get(id)!;
      return { id, origin: "local", spectators: stream.subscriberCount, lastSeq: stream.lastSeq };
    });
    const relayed = this.sources.sources.flatMap((source) => source.stats?.() ?? []);
    let publishers = 0;
    let spectators = 0;
    const groupViewers: GroupViewerView[] = [];
    for (const connection of this.#connections) {
      if (connection.role === "publisher") publishers++;
      else if (connection.role === "spectator") spectators++;
      const view = connection.groupView;
      if (view !== undefined) groupViewers.push(view);
    }
    return {
      nodeId: this.config.nodeId,
      transport: this.config.transport,
      connections: this.#connections.size,
      publishers,
      spectators,
      bufferBytes: this.memory.used,
      streams: [...streams, ...relayed],
      groups: groupStats(groupViewers),
    };
  }

  #tick(): void {
    const now = performance.now();
    for (const connection of this.#connections) connection.tick(now);
  }

  /**
   * Leaves gracefully: tells every client `SHUTTING_DOWN` (publishers and players reconnect,
   * elsewhere where they can), ends local streams, stops sources (the registry removes this
   * node's entries), and waits up to `SHUTDOWN_TIMEOUT_SECONDS` for sockets to close; sockets
   * still open then are dropped.
   */
  async shutdown(): Promise<void> {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    for (const connection of this.#connections) connection.shutdown();
    this.publications.endAll({
      kind: "failed",
      code: ErrorCode.SHUTTING_DOWN,
      message: "the node is shutting down",
    });
    const deadline = performance.now() + this.config.timeouts.shutdownSeconds * 1000;
    // A registry that does not answer must not hold the exit past the deadline.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.sources.destroy().catch((error) =>
        this.log.warning(
          `stopping sources failed: ${error instanceof Error ? error.message : error}`,
        )
      ),
      new Promise((resolve) => timer = setTimeout(resolve, deadline - performance.now())),
    ]);
    clearTimeout(timer);
    while (this.#connections.size > 0 && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      this.#tick();
    }
    // Whoever has not closed by the deadline is dropped.
    for (const connection of this.#connections) connection.terminate();
    clearInterval(this.#ticker);
    this.hls?.destroy();
    this.admission.destroy();
  }
}
