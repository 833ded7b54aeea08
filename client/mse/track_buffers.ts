/**
 * The SourceBuffers of one MSE mode and what each chunk puts in them:
 *
 * - {@linkcode DirectTrackBuffers}: one `video/mp2t` SourceBuffer; a new timeline resets its
 *   parser (`abort()`) and sets the offset, then the MPEG-TS is appended as it came;
 * - {@linkcode TransmuxTrackBuffers}: one fMP4 SourceBuffer per track, fed by the
 *   {@linkcode Transmuxer}; a new timeline moves every track (even one with no media in the
 *   chunk), then each track gets its init segment when it is new and its media segment.
 *
 * Every SourceBuffer has its own {@linkcode SourceBufferQueue}; a full one asks `evictRange`
 * what old media to remove.
 *
 * @example
 * ```ts ignore
 * const buffers = createTrackBuffers("transmux", mediaSource, tracks, { evictRange });
 * const operations = await buffers.enqueue(chunk.data, placement); // after transmuxing
 * await Promise.all(operations);                                  // appended
 * ```
 * @module
 */

import type { Placement } from "../media/timeline.ts";
import type { StreamTracks } from "../media/stream_probe.ts";
import { Transmuxer } from "../transmux/transmuxer.ts";
import { mp4Type, rangeList, tsType } from "./media_source.ts";
import { trackCodecs } from "./mse_mode.ts";
import type { MseMode } from "./mse_mode.ts";
import { SourceBufferQueue } from "./source_buffer_queue.ts";

/** How the buffers are made. */
export interface TrackBuffersOptions {
  /** The buffer is full: old media to remove before the append is tried again. */
  evictRange?: () => { start: number; end: number } | null;
  /** Worker script for transmuxing, if a worker should be used. */
  workerUrl?: string;
  /** Debug log. */
  log?: (message: string) => void;
}

/** The SourceBuffer queues of one mode, by name (`ts`, or `video` and `audio`). */
export abstract class TrackBuffers {
  /** The mode these buffers serve. */
  abstract readonly mode: MseMode;
  /** The queues, by name. */
  readonly queues: ReadonlyMap<string, SourceBufferQueue>;

  /** Takes over the queues. */
  protected constructor(queues: Map<string, SourceBufferQueue>) {
    this.queues = queues;
  }

  /** Whether transmuxing runs in a worker. */
  get inWorker(): boolean {
    return false;
  }

  /** Operations waiting or running in the longest queue. */
  get backlog(): number {
    let longest = 0;
    for (const queue of this.queues.values()) longest = Math.max(longest, queue.length);
    return longest;
  }

  /**
   * Queues the operations of one placed chunk; resolves once they are queued (after
   * transmuxing), with one promise per operation, in the order they complete.
   */
  abstract enqueue(
    data: Uint8Array,
    placement: Placement,
    newTracks?: StreamTracks,
  ): Promise<Promise<void>[]>;

  /** Removes media from `start` to `end` seconds in every buffer (failures are ignored). */
  async remove(start: number, end: number): Promise<void> {
    await Promise.all(
      [...this.queues.values()].map((queue) => queue.remove(start, end).catch(() => {})),
    );
  }

  /** Resolves once everything queued so far has finished (failures are ignored). */
  async drained(): Promise<void> {
    await Promise.all([...this.queues.values()].map((queue) => queue.drained().catch(() => {})));
  }

  /** The buffered ranges of each buffer, for the debug log. */
  describe(): string {
    return [...this.queues].map(([name, queue]) =>
      `${name} ${
        rangeList(queue.buffer.buffered).map(([start, end]) =>
          `${start.toFixed(2)}-${end.toFixed(2)}`
        ).join(" ")
      }`
    ).join("; ");
  }

  /** Rejects what is queued and lets go of the SourceBuffers. */
  destroy(): void {
    for (const queue of this.queues.values()) queue.destroy();
  }
}

/** MPEG-TS appended as it comes, into one SourceBuffer. */
export class DirectTrackBuffers extends TrackBuffers {
  /** The mode. */
  readonly mode = "direct";
  #queue: SourceBufferQueue;
  #type: string;

  /** Adds the `video/mp2t` SourceBuffer for the stream's codecs. */
  constructor(source: MediaSource, tracks: StreamTracks, options: TrackBuffersOptions = {}) {
    const type = tsType(trackCodecs(tracks));
    const buffer = source.addSourceBuffer(type);
    const queue = new SourceBufferQueue(buffer, { evictRange: options.evictRange });
    super(new Map([["ts", queue]]));
    this.#queue = queue;
    this.#type = type;
  }

  /**
   * A new timeline resets the MPEG-TS parser first; another rendition with other codecs changes
   * the SourceBuffer's type (the new SPS follows in-band).
   */
  enqueue(
    data: Uint8Array,
    placement: Placement,
    newTracks?: StreamTracks,
  ): Promise<Promise<void>[]> {
    const operations: Promise<void>[] = [];
    const type = newTracks === undefined ? this.#type : tsType(trackCodecs(newTracks));
    if (type !== this.#type && trackCodecs(newTracks!).length > 0) {
      this.#type = type;
      operations.push(this.#queue.changeType(type));
    }
    if (placement.newTimeline) {
      operations.push(this.#queue.setTimestampOffset(placement.offset, true));
    }
    operations.push(this.#queue.append(data));
    return Promise.resolve(operations);
  }
}

/** fMP4 from the transmuxer, one SourceBuffer per track. */
export class TransmuxTrackBuffers extends TrackBuffers {
  /** The mode. */
  readonly mode = "transmux";
  #transmuxer: Transmuxer;
  #types = new Map<string, string>();

  /** Adds a SourceBuffer per track and starts the transmuxer. */
  constructor(source: MediaSource, tracks: StreamTracks, options: TrackBuffersOptions = {}) {
    const queues = new Map<string, SourceBufferQueue>();
    for (const kind of ["video", "audio"] as const) {
      const codec = tracks[kind];
      if (codec === undefined) continue;
      const buffer = source.addSourceBuffer(mp4Type(kind, codec));
      queues.set(kind, new SourceBufferQueue(buffer, { evictRange: options.evictRange }));
    }
    super(queues);
    for (const kind of ["video", "audio"] as const) {
      if (tracks[kind] !== undefined) this.#types.set(kind, mp4Type(kind, tracks[kind]));
    }
    this.#transmuxer = new Transmuxer({ workerUrl: options.workerUrl, log: options.log });
  }

  /** Whether transmuxing runs in a worker. */
  override get inWorker(): boolean {
    return this.#transmuxer.inWorker;
  }

  /**
   * Transmuxes, then queues each track's segments. Another rendition: a track whose codec
   * changed gets `changeType` first; the transmuxer writes the new init segment (new SPS).
   */
  async enqueue(
    data: Uint8Array,
    placement: Placement,
    newTracks?: StreamTracks,
  ): Promise<Promise<void>[]> {
    const output = await this.#transmuxer.transmux(data, placement.newTimeline);
    const operations: Promise<void>[] = [];
    for (const kind of ["video", "audio"] as const) {
      const queue = this.queues.get(kind);
      if (queue === undefined) continue;
      const codec = newTracks?.[kind];
      if (codec !== undefined && mp4Type(kind, codec) !== this.#types.get(kind)) {
        this.#types.set(kind, mp4Type(kind, codec));
        operations.push(queue.changeType(mp4Type(kind, codec)));
      }
      // Every track moves to the new timeline, even one with no media in this chunk.
      if (placement.newTimeline) operations.push(queue.setTimestampOffset(placement.offset));
      const segment = output[kind];
      if (segment === undefined) continue;
      if (segment.init) operations.push(queue.append(segment.init));
      operations.push(queue.append(segment.data));
    }
    return operations;
  }

  /** Also stops the transmuxer. */
  override destroy(): void {
    super.destroy();
    this.#transmuxer.destroy();
  }
}

/** The buffers for `mode`. */
export function createTrackBuffers(
  mode: MseMode,
  source: MediaSource,
  tracks: StreamTracks,
  options: TrackBuffersOptions = {},
): TrackBuffers {
  return mode === "direct"
    ? new DirectTrackBuffers(source, tracks, options)
    : new TransmuxTrackBuffers(source, tracks, options);
}
