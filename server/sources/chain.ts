/**
 * Asks the node's sources in order for a stream, honouring `only_source`.
 *
 * @example
 * ```ts ignore
 * const chain = new SourceChain([local, registry, relay]);
 * const stream = await chain.find({ stream: "room/a", onlySource: false, via: [] }, signal);
 * ```
 * @module
 */

import { ErrorCode, ProtocolError } from "../../shared/errors.ts";
import { quote } from "../../shared/quote.ts";
import type { Stream } from "../stream.ts";
import type { PullRequest, StreamSource } from "./source.ts";

/** An ordered list of sources. */
export class SourceChain {
  /** The sources, in the order they are asked. */
  readonly sources: readonly StreamSource[];

  /** Creates a chain; the first source is asked first. */
  constructor(sources: readonly StreamSource[]) {
    this.sources = sources;
  }

  /** The first source's stream, or `STREAM_NOT_FOUND`. */
  async find(request: PullRequest, signal: AbortSignal): Promise<Stream> {
    for (const source of this.sources) {
      if (request.onlySource && !source.local) continue;
      signal.throwIfAborted();
      const stream = await source.find(request, signal);
      if (stream !== null && stream.ended === null) return stream;
    }
    const where = request.onlySource ? "published on this node" : "available";
    throw new ProtocolError(
      ErrorCode.STREAM_NOT_FOUND,
      `stream ${quote(request.stream)} is not ${where}`,
    );
  }

  /** Destroys every source. */
  async destroy(): Promise<void> {
    await Promise.all(this.sources.map((source) => source.destroy()));
  }
}
