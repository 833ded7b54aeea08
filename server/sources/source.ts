/**
 * The source interface: an object that, given a pull request, either declines (null) or returns a
 * {@linkcode Stream} on this node that it feeds. The node asks its sources in order: local
 * publications, the Redis publish registry, the upstream relay. A new kind of origin (another
 * registry, a static origin list) is one more class with this shape.
 *
 * @example
 * ```ts ignore
 * class StaticOrigins implements StreamSource {
 *   readonly name = "static";
 *   readonly local = false;
 *   async find(request, signal) { return null; } // decline: the next source is asked
 *   destroy() {}
 * }
 * ```
 * @module
 */

import type { RenditionId } from "../../shared/rendition.ts";
import type { Stream } from "../stream.ts";

/** What a source needs to know about a pull. */
export interface PullRequest {
  /** Stream id. */
  stream: string;
  /** `only_source=true`: serve only what is published on this node. */
  onlySource: boolean;
  /** Nodes this pull already went through (from `via`), oldest first. */
  via: readonly string[];
}

/** A place a stream can come from. */
export interface StreamSource {
  /** Short name for logs and metrics (`local`, `registry`, `relay`). */
  readonly name: string;
  /** True for the source of streams published on this node (the only one `only_source` asks). */
  readonly local: boolean;
  /**
   * Returns a live stream for the request, or null to let the next source try. Throws a
   * `ProtocolError` for a definite refusal (a relay loop). Gives up when `signal` aborts.
   */
  find(request: PullRequest, signal: AbortSignal): Promise<Stream | null>;
  /**
   * The renditions of a rendition group this source can find, best first, or an empty list (never
   * throws). Sources that know no groups leave it out. `via` is the pull's relay path, this node
   * included.
   */
  listGroup?(group: string, via: readonly string[], signal: AbortSignal): Promise<RenditionId[]>;
  /** The streams this source feeds now, for `/stats` (sources that feed none may leave it out). */
  stats?(): Record<string, unknown>[];
  /** Stops everything the source started (upstream connections, timers). */
  destroy(): Promise<void>;
}
