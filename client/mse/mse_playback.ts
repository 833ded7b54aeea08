/**
 * The Media Source Extensions path: a {@linkcode PlaybackPath} that plays into the element
 * through a MediaSource. It ties its parts together:
 *
 * - `media_source.ts`: the MediaSource (or ManagedMediaSource), opened on the element at once;
 * - `mse_mode.ts`: `direct` or `transmux`, chosen when the tracks are known (`configure`);
 * - `track_buffers.ts`: the SourceBuffers of that mode and what each chunk puts in them;
 * - `chunk_sequencer.ts`: chunks strictly in order, skipping to a fragment start when they pile up;
 * - `../media/timeline.ts`: where each chunk goes on the media timeline;
 * - `cut_points.ts`: old media removed from fragment starts only.
 *
 * It catches up by `rate` (the element's `playbackRate`) and seeks by setting `currentTime`.
 *
 * @example
 * ```ts ignore
 * const path = new MsePlayback(video, { mediaPath: "auto", workerUrl });
 * path.addEventListener("appended", (event) => console.log(event.detail.start));
 * path.configure(probe.tracks);
 * path.push(chunk);
 * path.trim(4);
 * path.destroy();
 * ```
 * @module
 */

import { PlayerError } from "../events.ts";
import type { MediaPath } from "../options.ts";
import type {
  PlaybackPath,
  PlaybackPathEventMap,
  PlaybackPathStats,
  PlaybackPosition,
  ProbedChunk,
} from "../media/playback_path.ts";
import type { StreamTracks } from "../media/stream_probe.ts";
import { Timeline } from "../media/timeline.ts";
import { TypedEventTarget } from "../../shared/typed_event_target.ts";
import { ChunkSequencer } from "./chunk_sequencer.ts";
import { CutPoints } from "./cut_points.ts";
import { type OpenedMediaSource, openMediaSource, rangeList } from "./media_source.ts";
import { chooseMseMode, trackCodecs } from "./mse_mode.ts";
import { createTrackBuffers, type TrackBuffers } from "./track_buffers.ts";

/** How the path is set up. */
export interface MsePlaybackOptions {
  /** `auto`, `transmux` or `direct`. */
  mediaPath: MediaPath;
  /** Worker script for transmuxing, if a worker should be used. */
  workerUrl?: string;
  /** Chunks waiting to be processed before the path skips to the next fragment. @default 32 */
  maxFragmentQueueLength?: number;
  /** Operations waiting per SourceBuffer before the path skips to the next fragment. @default 32 */
  maxSegmentQueueLength?: number;
  /** Debug log. */
  log?: (message: string) => void;
}

/** Seconds behind the playhead kept when a full SourceBuffer must make room. */
const EVICT_KEEP_SECONDS = 1;

/** Plays chunks into a media element through MSE. */
export class MsePlayback extends TypedEventTarget<PlaybackPathEventMap> implements PlaybackPath {
  /** MSE changes the playback rate to catch up. */
  readonly catchUp = "rate";
  #media: HTMLMediaElement;
  #options: MsePlaybackOptions;
  #abort = new AbortController();
  #opened: Promise<OpenedMediaSource>;
  #source: OpenedMediaSource | null = null;
  #timeline = new Timeline();
  #cuts = new CutPoints();
  #buffers: TrackBuffers | null = null;
  #sequencer: ChunkSequencer<ProbedChunk>;
  #failed = false;
  #destroyed = false;

  /** Attaches a new MediaSource to `media`. */
  constructor(media: HTMLMediaElement, options: MsePlaybackOptions) {
    super();
    this.#media = media;
    this.#options = options;
    this.#opened = openMediaSource(media, this.#abort.signal);
    this.#opened.then((source) => this.#source = source, () => {});
    this.#sequencer = new ChunkSequencer({
      process: (chunk) => this.#append(chunk),
      fail: (error) => this.#fail(error),
      resync: () => this.#timeline.forceNewTimeline(),
      maxChunks: options.maxFragmentQueueLength ?? 32,
      maxOperations: options.maxSegmentQueueLength ?? 32,
      operations: () => this.#buffers?.backlog ?? 0,
      log: options.log,
    });
  }

  /** Chunks received but not yet appended. */
  get pending(): number {
    return this.#sequencer.pending;
  }

  /** Chooses the mode and adds the SourceBuffers once the MediaSource is open. */
  configure(tracks: StreamTracks): void {
    this.#sequencer.run(async () => {
      const source = await this.#opened;
      if (this.#failed || this.#destroyed) return;
      const choice = chooseMseMode(this.#options.mediaPath, tracks);
      if (choice.fallback !== undefined) this.#options.log?.(choice.fallback);
      const workerUrl = this.#options.workerUrl;
      this.#buffers = createTrackBuffers(choice.mode, source.mediaSource, tracks, {
        evictRange: () => this.#evictRange(),
        workerUrl,
        log: this.#options.log,
      });
      this.#options.log?.(
        `media path ${choice.mode} for ${trackCodecs(tracks).join(",")}${
          choice.mode === "transmux" ? (workerUrl ? " (worker)" : " (page thread)") : ""
        }`,
      );
    });
  }

  /** Takes a chunk; it is appended after the ones before it. */
  push(chunk: ProbedChunk): void {
    if (this.#failed || this.#destroyed) return;
    this.#sequencer.push(chunk);
  }

  /** Places a chunk on the timeline and queues its appends. */
  async #append(chunk: ProbedChunk): Promise<void> {
    const buffers = this.#buffers;
    if (this.#failed || this.#destroyed || buffers === null) return;
    const placement = this.#timeline.place(chunk, chunk.firstPts, this.#bufferedEnd());
    if (placement.drop) return;
    if (placement.newTimeline) {
      this.#options.log?.(
        `new timeline at ${placement.start?.toFixed(3)} (offset ${placement.offset.toFixed(3)})`,
      );
    }
    if (chunk.starts && placement.start !== undefined) this.#cuts.add(placement.start);
    const operations = await buffers.enqueue(chunk.data, placement, chunk.newTracks);
    // Appends complete in order; the next chunk may be transmuxed while these run.
    Promise.all(operations).then(() => {
      if (placement.newTimeline || chunk.starts) {
        this.#options.log?.(
          `appended ${chunk.kind} ${chunk.seq}/${chunk.part ?? "-"}: ${buffers.describe()}`,
        );
      }
      this.emit("appended", {
        chunk,
        start: placement.start,
        newTimeline: placement.newTimeline,
        appendMs: performance.now() - chunk.receivedAt,
      });
    }, (error) => this.#fail(error));
  }

  /** Where the element's playhead is. */
  position(): PlaybackPosition {
    const media = this.#media;
    return {
      currentTime: media.currentTime,
      paused: media.paused,
      seeking: media.seeking,
      hasFrame: media.readyState >= 2,
      canPlay: media.readyState >= 3,
      rate: media.playbackRate,
    };
  }

  /** The element's buffered ranges (the media of every track). */
  buffered(): Array<[number, number]> {
    return rangeList(this.#media.buffered);
  }

  #bufferedEnd(): number {
    const ranges = this.#media.buffered;
    return ranges.length ? ranges.end(ranges.length - 1) : 0;
  }

  #bufferedStart(): number {
    const ranges = this.#media.buffered;
    return ranges.length ? ranges.start(0) : 0;
  }

  /** Sets `currentTime`. */
  seek(time: number): void {
    this.#media.currentTime = time;
  }

  /** Sets `playbackRate` (browsers keep the pitch). */
  setRate(rate: number): void {
    this.#media.playbackRate = rate;
  }

  /** Not used on this path (it catches up by rate). */
  dropUntil(_time: number): void {}

  /** Removes media older than `keepSeconds` behind the playhead, from a fragment start. */
  trim(keepSeconds: number): void {
    const cut = this.#cuts.before(this.#media.currentTime, keepSeconds, this.#bufferedStart());
    if (cut !== undefined) this.#buffers?.remove(0, cut);
  }

  /** What to remove when a SourceBuffer is full: all but the last second behind the playhead. */
  #evictRange(): { start: number; end: number } | null {
    const currentTime = this.#media.currentTime;
    const cut = this.#cuts.before(currentTime, EVICT_KEEP_SECONDS, this.#bufferedStart());
    return cut === undefined ? null : { start: 0, end: cut };
  }

  /** Ends the stream once everything was appended (`ended` follows when it has played). */
  async endOfStream(): Promise<void> {
    await this.#sequencer.idle();
    await this.#buffers?.drained();
    const source = this.#source?.mediaSource;
    if (source?.readyState === "open") {
      try {
        source.endOfStream();
      } catch { /* already ended */ }
    }
  }

  /** The mode, the worker, and the element's frame counts. */
  stats(): PlaybackPathStats {
    const quality = (this.#media as HTMLVideoElement).getVideoPlaybackQuality?.();
    return {
      playback: "mse",
      mediaPath: this.#buffers?.mode ?? null,
      worker: this.#buffers?.inWorker ?? false,
      droppedFrames: quality?.droppedVideoFrames ?? 0,
      decodedFrames: quality?.totalVideoFrames ?? 0,
    };
  }

  #fail(error: unknown): void {
    if (this.#failed || this.#destroyed) return;
    this.#failed = true;
    const playerError = error instanceof PlayerError ? error : new PlayerError(
      "MEDIA_ERROR",
      `cannot append media: ${error instanceof Error ? error.message : error}`,
    );
    this.emit("error", playerError);
  }

  /** Detaches the MediaSource, stops the worker, drops everything queued. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#abort.abort();
    this.#buffers?.destroy();
    this.#buffers = null;
    this.#source?.close();
    this.#source = null;
  }
}
