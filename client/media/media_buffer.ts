/**
 * The media side of the player: a MediaSource on the element, the SourceBuffers for the stream's
 * codecs, and the path from MPEG-TS chunks to them, either `direct` (MPEG-TS appended as it comes,
 * where MSE accepts it) or `transmux` (fMP4 from mux.js, per track). Chunks are processed strictly
 * in order; each one is placed on the timeline (see `timeline.ts`) first. Old media behind the
 * playhead is removed from fragment starts only, so the frame on screen keeps its keyframe.
 *
 * @example
 * ```ts ignore
 * const buffer = new MediaBuffer(video, { mediaPath: "auto" }, { appended, error });
 * buffer.push(chunk);             // from the connection
 * buffer.trim(video.currentTime, 4);
 * buffer.destroy();
 * ```
 * @module
 */

import type { MediaChunk } from "../connection.ts";
import { PlayerError } from "../events.ts";
import type { MediaPath } from "../options.ts";
import { Transmuxer } from "../transmux/transmuxer.ts";
import {
  isTypeSupported,
  mp4Type,
  type OpenedMediaSource,
  openMediaSource,
  tsType,
} from "./media_source.ts";
import { SourceBufferQueue } from "./source_buffer_queue.ts";
import { StreamProbe } from "./stream_probe.ts";
import { Timeline } from "./timeline.ts";

/**
 * Which path `auto` takes when the browser accepts both. Measured in Chromium
 * (`deno task bench latency`, documentation/latency.md): Chromium's MPEG-TS demuxer keeps the
 * newest 7 video frames (0.23 s at 30 fps) out of the buffer, so appending MPEG-TS directly
 * plays 0.23 s further behind live than appending the fMP4 that mux.js makes (0.81 s against
 * 0.58 s glass to glass with 200 ms parts); with mux.js's repeated frames left out, both paths
 * drop no frames. So `auto` transmuxes wherever fMP4 is accepted, and appends MPEG-TS only where
 * it is not. The direct path starts about 0.1 s sooner and needs no worker.
 */
export const AUTO_PREFERS_DIRECT = false;

/** Chunks kept at most while the codecs are not all known yet. */
const MAX_EARLY_CHUNKS = 32;

/** The path for a wanted one, given what the browser accepts (at least one of them). */
function choosePath(
  wanted: MediaPath,
  directOk: boolean,
  transmuxOk: boolean,
): "transmux" | "direct" {
  if (wanted === "direct" && directOk) return "direct";
  if (wanted === "transmux" && transmuxOk) return "transmux";
  return directOk && (AUTO_PREFERS_DIRECT || !transmuxOk) ? "direct" : "transmux";
}

/** A chunk that reached the SourceBuffers. */
export interface AppendedChunk {
  /** The chunk. */
  chunk: MediaChunk;
  /** Media time of its first frame, if known. */
  start: number | undefined;
  /** Whether it began a new timeline. */
  newTimeline: boolean;
  /** Milliseconds from its arrival to the end of its append. */
  appendMs: number;
}

/** How the buffer is set up. */
export interface MediaBufferOptions {
  /** Path choice. */
  mediaPath: MediaPath;
  /** Worker script for transmuxing, if a worker should be used. */
  workerUrl?: string;
  /** Chunks waiting to be processed before the oldest are dropped. @default 32 */
  maxFragmentQueueLength?: number;
  /** Operations waiting per SourceBuffer before chunks are dropped. @default 32 */
  maxSegmentQueueLength?: number;
  /** Debug log. */
  log?: (message: string) => void;
}

/** What the buffer reports. */
export interface MediaBufferHandlers {
  /** A chunk was appended. */
  appended(info: AppendedChunk): void;
  /** Playback cannot go on (no supported codec, MSE failure). */
  error(error: PlayerError): void;
}

/** MediaSource, SourceBuffers and the chunk pipeline for one media element. */
export class MediaBuffer {
  #media: HTMLMediaElement;
  #options: MediaBufferOptions;
  #handlers: MediaBufferHandlers;
  #abort = new AbortController();
  #opened: Promise<OpenedMediaSource>;
  #source: OpenedMediaSource | null = null;
  #probe = new StreamProbe();
  #timeline = new Timeline();
  #transmuxer: Transmuxer | null = null;
  #queues: { video?: SourceBufferQueue; audio?: SourceBufferQueue; ts?: SourceBufferQueue } = {};
  #path: "transmux" | "direct" | null = null;
  #chain: Promise<void> = Promise.resolve();
  #pending = 0;
  #skipping = false;
  #fragmentStarts: number[] = [];
  #early: Array<{ chunk: MediaChunk; firstPts: number | undefined }> = [];
  #failed = false;
  #destroyed = false;

  /** Attaches a new MediaSource to `media`. */
  constructor(media: HTMLMediaElement, options: MediaBufferOptions, handlers: MediaBufferHandlers) {
    this.#media = media;
    this.#options = options;
    this.#handlers = handlers;
    this.#opened = openMediaSource(media, this.#abort.signal);
    this.#opened.then((source) => this.#source = source, () => {});
  }

  /** The path in use, once the first chunk chose it. */
  get path(): "transmux" | "direct" | null {
    return this.#path;
  }

  /** Whether transmuxing runs in a worker. */
  get inWorker(): boolean {
    return this.#transmuxer?.inWorker ?? false;
  }

  /** The codecs given to MSE. */
  get codecs(): string {
    return this.#probe.codecs.join(",");
  }

  /** Chunks received but not yet appended. */
  get pending(): number {
    return this.#pending;
  }

  /** Takes a chunk from the connection; it is appended after the ones before it. */
  push(chunk: MediaChunk): void {
    if (this.#failed || this.#destroyed) return;
    const maxPending = this.#options.maxFragmentQueueLength ?? 32;
    const maxSegments = this.#options.maxSegmentQueueLength ?? 32;
    const segments = Math.max(0, ...Object.values(this.#queues).map((queue) => queue?.length ?? 0));
    if (this.#pending >= maxPending || segments >= maxSegments) {
      if (!this.#skipping) {
        this.#options.log?.(
          `media queue full (${this.#pending} chunks, ${segments} segments): skipping to the next fragment`,
        );
      }
      this.#skipping = true;
    }
    if (this.#skipping) {
      if (!chunk.starts || this.#pending > 0) return;
      this.#skipping = false;
      this.#timeline.forceNewTimeline();
    }
    this.#pending++;
    this.#chain = this.#chain.then(() => this.#process(chunk)).catch((error) => this.#fail(error))
      .finally(() => this.#pending--);
  }

  async #process(chunk: MediaChunk): Promise<void> {
    if (this.#failed || this.#destroyed) return;
    const info = this.#probe.probe(chunk.data);
    if (this.#path === null) {
      if (!this.#probe.complete) {
        // A codec header may come a part later (audio in long PES packets): keep the chunks
        // since the latest fragment start, so playback can start from its keyframe.
        if (chunk.starts) this.#early = [];
        if (this.#early.length < MAX_EARLY_CHUNKS) {
          this.#early.push({ chunk, firstPts: info.firstPts });
        }
        this.#options.log?.("no codec information yet: chunk kept");
        return;
      }
      await this.#setUp();
      const early = this.#early;
      this.#early = [];
      for (const item of early) await this.#append(item.chunk, item.firstPts);
    }
    await this.#append(chunk, info.firstPts);
  }

  /** Places a chunk on the timeline and queues its appends. */
  async #append(chunk: MediaChunk, firstPts: number | undefined): Promise<void> {
    if (this.#failed || this.#destroyed) return;
    const placement = this.#timeline.place(chunk, firstPts, this.bufferedEnd);
    if (placement.drop) return;
    if (placement.newTimeline) {
      this.#options.log?.(
        `new timeline at ${placement.start?.toFixed(3)} (offset ${placement.offset.toFixed(3)})`,
      );
    }
    if (chunk.starts && placement.start !== undefined) this.#fragmentStarts.push(placement.start);
    const appends: Promise<void>[] = [];
    if (this.#path === "direct") {
      const queue = this.#queues.ts!;
      if (placement.newTimeline) appends.push(queue.setTimestampOffset(placement.offset, true));
      appends.push(queue.append(chunk.data));
    } else {
      const output = await this.#transmuxer!.transmux(chunk.data, placement.newTimeline);
      for (const kind of ["video", "audio"] as const) {
        const queue = this.#queues[kind];
        if (queue === undefined) continue;
        // Every track moves to the new timeline, even one with no media in this chunk.
        if (placement.newTimeline) appends.push(queue.setTimestampOffset(placement.offset));
        const segment = output[kind];
        if (segment === undefined) continue;
        if (segment.init) appends.push(queue.append(segment.init));
        appends.push(queue.append(segment.data));
      }
    }
    // Appends complete in order; the next chunk may be transmuxed while these run.
    Promise.all(appends).then(() => {
      if (placement.newTimeline || chunk.starts) {
        this.#options.log?.(
          `appended ${chunk.kind} ${chunk.seq}/${chunk.part ?? "-"}: ${this.#describe()}`,
        );
      }
      this.#handlers.appended({
        chunk,
        start: placement.start,
        newTimeline: placement.newTimeline,
        appendMs: performance.now() - chunk.receivedAt,
      });
    }, (error) => this.#fail(error));
  }

  async #setUp(): Promise<void> {
    const source = await this.#opened;
    const unsupported = this.#probe.unsupported;
    if (unsupported.length > 0) {
      throw new PlayerError(
        "UNSUPPORTED_CODEC",
        `the player cannot play ${unsupported.join(" and ")}`,
      );
    }
    const codecs = this.#probe.codecs;
    const video = this.#probe.videoCodec;
    const audio = this.#probe.audioCodec;
    const directOk = isTypeSupported(tsType(codecs));
    const transmuxOk = (video === undefined || isTypeSupported(mp4Type("video", video))) &&
      (audio === undefined || isTypeSupported(mp4Type("audio", audio)));
    const wanted = this.#options.mediaPath;
    if (!directOk && !transmuxOk) {
      const what = codecs.join(", ") || "this stream";
      throw new PlayerError("UNSUPPORTED_CODEC", `this browser cannot play ${what}`);
    }
    const path = choosePath(wanted, directOk, transmuxOk);
    if (wanted !== "auto" && wanted !== path) {
      this.#options.log?.(`${wanted} path not available: using ${path}`);
    }
    const evictRange = () => this.#evictRange();
    if (path === "direct") {
      this.#queues.ts = new SourceBufferQueue(source.mediaSource.addSourceBuffer(tsType(codecs)), {
        evictRange,
      });
    } else {
      if (video !== undefined) {
        this.#queues.video = new SourceBufferQueue(
          source.mediaSource.addSourceBuffer(mp4Type("video", video)),
          { evictRange },
        );
      }
      if (audio !== undefined) {
        this.#queues.audio = new SourceBufferQueue(
          source.mediaSource.addSourceBuffer(mp4Type("audio", audio)),
          { evictRange },
        );
      }
      this.#transmuxer = new Transmuxer({
        workerUrl: this.#options.workerUrl,
        log: this.#options.log,
      });
    }
    this.#path = path;
    this.#options.log?.(
      `media path ${path} for ${codecs.join(",")}${
        path === "transmux" ? (this.#options.workerUrl ? " (worker)" : " (page thread)") : ""
      }`,
    );
  }

  #describe(): string {
    return Object.entries(this.#queues).map(([name, queue]) => {
      const ranges = queue!.buffer.buffered;
      const list = [];
      for (let i = 0; i < ranges.length; i++) {
        list.push(`${ranges.start(i).toFixed(2)}-${ranges.end(i).toFixed(2)}`);
      }
      return `${name} ${list.join(" ")}`;
    }).join("; ");
  }

  /** End of the media buffered in every SourceBuffer (seconds), or 0. */
  get bufferedEnd(): number {
    const ranges = this.#media.buffered;
    return ranges.length ? ranges.end(ranges.length - 1) : 0;
  }

  /** Start of the buffered media, or 0. */
  get bufferedStart(): number {
    const ranges = this.#media.buffered;
    return ranges.length ? ranges.start(0) : 0;
  }

  /** The latest fragment start at least `keepSeconds` behind `currentTime`, if worth cutting at. */
  #cutPoint(currentTime: number, keepSeconds: number): number | undefined {
    const limit = currentTime - keepSeconds;
    const starts = this.#fragmentStarts;
    while (starts.length > 1 && starts[1] <= limit) starts.shift();
    const cut = starts.length > 0 && starts[0] <= limit ? starts[0] : undefined;
    return cut === undefined || cut <= this.bufferedStart + 0.1 ? undefined : cut;
  }

  /** Removes media older than `keepSeconds` behind `currentTime`, from a fragment start. */
  trim(currentTime: number, keepSeconds: number): Promise<void> {
    const cut = this.#cutPoint(currentTime, keepSeconds);
    if (cut === undefined) return Promise.resolve();
    return Promise.all(
      Object.values(this.#queues).map((queue) => queue?.remove(0, cut).catch(() => {})),
    ).then(() => {});
  }

  /** What to remove when a SourceBuffer is full: all but the last second behind the playhead. */
  #evictRange(): { start: number; end: number } | null {
    const cut = this.#cutPoint(this.#media.currentTime, 1);
    return cut === undefined ? null : { start: 0, end: cut };
  }

  /** Ends the stream once everything was appended (`ended` follows when it has played). */
  async endOfStream(): Promise<void> {
    await this.#chain;
    await Promise.all(
      Object.values(this.#queues).map((queue) => queue?.drained().catch(() => {})),
    );
    const source = this.#source?.mediaSource;
    if (source?.readyState === "open") {
      try {
        source.endOfStream();
      } catch { /* already ended */ }
    }
  }

  #fail(error: unknown): void {
    if (this.#failed || this.#destroyed) return;
    this.#failed = true;
    const playerError = error instanceof PlayerError ? error : new PlayerError(
      "MEDIA_ERROR",
      `cannot append media: ${error instanceof Error ? error.message : error}`,
    );
    this.#handlers.error(playerError);
  }

  /** Detaches the MediaSource, stops the worker, drops everything queued. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#early = [];
    this.#abort.abort();
    for (const queue of Object.values(this.#queues)) queue?.destroy();
    this.#queues = {};
    this.#transmuxer?.destroy();
    this.#transmuxer = null;
    this.#source?.close();
    this.#source = null;
  }
}
