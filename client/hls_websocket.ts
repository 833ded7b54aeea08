/**
 * `HlsWebSocket`: the player's public face, with the existing player's options, methods and
 * events, and our extensions (typed `state`, `latency`, `stats`, `reconnect` and `firstframe`
 * events; a `stats` getter). It wires the components: {@linkcode PullConnection} (socket,
 * protocol, reconnection) → {@linkcode MediaBuffer} (path choice, transmuxing, SourceBuffer
 * queues, trimming) → {@linkcode LatencyController} (delay, rate, jumps, stalls, wall clock).
 *
 * @example
 * ```ts ignore
 * const player = new HlsWebSocket({ cdnServerUrl: "wss://cdn.example.com/", streamId: "room/1", authToken: token });
 * player.addEventListener("error", (error) => console.error(error));
 * player.addEventListener("latency", (info) => console.log(info.latency));
 * player.attachMedia(document.querySelector("video")!);
 * player.start();
 * ```
 * @module
 */

import { type MediaChunk, PullConnection } from "./connection.ts";
import {
  Emitter,
  type HlsWebSocketEventMap,
  type LatencyInfo,
  PlayerError,
  type PlayerState,
} from "./events.ts";
import { LatencyController } from "./latency/latency_controller.ts";
import { MediaBuffer } from "./media/media_buffer.ts";
import { canPlayThroughMse } from "./media/media_source.ts";
import { type HlsWebSocketOptions, type ResolvedOptions, resolveOptions } from "./options.ts";
import { type PlayerStats, RateWindow } from "./stats.ts";

/** The URL of the script that defined the player (classic `<script>` pages), read at load time. */
const SCRIPT_URL: string | undefined =
  typeof document !== "undefined" && document.currentScript instanceof HTMLScriptElement
    ? document.currentScript.src
    : undefined;

/** Name of the worker bundle, next to the player's script. */
export const WORKER_FILE = "hls-websocket-cdn.worker.js";

function defaultWorkerUrl(): string | undefined {
  const base = SCRIPT_URL || (import.meta as { url?: string }).url;
  if (!base || !/^https?:/.test(base)) return undefined;
  return new URL(WORKER_FILE, base).href;
}

/** Plays a stream from an HLS WebSocket CDN node in a media element. */
export class HlsWebSocket {
  /** Whether this browser can play through Media Source Extensions (else use native HLS). */
  static isSupported(): boolean {
    return canPlayThroughMse();
  }

  #options: ResolvedOptions;
  #emitter = new Emitter<HlsWebSocketEventMap>();
  #state: PlayerState = "idle";
  #connection: PullConnection | null = null;
  #media: HTMLMediaElement | null = null;
  #buffer: MediaBuffer | null = null;
  #controller: LatencyController | null = null;
  #held: MediaChunk[] = [];
  #startedAt: number | null = null;
  #firstFrameMs: number | null = null;
  #bytes = new RateWindow(5000);
  #appendMs = new RateWindow(5000);
  #stalls = 0;
  #jumps = 0;
  #closeEmitted = false;
  #statsTimer: ReturnType<typeof setInterval> | undefined;
  #mediaListeners: Array<[string, () => void]> = [];
  #destroyed = false;

  /** Checks the options (throws a `TypeError` naming a bad one); connects only on `start()`. */
  constructor(options: HlsWebSocketOptions) {
    this.#options = resolveOptions(options);
  }

  /** What the player is doing. */
  get state(): PlayerState {
    return this.#state;
  }

  /** The attached media element, if any. */
  get media(): HTMLMediaElement | null {
    return this.#media;
  }

  /** The latest latency measurement, if media plays. */
  get latency(): LatencyInfo | null {
    return this.#controller?.latest ?? null;
  }

  /** A snapshot of the player's numbers. */
  get stats(): PlayerStats {
    const now = performance.now();
    const latest = this.#controller?.latest;
    const quality = (this.#media as HTMLVideoElement | null)?.getVideoPlaybackQuality?.();
    const counters = this.#connection?.counters;
    return {
      state: this.#state,
      latency: latest?.latency ?? null,
      delay: latest?.delay ?? 0,
      targetDelay: this.#controller?.targetDelay ?? this.#options.delay,
      bufferLength: latest?.bufferLength ?? 0,
      bitrate: Math.round(this.#bytes.perSecond(now) * 8),
      bytesReceived: counters?.bytes ?? 0,
      droppedFrames: quality?.droppedVideoFrames ?? 0,
      decodedFrames: quality?.totalVideoFrames ?? 0,
      reconnects: counters?.reconnects ?? 0,
      stalls: this.#stalls,
      jumps: this.#jumps,
      parts: counters?.parts ?? false,
      mediaPath: this.#buffer?.path ?? null,
      worker: this.#buffer?.inWorker ?? false,
      codecs: this.#buffer?.codecs ?? "",
      timeToFirstFrame: this.#firstFrameMs,
      appendLatency: this.#appendMs.mean(now),
      playbackRate: this.#media?.playbackRate ?? 1,
    };
  }

  /** Adds an event handler (`error`, `close`, `ended`, and the extensions). */
  addEventListener<K extends keyof HlsWebSocketEventMap>(
    name: K,
    handler: HlsWebSocketEventMap[K],
  ): void {
    this.#emitter.add(name, handler);
  }

  /** Removes an event handler. */
  removeEventListener<K extends keyof HlsWebSocketEventMap>(
    name: K,
    handler: HlsWebSocketEventMap[K],
  ): void {
    this.#emitter.remove(name, handler);
  }

  #log = (message: string): void => {
    if (this.#options.debug) console.log(`[HlsWebSocket] ${message}`);
  };

  #setState(state: PlayerState): void {
    if (state === this.#state || this.#state === "destroyed") return;
    const previous = this.#state;
    this.#state = state;
    this.#log(`state ${previous} -> ${state}`);
    this.#emitter.emit("state", state, previous);
  }

  /** Connects to the node and pulls the stream. */
  start(): void {
    if (this.#destroyed || this.#connection !== null) return;
    const options = this.#options;
    this.#startedAt = performance.now();
    this.#setState("connecting");
    this.#connection = new PullConnection({
      url: options.cdnServerUrl,
      streamId: options.streamId,
      authToken: options.authToken,
      parts: options.parts,
      maxInitialFragments: options.maxInitialFragments,
      timeoutMs: options.timeout,
      log: options.debug ? this.#log : undefined,
    }, {
      media: (chunk) => this.#onChunk(chunk),
      accepted: () => {
        if (this.#state === "connecting" || this.#state === "reconnecting") {
          this.#setState("buffering");
        }
      },
      reconnect: (info) => {
        this.#setState("reconnecting");
        this.#emitter.emit("reconnect", info);
      },
      ended: () => this.#onEnded(),
      failed: (error) => this.#fail(error),
    });
    this.#connection.start();
    this.#statsTimer = setInterval(() => this.#everySecond(), 1000);
  }

  #onChunk(chunk: MediaChunk): void {
    this.#bytes.add(performance.now(), chunk.data.byteLength);
    if (this.#state === "reconnecting" || this.#state === "connecting") this.#setState("buffering");
    if (this.#buffer !== null) {
      this.#buffer.push(chunk);
      return;
    }
    // No media element yet: keep the chunks since the latest fragment start.
    if (chunk.starts) this.#held = [];
    this.#held.push(chunk);
    if (this.#held.length > this.#options.maxFragmentQueueLength) this.#held.shift();
  }

  /** Plays into `media` (a `<video>` or `<audio>`); replaces an element attached before. */
  attachMedia(media: HTMLMediaElement): void {
    if (this.#destroyed) return;
    if (this.#media !== null) this.detachMedia();
    this.#media = media;
    const options = this.#options;
    this.#controller = new LatencyController(media, {
      delay: options.delay,
      maxDelay: options.maxDelay,
      maxRate: options.maxCatchUpRate,
    }, {
      info: (info) => this.#emitter.emit("latency", info),
      seeked: (reason) => {
        this.#log(`seek: ${reason}`);
        if (reason === "jump" || reason === "gap" || reason === "stuck") this.#jumps++;
      },
      stalled: () => {
        this.#stalls++;
        this.#setState("stalled");
      },
    });
    this.#buffer = new MediaBuffer(media, {
      mediaPath: options.mediaPath,
      workerUrl: options.worker ? options.workerUrl ?? defaultWorkerUrl() : undefined,
      maxFragmentQueueLength: options.maxFragmentQueueLength,
      maxSegmentQueueLength: options.maxSegmentQueueLength,
      log: options.debug ? this.#log : undefined,
    }, {
      appended: (info) => {
        const controller = this.#controller;
        if (controller === null || this.#buffer === null) return;
        this.#appendMs.add(performance.now(), info.appendMs);
        if (info.start !== undefined && info.chunk.time !== undefined) {
          controller.wallClock.add(info.start, info.chunk.time);
        }
        const parts = this.#connection?.counters.parts ?? false;
        const chunk = info.chunk;
        controller.setWholeFragments(!parts && chunk.kind === "fragment" ? chunk.duration ?? 0 : 0);
        controller.arrived(this.#buffer.bufferedEnd, this.#buffer.pending > 0);
      },
      error: (error) => this.#fail(error),
    });
    const listen = (name: string, handler: () => void) => {
      media.addEventListener(name, handler);
      this.#mediaListeners.push([name, handler]);
    };
    listen("loadeddata", () => this.#onFirstFrame());
    listen("playing", () => this.#setState("playing"));
    listen("waiting", () => {
      if (this.#state === "playing") this.#setState("stalled");
    });
    listen("canplay", () => {
      if (media.autoplay && media.paused) media.play().catch(() => {});
    });
    const held = this.#held;
    this.#held = [];
    for (const chunk of held) this.#buffer.push(chunk);
  }

  #onFirstFrame(): void {
    if (this.#firstFrameMs !== null || this.#startedAt === null) return;
    this.#firstFrameMs = Math.round(performance.now() - this.#startedAt);
    this.#log(`first frame after ${this.#firstFrameMs} ms`);
    this.#emitter.emit("firstframe", this.#firstFrameMs);
  }

  /** Stops playing into the media element (the connection stays; `attachMedia` resumes). */
  detachMedia(): void {
    const media = this.#media;
    if (media === null) return;
    for (const [name, handler] of this.#mediaListeners) media.removeEventListener(name, handler);
    this.#mediaListeners = [];
    this.#controller?.destroy();
    this.#controller = null;
    this.#buffer?.destroy();
    this.#buffer = null;
    this.#media = null;
  }

  /** Changes the target delay (and the jump threshold) while playing, in seconds. */
  setDelayOptions(delay: number, maxDelay?: number): void {
    const resolved = resolveOptions({ ...this.#options, delay, maxDelay });
    this.#options.delay = resolved.delay;
    this.#options.maxDelay = resolved.maxDelay;
    this.#controller?.setDelay(resolved.delay, resolved.maxDelay);
  }

  #everySecond(): void {
    const controller = this.#controller;
    const media = this.#media;
    if (controller !== null && media !== null && this.#buffer !== null) {
      const maxBuffer = this.#options.maxBufferDuration ?? Math.max(6, 2 * controller.maxDelay);
      this.#buffer.trim(media.currentTime, Math.max(1, maxBuffer - controller.targetDelay));
    }
    if (this.#emitter.has("stats")) this.#emitter.emit("stats", this.stats);
  }

  #onEnded(): void {
    this.#log("stream ended");
    this.#emitClose();
    const finish = () => {
      if (this.#destroyed) return;
      this.#setState("ended");
      this.#emitter.emit("ended");
    };
    if (this.#buffer !== null) this.#buffer.endOfStream().then(finish, finish);
    else finish();
  }

  #fail(error: PlayerError): void {
    if (this.#destroyed || this.#state === "failed") return;
    this.#log(`error ${error.code}: ${error.message}`);
    this.#connection?.destroy();
    this.#setState("failed");
    this.#emitter.emit("error", error);
    this.#emitClose();
  }

  #emitClose(): void {
    if (this.#closeEmitted) return;
    this.#closeEmitted = true;
    this.#emitter.emit("close");
  }

  /** Closes the connection, stops the worker, detaches the media, removes every handler. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#connection?.destroy();
    this.#connection = null;
    clearInterval(this.#statsTimer);
    this.detachMedia();
    this.#held = [];
    if (this.#startedAt !== null) this.#emitClose();
    this.#setState("destroyed");
    this.#destroyed = true;
    this.#emitter.clear();
  }
}

export { PlayerError };
