/**
 * Test support: a {@linkcode PlaybackPath} whose position and buffer the test sets, that records
 * what it is asked (seeks, rates, drops), and that announces arrivals when the test says
 * (`arrive`). For the latency controller and anything else that drives a path.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FakePlaybackPath } from "./fake_playback_path.ts";
 * import { fragmentChunk } from "./chunks.ts";
 * const path = new FakePlaybackPath();
 * path.arrive(fragmentChunk({ seq: 1, start: 10, duration: 2 }));
 * assert.deepEqual(path.buffered(), [[10, 12]]);
 * ```
 * @module
 */

import { TypedEventTarget } from "../../shared/typed_event_target.ts";
import type { PlayerError } from "../events.ts";
import type {
  CatchUp,
  PlaybackPath,
  PlaybackPathEventMap,
  PlaybackPathStats,
  PlaybackPosition,
  ProbedChunk,
} from "../media/playback_path.ts";
import type { StreamTracks } from "../media/stream_probe.ts";

/** A path the test drives. */
export class FakePlaybackPath extends TypedEventTarget<PlaybackPathEventMap>
  implements PlaybackPath {
  /** How it catches up. */
  catchUp: CatchUp;
  /** Chunks "on their way". */
  pending = 0;
  /** The position `position()` returns (the playhead moves with `seek` and `dropUntil`). */
  readonly state: PlaybackPosition = {
    currentTime: 0,
    paused: false,
    seeking: false,
    hasFrame: false,
    canPlay: false,
    rate: 1,
  };
  /** What `buffered()` returns. */
  ranges: Array<[number, number]> = [];
  /** Every seek. */
  readonly seeks: number[] = [];
  /** Every rate set. */
  readonly rates: number[] = [];
  /** Every `dropUntil`. */
  readonly drops: number[] = [];
  /** Every `trim`. */
  readonly trims: number[] = [];
  /** The chunks pushed. */
  readonly pushed: ProbedChunk[] = [];
  /** The tracks configured, if any. */
  tracks: StreamTracks | null = null;
  /** Whether `endOfStream` was called. */
  ended = false;
  /** Whether `destroy` was called. */
  destroyed = false;
  /** Set by a test for a path with its own playhead: records the functions to follow. */
  follow?: (target: ((now: number) => number) | null) => void;

  /** A path that catches up by `catchUp`. */
  constructor(catchUp: CatchUp = "rate") {
    super();
    this.catchUp = catchUp;
  }

  /** `chunk` is in the buffer: its media (from `start`, for `duration`) is added, `appended` fires. */
  arrive(chunk: ProbedChunk, newTimeline = false): void {
    const start = chunk.firstPts === undefined ? undefined : chunk.firstPts / 90000;
    if (start !== undefined) {
      const end = start + (chunk.duration ?? 0.2);
      const last = this.ranges.at(-1);
      if (last !== undefined && Math.abs(last[1] - start) < 0.001) last[1] = end;
      else this.ranges.push([start, end]);
    }
    this.emit("appended", { chunk, start, newTimeline, appendMs: 1 });
  }

  /** Fires `error`. */
  failWith(error: PlayerError): void {
    this.emit("error", error);
  }

  configure(tracks: StreamTracks): void {
    this.tracks = tracks;
  }

  push(chunk: ProbedChunk): void {
    this.pushed.push(chunk);
  }

  position(): PlaybackPosition {
    return { ...this.state };
  }

  buffered(): Array<[number, number]> {
    return this.ranges.map(([start, end]) => [start, end]);
  }

  seek(time: number): void {
    this.seeks.push(time);
    this.state.currentTime = time;
  }

  setRate(rate: number): void {
    this.rates.push(rate);
    this.state.rate = rate;
  }

  dropUntil(time: number): void {
    this.drops.push(time);
    this.state.currentTime = Math.max(this.state.currentTime, time);
  }

  trim(keepSeconds: number): void {
    this.trims.push(keepSeconds);
  }

  endOfStream(): Promise<void> {
    this.ended = true;
    return Promise.resolve();
  }

  stats(): PlaybackPathStats {
    return { playback: "mse", mediaPath: null, worker: false, droppedFrames: 0, decodedFrames: 0 };
  }

  destroy(): void {
    this.destroyed = true;
  }
}
