/**
 * Streams published on this node: one publisher per stream id, the newest wins.
 *
 * A `PUSH` for a stream that is live here takes it over (an encoder reconnecting after a network
 * blip is the common case): the old publisher gets `E PUBLISHER_REPLACED`, spectators stay, and
 * the next fragment is marked `discontinuity`. A publisher that vanishes without `CLOSE` leaves
 * its stream in a {@linkcode PublisherGrace} (`PUBLISHER_GRACE_SECONDS`): spectators stay, the
 * fragment it left half-sent is dropped, and a `PUSH` within the grace continues the stream as a
 * takeover does; when the grace runs out the stream ends with `PUBLISHER_LOST`. Events
 * ({@linkcode LocalPublicationEvents}: `publish`, `unpublish`, `vacant`, each with the stream id)
 * let the registry follow.
 *
 * @example
 * ```ts ignore
 * const stream = local.publish("room/a", publisher);
 * local.vanish("room/a", publisher, "connection lost"); // grace: the stream stays
 * local.publish("room/a", returning);                   // continues it
 * local.unpublish("room/a", returning, { kind: "closed" });
 * ```
 * @module
 */

import { ErrorCode } from "../../shared/errors.ts";
import { type DetailEvents, TypedEventTarget } from "../../shared/typed_event_target.ts";
import type { BufferMemory } from "../buffer_memory.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import { Stream } from "../stream.ts";
import type { StreamEnd } from "../stream_end.ts";
import { PublisherGrace } from "./publisher_grace.ts";
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
  /** `PUBLISHER_GRACE_SECONDS` in ms: how long a stream waits for a vanished publisher; 0 for not at all. @default 0 */
  graceMs?: number;
}

interface Publication {
  stream: Stream;
  /** The publisher, or null while the stream waits for one to come back. */
  publisher: PublisherHandle | null;
  grace: PublisherGrace | null;
}

/** How long the last sequence number of an ended stream is remembered, so a republish continues it. */
const SEQ_MEMORY_MS = 10 * 60 * 1000;

/** The events of {@linkcode LocalPublications}; each carries the stream id. */
export type LocalPublicationEvents = DetailEvents<{
  /** A stream is published here (a new one; a takeover or a return from grace is none). */
  publish: string;
  /** A stream published here ended. */
  unpublish: string;
  /** A stream's publisher vanished: the stream waits for it (the publisher grace). */
  vacant: string;
}>;

/** The source of streams published on this node. */
export class LocalPublications extends TypedEventTarget<LocalPublicationEvents>
  implements StreamSource {
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

  /** Whether `id` is published here and waiting for its vanished publisher. */
  isVacant(id: string): boolean {
    return this.#publications.get(id)?.publisher === null;
  }

  /** Starts publishing `id` for `publisher`, continuing the stream if it is live (or in grace). */
  publish(id: string, publisher: PublisherHandle): Stream {
    const existing = this.#publications.get(id);
    if (existing?.grace) {
      const seconds = (existing.grace.elapsedMs / 1000).toFixed(1);
      this.#options.log.info(
        `[stream ${id}] publisher back after ${seconds} s; the stream goes on`,
      );
      existing.grace.resume();
      existing.grace = null;
      existing.publisher = publisher;
      return existing.stream;
    }
    if (existing !== undefined) {
      this.#options.log.info(`[stream ${id}] publisher replaced by a new PUSH`);
      const previous = existing.publisher;
      existing.publisher = publisher;
      existing.stream.abortFragmentInProgress();
      existing.stream.markDiscontinuity();
      previous?.replaced();
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
    this.#publications.set(id, { stream, publisher, grace: null });
    this.#options.log.info(`[stream ${id}] published`);
    this.#options.metrics.streams.inc({ origin: "local" });
    this.emit("publish", id);
    return stream;
  }

  /** Ends `id` if `publisher` still holds it (a replaced publisher ends nothing). */
  unpublish(id: string, publisher: PublisherHandle, end: StreamEnd): void {
    const publication = this.#publications.get(id);
    if (publication === undefined || publication.publisher !== publisher) return;
    this.#end(id, publication, end);
  }

  /**
   * `publisher` went away without `CLOSE`: if it still holds `id`, the stream waits for it
   * (`graceMs`), or ends at once with `PUBLISHER_LOST` when there is no grace.
   */
  vanish(id: string, publisher: PublisherHandle, reason: string): void {
    const publication = this.#publications.get(id);
    if (publication === undefined || publication.publisher !== publisher) return;
    const ms = this.#options.graceMs ?? 0;
    const lost = `the publisher went away (${reason})`;
    if (ms <= 0) {
      this.#end(id, publication, { kind: "failed", code: ErrorCode.PUBLISHER_LOST, message: lost });
      return;
    }
    publication.publisher = null;
    publication.stream.abortFragmentInProgress();
    publication.stream.markDiscontinuity();
    const seconds = Math.round(ms / 100) / 10;
    publication.grace = new PublisherGrace({
      ms,
      metrics: this.#options.metrics,
      expire: () =>
        this.#end(id, publication, {
          kind: "failed",
          code: ErrorCode.PUBLISHER_LOST,
          message: `${lost} and did not come back within ${seconds} s`,
        }),
    });
    this.#options.log.info(`[stream ${id}] ${lost}; waiting ${seconds} s for it to come back`);
    this.emit("vacant", id);
  }

  /**
   * The vanished publisher of `id` now publishes on another node: the stream ends here at once
   * with `STREAM_MOVED`, so its spectators and relays pull it again from where it is now.
   */
  moved(id: string, where: string): void {
    const publication = this.#publications.get(id);
    if (publication?.grace == null) return;
    publication.grace.moved();
    this.#end(id, publication, {
      kind: "failed",
      code: ErrorCode.STREAM_MOVED,
      message: `the stream is now published on another node (${where}); pull it again`,
    });
  }

  #end(id: string, publication: Publication, end: StreamEnd): void {
    if (this.#publications.get(id) !== publication) return;
    publication.grace?.cancel();
    this.#publications.delete(id);
    this.#remember(id, publication.stream.nextSeq);
    publication.stream.end(end);
    this.#options.log.info(`[stream ${id}] ended (${end.kind === "closed" ? "CLOSE" : end.code})`);
    this.#options.metrics.streams.dec({ origin: "local" });
    this.emit("unpublish", id);
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
    for (const [id, publication] of [...this.#publications]) this.#end(id, publication, end);
  }

  /** Nothing to stop: publishers are connections, closed by the node. */
  destroy(): Promise<void> {
    return Promise.resolve();
  }
}
