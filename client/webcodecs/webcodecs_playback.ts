/**
 * The WebCodecs path: a {@linkcode PlaybackPath} that demuxes MPEG-TS itself (`ts_demuxer.ts`),
 * decodes with `VideoDecoder` (H.264, Annex B, codec string from the SPS) and `AudioDecoder`
 * (AAC, AudioSpecificConfig from the ADTS header), and writes each frame, at its time, into a
 * `MediaStreamTrackGenerator` whose `MediaStream` is the element's `srcObject`. The page's
 * `<video>` plays it as any live stream: `requestVideoFrameCallback` sees each frame, and no
 * source buffer or transmuxing stands between a frame's arrival and the screen.
 *
 * Timing is the path's own (`playout_clock.ts`): a playhead in media seconds that runs from the
 * controller's `seek`, or follows the node's clock (`follow`). Video frames whose time has come
 * are shown, the newest only (older ones dropped: `frame_queue.ts`); audio is written at its time
 * too, so both reach the element together. A `MediaStream` has no `playbackRate` or seekable
 * timeline: this path catches up by dropping frames (`catchUp: "drop"`).
 *
 * @example
 * ```ts ignore
 * if (canPlayThroughWebCodecs(video)) {
 *   const path = new WebCodecsPlayback(video, {});
 *   path.configure(probe.tracks);
 *   path.push(chunk);
 * }
 * ```
 * @module
 */

import { PlayerError } from "../events.ts";
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
import { type AacConfig, sameAacConfig } from "./aac_config.ts";
import { FrameQueue } from "./frame_queue.ts";
import { PlayoutClock } from "./playout_clock.ts";
import { type Sample, TsDemuxer } from "./ts_demuxer.ts";

/** `MediaStreamTrackGenerator` (Chromium's breakout box), not in TypeScript's DOM types. */
interface TrackGenerator extends MediaStreamTrack {
  readonly writable: WritableStream<VideoFrame | AudioData>;
}

type TrackGeneratorClass = new (init: { kind: "video" | "audio" }) => TrackGenerator;

function generatorClass(): TrackGeneratorClass | undefined {
  return (globalThis as { MediaStreamTrackGenerator?: TrackGeneratorClass })
    .MediaStreamTrackGenerator;
}

/** Whether this browser can play into `media` through WebCodecs. */
export function canPlayThroughWebCodecs(media?: HTMLMediaElement): boolean {
  const scope = globalThis as unknown as Record<string, unknown>;
  return typeof scope.VideoDecoder === "function" && typeof scope.AudioDecoder === "function" &&
    typeof scope.EncodedVideoChunk === "function" && typeof scope.MediaStream === "function" &&
    generatorClass() !== undefined &&
    (media === undefined || (typeof HTMLVideoElement !== "undefined" &&
      media instanceof HTMLVideoElement && "srcObject" in media));
}

/** How the path is set up. */
export interface WebCodecsPlaybackOptions {
  /** Debug log. */
  log?: (message: string) => void;
  /** The clock, in ms. @default performance.now */
  now?: () => number;
}

interface QueuedVideo {
  time: number;
  duration: number;
  frame: VideoFrame;
}

interface QueuedAudio {
  time: number;
  duration: number;
  data: AudioData;
}

/** Seconds of one video frame until two frames tell. */
const DEFAULT_FRAME_SECONDS = 1 / 30;
/** Audio later than this behind the playhead is dropped rather than played, in seconds. */
const AUDIO_LATE = 0.1;
/** Longest wait between two looks at the queues, in ms. */
const MAX_WAIT_MS = 50;
/** Samples of write times kept for the A/V offset. */
const OFFSET_SAMPLES = 60;

/** Plays chunks into a `<video>` through WebCodecs decoders and a `MediaStream`. */
export class WebCodecsPlayback extends TypedEventTarget<PlaybackPathEventMap>
  implements PlaybackPath {
  /** A `MediaStream` plays at rate 1: catch up by dropping frames. */
  readonly catchUp = "drop";
  #media: HTMLVideoElement;
  #options: WebCodecsPlaybackOptions;
  #now: () => number;
  #stream: MediaStream;
  #videoTrack: TrackGenerator | null = null;
  #audioTrack: TrackGenerator | null = null;
  #videoWriter: WritableStreamDefaultWriter<VideoFrame | AudioData> | null = null;
  #audioWriter: WritableStreamDefaultWriter<VideoFrame | AudioData> | null = null;
  #videoDecoder: VideoDecoder | null = null;
  #audioDecoder: AudioDecoder | null = null;
  #videoCodec: string | undefined;
  #audioConfig: AacConfig | null = null;
  #needKey = true;
  #demuxer = new TsDemuxer();
  #timeline = new Timeline();
  #clock = new PlayoutClock();
  #video = new FrameQueue<QueuedVideo>();
  #audio = new FrameQueue<QueuedAudio>();
  #configured = false;
  #frameSeconds = DEFAULT_FRAME_SECONDS;
  #lastVideoPts: number | undefined;
  #start: number | undefined;
  #end = 0;
  #shown = 0;
  #decoded = 0;
  #dropped = 0;
  #skipped = 0;
  #audioPlayed = 0;
  #hasFrame = false;
  /** The first place the playhead was put: frames before it were decoded only to get there. */
  #startAt: number | undefined;
  #videoLead: number[] = [];
  #audioLead: number[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #failed = false;
  #destroyed = false;

  /** Puts a new `MediaStream` into `media.srcObject`. */
  constructor(media: HTMLVideoElement, options: WebCodecsPlaybackOptions = {}) {
    super();
    this.#media = media;
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
    this.#stream = new MediaStream();
  }

  /**
   * Chunks taken but not yet in the buffers: none, as `push` hands every sample to the decoders
   * at once (what they queue counts as buffered), so the controller starts as soon as a burst is in.
   */
  get pending(): number {
    return 0;
  }

  /** Creates the decoders and tracks of the stream's tracks. */
  configure(tracks: StreamTracks): void {
    if (this.#configured || this.#failed || this.#destroyed) return;
    if (tracks.video === undefined && tracks.audio === undefined) {
      this.#fail(new PlayerError("MEDIA_ERROR", `no track to play (${tracks.unsupported})`));
      return;
    }
    this.#configured = true;
    const Generator = generatorClass()!;
    if (tracks.video !== undefined) {
      this.#videoTrack = new Generator({ kind: "video" });
      this.#videoWriter = this.#videoTrack.writable.getWriter();
      this.#stream.addTrack(this.#videoTrack);
      this.#videoDecoder = new VideoDecoder({
        output: (frame) => this.#onVideo(frame),
        error: (error) => this.#fail(error),
      });
      this.#configureVideo(tracks.video);
    }
    if (tracks.audio !== undefined) {
      this.#audioTrack = new Generator({ kind: "audio" });
      this.#audioWriter = this.#audioTrack.writable.getWriter();
      this.#stream.addTrack(this.#audioTrack);
      this.#audioDecoder = new AudioDecoder({
        output: (data) => this.#onAudio(data),
        error: (error) => this.#fail(error),
      });
    }
    this.#media.srcObject = this.#stream;
    this.#options.log?.(
      `playback webcodecs for ${[tracks.video, tracks.audio].filter(Boolean).join(",")}`,
    );
  }

  #configureVideo(codec: string, force = false): void {
    if (codec === this.#videoCodec && !force) return;
    this.#videoCodec = codec;
    this.#videoDecoder?.configure({ codec, optimizeForLatency: true });
    this.#needKey = true;
  }

  /** Demuxes a chunk and hands its samples to the decoders. */
  push(chunk: ProbedChunk): void {
    if (!this.#configured || this.#failed || this.#destroyed) return;
    const placement = this.#timeline.place(chunk, chunk.firstPts, this.#end);
    if (placement.drop) return;
    if (placement.newTimeline) {
      this.#demuxer.reset();
      this.#lastVideoPts = undefined;
      this.#options.log?.(`new timeline at ${placement.start?.toFixed(3)}`);
    }
    if (chunk.resumed || chunk.jump) this.#demuxer.reset();
    // Another rendition (`abr`): this chunk starts with its keyframe and SPS. The decoder gets the
    // new configuration here, after the old rendition's frames already queued (they still play).
    if (chunk.newTracks !== undefined && this.#videoDecoder !== null) {
      const codec = chunk.newTracks.video ?? this.#videoCodec;
      if (codec !== undefined) this.#configureVideo(codec, true);
      this.#options.log?.(`rendition ${chunk.rendition}: video decoder configured for ${codec}`);
    }
    try {
      for (const sample of this.#demuxer.push(chunk.data)) {
        this.#decode(sample, sample.pts / 90000 + placement.offset);
      }
    } catch (error) {
      this.#fail(error);
      return;
    }
    if (this.#start === undefined && placement.start !== undefined) this.#start = placement.start;
    this.emit("appended", {
      chunk,
      start: placement.start,
      newTimeline: placement.newTimeline,
      appendMs: this.#now() - chunk.receivedAt,
    });
  }

  #decode(sample: Sample, time: number): void {
    if (sample.track === "video") {
      const decoder = this.#videoDecoder;
      if (decoder === null) return;
      if (this.#needKey && !sample.key) return;
      this.#needKey = false;
      if (this.#lastVideoPts !== undefined) {
        const step = (sample.pts - this.#lastVideoPts) / 90000;
        if (step > 0.001 && step < 0.5) this.#frameSeconds = step;
      }
      this.#lastVideoPts = Math.max(this.#lastVideoPts ?? -Infinity, sample.pts);
      decoder.decode(
        new EncodedVideoChunk({
          type: sample.key ? "key" : "delta",
          timestamp: Math.round(time * 1e6),
          data: sample.data,
        }),
      );
      this.#end = Math.max(this.#end, time + this.#frameSeconds);
      return;
    }
    const decoder = this.#audioDecoder;
    if (decoder === null) return;
    if (this.#audioConfig === null || !sameAacConfig(this.#audioConfig, sample.config)) {
      this.#audioConfig = sample.config;
      decoder.configure({ ...sample.config, description: sample.config.description });
    }
    decoder.decode(
      new EncodedAudioChunk({
        type: "key",
        timestamp: Math.round(time * 1e6),
        duration: Math.round(sample.duration / 90000 * 1e6),
        data: sample.data,
      }),
    );
    if (this.#videoDecoder === null) {
      this.#end = Math.max(this.#end, time + sample.duration / 90000);
    }
  }

  #onVideo(frame: VideoFrame): void {
    if (this.#destroyed) return frame.close();
    this.#decoded++;
    this.#video.push({ time: frame.timestamp / 1e6, duration: this.#frameSeconds, frame });
    this.#run();
  }

  #onAudio(data: AudioData): void {
    if (this.#destroyed) return data.close();
    this.#audio.push({ time: data.timestamp / 1e6, duration: data.duration / 1e6, data });
    this.#run();
  }

  /** Shows and plays what is due, drops what is late, and waits for the next frame's time. */
  #run = (): void => {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#destroyed || this.#failed) return;
    const clock = this.#clock;
    if (!clock.started) return;
    const now = this.#now();
    const master = this.#videoDecoder !== null ? this.#video : this.#audio;
    clock.limit = master.end;
    const playhead = clock.time(now);
    const { show, drop } = this.#video.due(playhead);
    for (const late of drop) {
      late.frame.close();
      if (this.#shown > 0 && late.time >= (this.#startAt ?? 0)) this.#dropped++;
      else this.#skipped++;
    }
    if (show !== undefined) {
      this.#lead(this.#videoLead, playhead - show.time);
      this.#shown++;
      this.#hasFrame = true;
      this.#videoWriter!.write(show.frame).catch(() => show.frame.close());
    }
    const audio = this.#audio.dueAll(playhead, 0, AUDIO_LATE);
    for (const late of audio.drop) late.data.close();
    for (const { data, time } of audio.play) {
      this.#lead(this.#audioLead, playhead - time);
      this.#audioPlayed++;
      this.#audioWriter!.write(data).catch(() => data.close());
    }
    const next = Math.min(
      this.#video.untilNext(playhead) ?? Infinity,
      this.#audio.untilNext(playhead) ?? Infinity,
    );
    const wait = Math.min(MAX_WAIT_MS, Math.max(1, next * 1000));
    this.#timer = setTimeout(this.#run, wait);
  };

  #lead(samples: number[], value: number): void {
    samples.push(value);
    if (samples.length > OFFSET_SAMPLES) samples.shift();
  }

  /** Where the playhead is. */
  position(): PlaybackPosition {
    const now = this.#now();
    const clock = this.#clock;
    const currentTime = clock.started ? clock.time(now) : 0;
    const master = this.#videoDecoder !== null ? this.#video : this.#audio;
    return {
      currentTime,
      paused: this.#media.paused,
      seeking: false,
      hasFrame: this.#hasFrame,
      canPlay: master.length > 0 || currentTime < master.end - 0.001,
      rate: 1,
    };
  }

  /** From the first media kept to the end of what was handed to the decoders. */
  buffered(): Array<[number, number]> {
    if (this.#start === undefined || this.#end <= this.#start) return [];
    return [[this.#start, this.#end]];
  }

  /** Moves the playhead: forward, frames before `time` are dropped; back, the picture waits. */
  seek(time: number): void {
    this.#startAt ??= time;
    this.#clock.seek(time, this.#now());
    this.#run();
  }

  /** A `MediaStream` plays at rate 1. */
  setRate(_rate: number): void {}

  /** Drops the frames before `time` unshown: the playhead moves there. */
  dropUntil(time: number): void {
    const now = this.#now();
    if (this.#clock.started && time > this.#clock.time(now)) this.seek(time);
  }

  /**
   * Lets the playhead follow `target` (the media time due on screen at clock time `now`, ms), or
   * run on its own again with null.
   */
  follow(target: ((now: number) => number) | null): void {
    this.#clock.follow(target, this.#now());
    this.#run();
  }

  /** Forgets media more than `keepSeconds` behind the playhead (decoded frames go at once). */
  trim(keepSeconds: number): void {
    if (this.#start === undefined || !this.#clock.started) return;
    this.#start = Math.min(
      this.#end,
      Math.max(this.#start, this.#clock.time(this.#now()) - keepSeconds),
    );
  }

  /** Decodes what is queued; the rest still plays. */
  async endOfStream(): Promise<void> {
    const flushed = Promise.all([
      this.#videoDecoder?.state === "configured" ? this.#videoDecoder.flush() : undefined,
      this.#audioDecoder?.state === "configured" ? this.#audioDecoder.flush() : undefined,
    ].map((promise) => promise?.catch(() => {})));
    // A decoder that holds its last frames (no more input) must not hold up `ended`.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([flushed, new Promise((resolve) => timer = setTimeout(resolve, 500))]);
    clearTimeout(timer);
  }

  /** Frame counts, and how far audio was from video when both were handed to the element. */
  stats(): PlaybackPathStats {
    const mean = (values: number[]) =>
      values.length === 0
        ? undefined
        : values.reduce((sum, value) => sum + value, 0) / values.length;
    const video = mean(this.#videoLead);
    const audio = mean(this.#audioLead);
    return {
      playback: "webcodecs",
      mediaPath: null,
      worker: false,
      droppedFrames: this.#dropped,
      decodedFrames: this.#decoded,
      skippedFrames: this.#skipped,
      audioFrames: this.#audioPlayed,
      avOffset: video === undefined || audio === undefined ? null : audio - video,
    };
  }

  #fail(error: unknown): void {
    if (this.#failed || this.#destroyed) return;
    this.#failed = true;
    const playerError = error instanceof PlayerError ? error : new PlayerError(
      "MEDIA_ERROR",
      `cannot decode media: ${error instanceof Error ? error.message : error}`,
    );
    this.emit("error", playerError);
  }

  /** Closes the decoders, the frames and the tracks; the element is left without media. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    clearTimeout(this.#timer);
    for (const decoder of [this.#videoDecoder, this.#audioDecoder]) {
      try {
        if (decoder !== null && decoder.state !== "closed") decoder.close();
      } catch { /* closed already */ }
    }
    for (const { frame } of this.#video.clear()) frame.close();
    for (const { data } of this.#audio.clear()) data.close();
    for (const track of [this.#videoTrack, this.#audioTrack]) track?.stop();
    if (this.#media.srcObject === this.#stream) this.#media.srcObject = null;
  }
}
