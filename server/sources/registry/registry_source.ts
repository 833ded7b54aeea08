/**
 * The publish registry source (`PUB_REG_REDIS_ENABLED`): asks Redis which node publishes a stream,
 * and relays it from there with `only_source=true`, so the answer is never another relay.
 *
 * It never holds a pull up: a lookup has a short deadline (`PUB_REG_REDIS_TIMEOUT_SECONDS`), and a
 * Redis error, a miss, an entry that points at this node (stale: the stream would be local), an
 * entry the node may not follow, or a publishing node that no longer has the stream or cannot be
 * reached, all decline so the next source is asked. Only a relay loop is a refusal. A stream this
 * node relays already is served from that relay without a lookup.
 *
 * An entry is followed only when it is a `ws://` or `wss://` URL without credentials and, with
 * `PUB_REG_ALLOWED_HOSTS`, its host is in that list; any other entry is refused and logged (at
 * most once a minute per stream and URL), at the start of a relay and at every resume. The source owns the {@linkcode PublishRegistry}: destroying it
 * deletes this node's entries.
 *
 * It also lists rendition groups (`listGroup`): the renditions other nodes registered in the
 * group's hash whose entries this node may follow, best first. Each is then pulled like any
 * stream, by its id, so an edge relays only the renditions its viewers are on. Viewers of a group
 * joining at once share one listing, and a non-empty one is kept for a second.
 *
 * @example
 * ```ts ignore
 * const source = new RegistrySource({ registry, hub, ownUrl, allowedHosts: null, log });
 * const stream = await source.find({ stream: "room/a", onlySource: false, via: ["edge-1"] }, signal);
 * ```
 * @module
 */

import { ErrorCode } from "../../../shared/errors.ts";
import { quote } from "../../../shared/quote.ts";
import type { HostList } from "../../limits/host_list.ts";
import type { Logger } from "../../log.ts";
import type { PublishRegistry } from "./publish_registry.ts";
import type { RelayHub } from "../relay/relay_hub.ts";
import type { UpstreamLocator } from "../relay/locator.ts";
import { showUrl, upstreamUrlProblem } from "../relay/upstream_url.ts";
import type { RelayStart } from "../relay/relay_options.ts";
import type { Stream } from "../../stream.ts";
import type { PullRequest, StreamSource } from "../source.ts";
import type { RenditionId } from "../../../shared/rendition.ts";
import { groupMembers } from "../../groups/rendition_group.ts";

/** How the registry source is set up. */
export interface RegistrySourceOptions {
  /** This node's registry client; the source owns it. */
  registry: Pick<PublishRegistry, "lookup" | "listGroup" | "destroy">;
  /** The node's relays (shared with the relay source). */
  hub: RelayHub;
  /** This node's `EXTERNAL_WEBSOCKET_URL` (an entry with it is stale). */
  ownUrl: string;
  /** `PUB_REG_ALLOWED_HOSTS`: the hosts entries may point to; null trusts every host. */
  allowedHosts: HostList | null;
  /** Log. */
  log: Logger;
}

/** A refused entry is logged again after this long. */
const REFUSAL_LOG_MS = 60_000;

/** How long a non-empty group listing is kept, ms. */
const GROUP_CACHE_MS = 1000;

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
  #registry: Pick<PublishRegistry, "lookup" | "listGroup" | "destroy">;
  #hub: RelayHub;
  #ownUrl: string;
  #allowedHosts: HostList | null;
  #log: Logger;
  #refusalsLogged = new Map<string, number>();
  #groups = new Map<string, { at: number; renditions: Promise<RenditionId[]> }>();

  /** Creates the source. */
  constructor(options: RegistrySourceOptions) {
    this.#registry = options.registry;
    this.#hub = options.hub;
    this.#ownUrl = normalize(options.ownUrl);
    this.#allowedHosts = options.allowedHosts;
    this.#log = options.log.child("registry");
  }

  /** Why an entry must not be followed, or null when it may. */
  #problem(url: string): string | null {
    const problem = upstreamUrlProblem(url);
    if (problem !== null) return problem;
    if (this.#allowedHosts !== null && !this.#allowedHosts.allows(new URL(url))) {
      return "its host is not in PUB_REG_ALLOWED_HOSTS";
    }
    return null;
  }

  /** The entry of a stream if this node may follow it (null otherwise, logged). */
  #followable(streamId: string, url: string | null): string | null {
    if (url === null) return null;
    if (normalize(url) === this.#ownUrl) {
      this.#log.debug(`ignoring the stale entry of ${quote(streamId)}: it points to this node`);
      return null;
    }
    const problem = this.#problem(url);
    if (problem === null) return url;
    const key = `${streamId}\n${url}`;
    const now = performance.now();
    const last = this.#refusalsLogged.get(key);
    const line = `refused the registry entry of ${quote(streamId)} (${showUrl(url)}): ${problem}`;
    if (last !== undefined && now - last < REFUSAL_LOG_MS) {
      this.#log.debug(line);
    } else {
      if (this.#refusalsLogged.size >= 1000) this.#refusalsLogged.clear();
      this.#refusalsLogged.set(key, now);
      this.#log.warning(line);
    }
    return null;
  }

  /** The publishing node's URL, or null (a miss, an entry not to follow, or a Redis error). */
  async #lookup(streamId: string): Promise<string | null> {
    try {
      return this.#followable(streamId, await this.#registry.lookup(streamId));
    } catch (error) {
      this.#log.debug(
        `lookup of ${quote(streamId)} failed: ${error instanceof Error ? error.message : error}`,
      );
      return null;
    }
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
          let found: string | null;
          try {
            found = await this.#registry.lookup(streamId);
          } catch {
            found = last; // Redis is down: try the last known node
          }
          if (this.#followable(streamId, found) === null) return null;
          last = found!;
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

  /**
   * The renditions of `group` registered in Redis by nodes this one may follow, best first; empty
   * when there are none or Redis cannot say (never throws).
   */
  listGroup(group: string): Promise<RenditionId[]> {
    const now = performance.now();
    for (const [key, entry] of this.#groups) {
      if (now - entry.at > GROUP_CACHE_MS) this.#groups.delete(key);
    }
    const cached = this.#groups.get(group);
    if (cached !== undefined) return cached.renditions;
    const renditions = this.#listGroup(group);
    this.#groups.set(group, { at: now, renditions });
    renditions.then((list) => {
      if (list.length === 0) this.#groups.delete(group); // asked again next time
    });
    return renditions;
  }

  async #listGroup(group: string): Promise<RenditionId[]> {
    let entries;
    try {
      entries = await this.#registry.listGroup(group);
    } catch (error) {
      this.#log.debug(
        `listing group ${quote(group)} failed: ${error instanceof Error ? error.message : error}`,
      );
      return [];
    }
    const followable = entries.filter((entry) => this.#followable(entry.streamId, entry.url));
    return groupMembers(group, followable.map((entry) => entry.streamId));
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
