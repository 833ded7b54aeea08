/**
 * The group directory of a node: asks its sources for a group's renditions in the order it asks
 * them for streams (the registry, then the upstream relay), and takes the first non-empty answer,
 * as the source chain takes the first source that has a stream. The streams published here are
 * looked at before it, by `findGroup` (and alone for an `only_source` pull).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { GroupDirectoryChain } from "./directory_chain.ts";
 * import { parseRenditionId } from "../../shared/rendition.ts";
 * const registry = { name: "registry", listGroup: () => Promise.resolve([parseRenditionId("g/2x2")!]) };
 * const directory = new GroupDirectoryChain([{ name: "local" }, registry]);
 * assert.deepEqual(await directory.list("g", [], new AbortController().signal), ["g/2x2"]);
 * ```
 * @module
 */

import type { StreamSource } from "../sources/source.ts";
import type { GroupDirectory } from "./group_pull.ts";

/** What the chain needs of a source: its name and, if it knows groups, `listGroup`. */
export type GroupLister = Pick<StreamSource, "name" | "listGroup">;

/** A group directory over a node's sources, in their order. */
export class GroupDirectoryChain implements GroupDirectory {
  #sources: readonly GroupLister[];

  /** Creates the chain; sources without `listGroup` are passed over. */
  constructor(sources: readonly GroupLister[]) {
    this.#sources = sources;
  }

  /** The rendition ids the first source that knows `group` lists, best first, or an empty list. */
  async list(group: string, via: readonly string[], signal: AbortSignal): Promise<string[]> {
    for (const source of this.#sources) {
      if (source.listGroup === undefined) continue;
      signal.throwIfAborted();
      let found;
      try {
        found = await source.listGroup(group, via, signal);
      } catch {
        signal.throwIfAborted();
        continue; // a source that fails knows nothing: the next one is asked
      }
      if (found.length > 0) return found.map((rendition) => rendition.streamId);
    }
    return [];
  }
}
