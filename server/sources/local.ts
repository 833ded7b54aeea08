/**
 * Streams published on this node: one publisher per stream id, the newest wins.
 *
 * A `PUSH` for a stream that is live here takes it over (an encoder reconnecting after a network
 * blip is the common case): the old publisher gets `E PUBLISHER_REPLACED`, spectators stay, and
 * the next fragment is marked `discontinuity`. Events `publish` and `unpublish`
 * (`CustomEvent<string>` with the stream id) let the registry follow.
 *
 * @example
 * ```ts ignore
 * const stream = local.publish("room/a", publisher);
 * local.unpublish("room/a", publisher, { kind: "closed" });
 * ```
 * @module
 */

import type { BufferMemory } from "../buffer_memory.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import { Stream, type StreamEnd } from "../stream.ts";
import type { PullRequest, StreamSource } from "./source.ts";

/** What the local source needs from the publisher holding a stream. */
export interface PublisherHandle {
  /** Another publisher took the stream over; this one must be closed. */
  replaced(): void;
}

/** How local publications are set up. */
export interface LocalPublicationsOptions {
  /** `FRAGMENT_BUFFER_MAX_LENGTH`. */
  maxFragments: number;
  /** `MAX_BINARY_MESSAGE_SIZE`: largest fragment, whole or made of parts. @default Infinity */
  maxFragmentBytes?: number;
  /** The node's buffer account. */
  memory: BufferMemory;
  /** Counters. */
  metrics: Metrics;
  /** Log. */
  log: Logger;
}

interface Publication {
  stream: Stream;
  publisher: PublisherHandle;
}

/** How long the last sequence number of an ended stream is remembered, so a republish continues it. */
const SEQ_MEMORY_MS = 10 * 60 * 1000;

/** The source of streams published on this node. */
export class LocalPublications extends EventTarget implements StreamSource {
  /** Source name. */
  readonly name = "local";
  /** Serves `only_source` pulls. */
  readonly local = true;
  #options: LocalPublicationsOptions;
  #publications = new Map<string, Publication>();
  #lastSeq = new Map<string, { next: number; until: number }>();

  /** Creates the (empty) set of publications. */
  constructor(options: LocalPublicationsOptions) {
    super();
    this.#options = options;
  }

  /** Ids of the streams published here now. */
  get streamIds(): string[] {
    return [...this.#publications.keys()];
  }

  /** The live stream published here under `id`, if any. */
  get(id: string): Stream | undefined {
    return this.#publications.get(id)?.stream;
  }

  /** Starts publishing `id` for `publisher`, taking the stream over if it is live. */
  publish(id: string, publisher: PublisherHandle): Stream {
    const existing = this.#publications.get(id);
    if (existing !== undefined) {
      this.#options.log.info(`[stream ${id}] publisher replaced by a new PUSH`);
      const previous = existing.publisher;
      existing.publisher = publisher;
      existing.stream.abortFragmentInProgress();
      existing.stream.markDiscontinuity();
      previous.replaced();
      return existing.stream;
    }
    const now = Date.now();
    const remembered = this.#lastSeq.get(id);
    this.#lastSeq.delete(id);
    const stream = new Stream({
      id,
      maxFragments: this.#options.maxFragments,
      maxFragmentBytes: this.#options.maxFragmentBytes,
      memory: this.#options.memory,
      metrics: this.#options.metrics,
      log: this.#options.log.child(`stream ${id}`),
      firstSeq: remembered !== undefined && remembered.until > now ? remembered.next : 0,
    });
    this.#publications.set(id, { stream, publisher });
    this.#options.log.info(`[stream ${id}] published`);
    this.#options.metrics.streams.inc({ origin: "local" });
    this.dispatchEvent(new CustomEvent("publish", { detail: id }));
    return stream;
  }

  /** Ends `id` if `publisher` still holds it (a replaced publisher ends nothing). */
  unpublish(id: string, publisher: PublisherHandle, end: StreamEnd): void {
    const publication = this.#publications.get(id);
    if (publication === undefined || publication.publisher !== publisher) return;
    this.#publications.delete(id);
    this.#remember(id, publication.stream.nextSeq);
    publication.stream.end(end);
    this.#options.log.info(`[stream ${id}] ended (${end.kind === "closed" ? "CLOSE" : end.code})`);
    this.#options.metrics.streams.dec({ origin: "local" });
    this.dispatchEvent(new CustomEvent("unpublish", { detail: id }));
  }

  #remember(id: string, next: number): void {
    const now = Date.now();
    for (const [key, entry] of this.#lastSeq) {
      if (entry.until <= now) this.#lastSeq.delete(key);
    }
    this.#lastSeq.set(id, { next, until: now + SEQ_MEMORY_MS });
  }

  /** The stream if it is published here. */
  find(request: PullRequest): Promise<Stream | null> {
    return Promise.resolve(this.get(request.stream) ?? null);
  }

  /** Ends every publication (node shutdown). */
  endAll(end: StreamEnd): void {
    for (const [id, publication] of [...this.#publications]) {
      this.unpublish(id, publication.publisher, end);
    }
  }

  /** Nothing to stop: publishers are connections, closed by the node. */
  destroy(): Promise<void> {
    return Promise.resolve();
  }
}
