/**
 * The publish registry source (`PUB_REG_REDIS_ENABLED`): asks Redis which node publishes a stream,
 * and relays it from there with `only_source=true`, so the answer is never another relay.
 *
 * It never holds a pull up: a lookup has a short deadline (`PUB_REG_REDIS_TIMEOUT_SECONDS`), and a
 * Redis error, a miss, an entry that points at this node (stale: the stream would be local), or a
 * publishing node that no longer has the stream or cannot be reached, all decline so the next
 * source is asked. Only a relay loop is a refusal. A stream this node relays already is served
 * from that relay without a lookup. The source owns the {@linkcode PublishRegistry}: destroying it
 * deletes this node's entries.
 *
 * @example
 * ```ts ignore
 * const source = new RegistrySource({ registry, hub, ownUrl: config.externalWebsocketUrl, log });
 * const stream = await source.find({ stream: "room/a", onlySource: false, via: ["edge-1"] }, signal);
 * ```
 * @module
 */

import { ErrorCode } from "../../shared/errors.ts";
import type { Logger } from "../log.ts";
import type { PublishRegistry } from "../registry/publish_registry.ts";
import type { RelayHub } from "../relay/relay_hub.ts";
import type { UpstreamLocator } from "../relay/locator.ts";
import type { RelayStart } from "../relay/upstream.ts";
import type { Stream } from "../stream.ts";
import type { PullRequest, StreamSource } from "./source.ts";

/** How the registry source is set up. */
export interface RegistrySourceOptions {
  /** This node's registry client; the source owns it. */
  registry: PublishRegistry;
  /** The node's relays (shared with the relay source). */
  hub: RelayHub;
  /** This node's `EXTERNAL_WEBSOCKET_URL` (an entry with it is stale). */
  ownUrl: string;
  /** Log. */
  log: Logger;
}

/** A URL in one spelling, so that equal URLs compare equal. */
function normalize(url: string): string {
  try {
    return new URL(url).href;
  } catch {
    return url;
  }
}

/** Streams published on other nodes of the fleet, found in Redis. */
export class RegistrySource implements StreamSource {
  /** Source name. */
  readonly name = "registry";
  /** Not a local source: `only_source` pulls skip it. */
  readonly local = false;
  #registry: PublishRegistry;
  #hub: RelayHub;
  #ownUrl: string;
  #log: Logger;

  /** Creates the source. */
  constructor(options: RegistrySourceOptions) {
    this.#registry = options.registry;
    this.#hub = options.hub;
    this.#ownUrl = normalize(options.ownUrl);
    this.#log = options.log.child("registry");
  }

  /** The publishing node's URL, or null (a miss, a stale entry for this node, or a Redis error). */
  async #lookup(streamId: string): Promise<string | null> {
    let url: string | null;
    try {
      url = await this.#registry.lookup(streamId);
    } catch (error) {
      this.#log.debug(
        `lookup of ${streamId} failed: ${error instanceof Error ? error.message : error}`,
      );
      return null;
    }
    if (url !== null && normalize(url) === this.#ownUrl) {
      this.#log.debug(`ignoring the stale entry of ${streamId}: it points to this node`);
      return null;
    }
    return url;
  }

  /**
   * A locator that starts at `url` and looks `streamId` up again at every resume (a publisher may
   * have moved); while Redis is unreachable it keeps the last node it knew.
   */
  #locator(streamId: string, url: string): UpstreamLocator {
    let first = true;
    let last = url;
    return {
      key: `registry:${url}`,
      locate: async () => {
        if (!first) {
          try {
            const found = await this.#registry.lookup(streamId);
            if (found === null || normalize(found) === this.#ownUrl) return null;
            last = found;
          } catch { /* Redis is down: try the last known node */ }
        }
        first = false;
        return { url: last, onlySource: true };
      },
    };
  }

  /** The relayed stream, or null to let the next source try. */
  async find(request: PullRequest, signal: AbortSignal): Promise<Stream | null> {
    const existing = this.#hub.get(request.stream);
    if (existing !== undefined && !existing.closed) {
      return this.#result(await this.#hub.acquire(request, this.name, existing.locator, signal));
    }
    const url = await this.#lookup(request.stream);
    if (url === null) return null;
    return this.#result(
      await this.#hub.acquire(request, this.name, this.#locator(request.stream, url), signal),
    );
  }

  #result(result: RelayStart): Stream | null {
    if (result.kind === "stream") return result.stream;
    if (result.kind === "failed") {
      if (result.error.code === ErrorCode.LOOP_DETECTED) throw result.error;
      this.#log.warning(result.error.message);
    }
    return null;
  }

  /** The streams relayed because of a registry hit. */
  stats(): Record<string, unknown>[] {
    return this.#hub.relays(this.name).map((relay) => ({ ...relay.stats() }));
  }

  /** Closes the relays it started, deletes this node's entries and closes the Redis connection. */
  async destroy(): Promise<void> {
    this.#hub.closeAll({
      kind: "failed",
      code: ErrorCode.SHUTTING_DOWN,
      message: "the node is shutting down",
    }, this.name);
    await this.#registry.destroy();
  }
}
