/**
 * The contract of a media path: what the player and its latency controller need from whatever
 * turns the stream's chunks into pictures and sound in the page's media element. Today one path
 * implement it: WebCodecs decoders rendering into `video.srcObject` (`client/webcodecs/`), and
 * Media Source Extensions (`client/mse/`); `client/playback_choice.ts` chooses one.
 *
 * The player's pipeline: connection → probe (`stream_probe.ts`) → start gate (`start_gate.ts`)
 * → a `PlaybackPath` (timeline, transmuxing or decoding, track buffers) → the latency controller
 * (`client/latency/`), which reads {@linkcode PlaybackPath.position} and
 * {@linkcode PlaybackPath.buffered} and moves playback with `seek`, `setRate` or `dropUntil`.
 *
 * @example
 * ```ts ignore
 * const path: PlaybackPath = createPlaybackPath(video, options);
 * path.addEventListener("appended", (event) => controller.arrived(event.detail));
 * path.configure(probe.tracks);   // once the codecs are known
 * path.push(chunk);               // every chunk, in order
 * ```
 * @module
 */

import type { MediaChunk } from "../connection.ts";
import type { PlayerError } from "../events.ts";
import type { StreamTracks } from "./stream_probe.ts";
import type { DetailEvents, TypedEventTarget } from "../../shared/typed_event_target.ts";

/** A chunk from the connection with what the probe read from it. */
export interface ProbedChunk extends MediaChunk {
  /** PTS (90 kHz) of its first frame of the main track, when it has one. */
  firstPts: number | undefined;
  /**
   * Extension (`abr`): set on the first chunk of another rendition (a switch, not the first
   * rendition): its tracks as probed from this chunk (a fragment start). The path reconfigures
   * its decoder or SourceBuffer here, before this chunk.
   */
  newTracks?: StreamTracks;
}

/** Where playback is, read once per decision. */
export interface PlaybackPosition {
  /** The playhead, in seconds of media time. */
  currentTime: number;
  /** Paused by the page or the user. */
  paused: boolean;
  /** A seek is in progress. */
  seeking: boolean;
  /** There is a frame at the playhead (the element's `HAVE_CURRENT_DATA`). */
  hasFrame: boolean;
  /** There is media ahead of the playhead to play on (`HAVE_FUTURE_DATA`). */
  canPlay: boolean;
  /** The playback rate in use. */
  rate: number;
}

/** A chunk that reached the path's buffers. */
export interface AppendedChunk {
  /** The chunk. */
  chunk: ProbedChunk;
  /** Media time of its first frame, if known. */
  start: number | undefined;
  /** Whether it began a new timeline. */
  newTimeline: boolean;
  /** Milliseconds from its arrival to the end of its append. */
  appendMs: number;
}

/** The numbers a path adds to the player's `stats`. */
export interface PlaybackPathStats {
  /** Which path: `webcodecs` (decoders into `video.srcObject`) or `mse` (Media Source Extensions). */
  playback: "webcodecs" | "mse";
  /** How MPEG-TS reaches the buffers (`transmux` or `direct`), once set up. */
  mediaPath: "transmux" | "direct" | null;
  /** Whether transmuxing runs in a Web Worker. */
  worker: boolean;
  /** Frames dropped before display. */
  droppedFrames: number;
  /** Frames decoded. */
  decodedFrames: number;
  /** Frames decoded to reach the live edge at a start or a jump, never meant to be shown (WebCodecs). */
  skippedFrames?: number;
  /** Audio frames played (WebCodecs). */
  audioFrames?: number;
  /**
   * Seconds audio was handed to the element later than video of the same media time (mean of the
   * last frames; WebCodecs), or null before both played.
   */
  avOffset?: number | null;
}

/** The events of a path. */
export type PlaybackPathEventMap = DetailEvents<{
  /** A chunk is in the buffers. */
  appended: AppendedChunk;
  /** Playback cannot go on (a codec the path cannot play, a failed append). */
  error: PlayerError;
}>;

/** How a path closes a delay above the target. */
export type CatchUp = "rate" | "drop";

/** A media path: chunks in, playback in the media element out. */
export interface PlaybackPath extends TypedEventTarget<PlaybackPathEventMap> {
  /**
   * How this path catches up: `rate` plays faster (MSE's `playbackRate`); `drop` drops frames
   * before they are shown (a `MediaStream` has no playback rate).
   */
  readonly catchUp: CatchUp;
  /** Chunks taken but not yet in the buffers (a burst is on its way). */
  readonly pending: number;
  /**
   * Sets the path up for the stream's tracks. Chunks pushed after it wait for the set-up; tracks
   * the path cannot play end in an `error` event.
   */
  configure(tracks: StreamTracks): void;
  /** Takes the next chunk, in stream order. */
  push(chunk: ProbedChunk): void;
  /** Where playback is now. */
  position(): PlaybackPosition;
  /** The media ready to play, as `[start, end]` ranges in order (seconds). */
  buffered(): Array<[number, number]>;
  /** Moves the playhead to `time`. */
  seek(time: number): void;
  /** Plays at `rate` (paths that catch up by `rate`). */
  setRate(rate: number): void;
  /** Drops the frames before `time` unshown, so playback goes on from there (`drop` paths). */
  dropUntil(time: number): void;
  /**
   * Paths that keep their own playhead (WebCodecs): the playhead follows `target`, the media
   * time due on screen at `performance.now()` time `now` (the node's clock plus a delay), or
   * runs at rate 1 on its own again with null.
   */
  follow?(target: ((now: number) => number) | null): void;
  /** Lets go of media more than `keepSeconds` behind the playhead. */
  trim(keepSeconds: number): void;
  /** Ends the stream once everything pushed is in the buffers (the rest still plays). */
  endOfStream(): Promise<void>;
  /** The path's numbers for `stats`. */
  stats(): PlaybackPathStats;
  /** Lets go of everything: buffers, workers, decoders; the element is left without media. */
  destroy(): void;
}
