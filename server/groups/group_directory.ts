/**
 * The rendition ids of a group published elsewhere, asked of the upstream node
 * (`RELAY_FROM_URL`): a group pull there (`PULL:stream=<group>&group=1&caps=errors,abr`, with this
 * node added to `via`) whose `OK` lists the group's renditions (`renditions=`), closed at once.
 * Answers are kept for a few seconds, so a crowd of viewers joining costs one question. An
 * upstream that does not know the group, an old upstream (no `renditions` in its `OK`) or one that
 * cannot be reached gives an empty list: the pull then fails with `STREAM_NOT_FOUND`. The relay
 * source holds it (`RelaySource.listGroup`), so it is asked after the registry.
 *
 * @example
 * ```ts ignore
 * const directory = new UpstreamGroupDirectory({ url: "ws://origin:8080/", signPull, timeoutMs: 5000 });
 * const ids = await directory.list("room/live", ["edge-1"], signal);
 * ```
 * @module
 */

import { Capability, CLIENT_CAPABILITIES } from "../../shared/capabilities.ts";
import { ProtocolSession } from "../../shared/session/protocol_session.ts";
import type { GroupDirectory } from "./group_pull.ts";

/** How the directory is set up. */
export interface UpstreamGroupDirectoryOptions {
  /** The upstream node. */
  url: string;
  /** A pull token for a stream id (here: the group's). */
  signPull(streamId: string): Promise<string>;
  /** How long the upstream may take to answer. */
  timeoutMs: number;
  /** How long an answer is kept, ms. @default 3000 */
  cacheMs?: number;
  /** The WebSocket class (tests). */
  WebSocket?: typeof WebSocket;
}

/** The group directory of an edge: asks the upstream node. */
export class UpstreamGroupDirectory implements GroupDirectory {
  #options: UpstreamGroupDirectoryOptions;
  #cache = new Map<string, { at: number; ids: Promise<string[]> }>();

  /** Creates the directory; nothing is asked until a group is pulled. */
  constructor(options: UpstreamGroupDirectoryOptions) {
    this.#options = options;
  }

  /** The ids the upstream lists for `group` (empty when it has none, or cannot say). */
  list(group: string, via: readonly string[], signal: AbortSignal): Promise<string[]> {
    const now = performance.now();
    for (const [key, entry] of this.#cache) {
      if (now - entry.at > (this.#options.cacheMs ?? 3000)) this.#cache.delete(key);
    }
    const cached = this.#cache.get(group);
    if (cached !== undefined) return cached.ids;
    const ids = this.#ask(group, via, signal);
    this.#cache.set(group, { at: now, ids });
    ids.then((list) => {
      if (list.length === 0) this.#cache.delete(group); // ask again next time
    });
    return ids;
  }

  async #ask(group: string, via: readonly string[], signal: AbortSignal): Promise<string[]> {
    try {
      const session = await ProtocolSession.open({
        url: this.#options.url,
        hello: {
          type: "PULL",
          stream: group,
          auth: await this.#options.signPull(group),
          group: true,
          maxInitialFragments: 0,
          via: [...via],
          caps: [...CLIENT_CAPABILITIES, Capability.ABR],
        },
        openMs: this.#options.timeoutMs,
        WebSocket: this.#options.WebSocket,
        signal,
      }, { onEnd: () => {} });
      session.close("rendition list received");
      return session.accepted.renditions ?? [];
    } catch {
      return [];
    }
  }
}
