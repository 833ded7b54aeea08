/**
 * The upstream relay source (`RELAY_FROM_ENABLED`, `RELAY_FROM_URL`): the last resort of the chain.
 * It pulls the stream from one configured node, which resolves it with its own sources in turn, so
 * edge tiers can be stacked. `STREAM_NOT_FOUND` upstream declines; an unreachable upstream is
 * `E UPSTREAM_ERROR` and a relay loop `E LOOP_DETECTED` for the spectator. Given a group
 * directory (`UpstreamGroupDirectory`), it lists the renditions of groups the upstream knows.
 *
 * @example
 * ```ts ignore
 * const relay = new RelaySource({ url: "ws://origin.example:8080/", hub });
 * const stream = await relay.find({ stream: "room/a", onlySource: false, via: ["edge-1"] }, signal);
 * ```
 * @module
 */

import { ErrorCode } from "../../../shared/errors.ts";
import type { RelayHub } from "./relay_hub.ts";
import { fixedUpstream, type UpstreamLocator } from "./locator.ts";
import type { Stream } from "../../stream.ts";
import type { PullRequest, StreamSource } from "../source.ts";
import type { RenditionId } from "../../../shared/rendition.ts";
import { groupMembers } from "../../groups/rendition_group.ts";

/** How the relay source is set up. */
export interface RelaySourceOptions {
  /** `RELAY_FROM_URL`. */
  url: string;
  /** The node's relays (shared with the registry source). */
  hub: RelayHub;
  /** Lists a group's rendition ids upstream (`UpstreamGroupDirectory`); without it no groups. */
  groups?: {
    list(group: string, via: readonly string[], signal: AbortSignal): Promise<string[]>;
  };
}

/** Streams pulled from `RELAY_FROM_URL`. */
export class RelaySource implements StreamSource {
  /** Source name. */
  readonly name = "relay";
  /** Not a local source: `only_source` pulls skip it. */
  readonly local = false;
  #hub: RelayHub;
  #locator: UpstreamLocator;
  #groups: RelaySourceOptions["groups"];

  /** Creates the source; nothing is pulled until a spectator asks. */
  constructor(options: RelaySourceOptions) {
    this.#hub = options.hub;
    this.#locator = fixedUpstream(options.url);
    this.#groups = options.groups;
  }

  /** The renditions of `group` the upstream lists, best first (empty without a directory). */
  async listGroup(
    group: string,
    via: readonly string[],
    signal: AbortSignal,
  ): Promise<RenditionId[]> {
    if (this.#groups === undefined) return [];
    return groupMembers(group, await this.#groups.list(group, via, signal));
  }

  /** The relayed stream, null when the upstream does not know it; throws when it fails. */
  async find(request: PullRequest, signal: AbortSignal): Promise<Stream | null> {
    const result = await this.#hub.acquire(request, this.name, this.#locator, signal);
    if (result.kind === "stream") return result.stream;
    if (result.kind === "declined") return null;
    throw result.error;
  }

  /** The streams this source relays. */
  stats(): Record<string, unknown>[] {
    return this.#hub.relays(this.name).map((relay) => ({ ...relay.stats() }));
  }

  /** Closes this source's upstream connections. */
  destroy(): Promise<void> {
    this.#hub.closeAll({
      kind: "failed",
      code: ErrorCode.SHUTTING_DOWN,
      message: "the node is shutting down",
    }, this.name);
    return Promise.resolve();
  }
}
