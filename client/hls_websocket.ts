/**
 * `HlsWebSocket`: the player's public face, with the existing player's options, methods and
 * events, and our extensions (typed `state`, `latency`, `stats`, `reconnect` and `firstframe`
 * events; a `stats` getter). It wires the pipeline, one stage into the next:
 *
 * {@linkcode PullConnection} (socket, protocol, reconnection) → {@linkcode StreamProbe} (codecs,
 * first timestamps) → {@linkcode StartGate} (chunks that come before a media element or before
 * the codecs) → a {@linkcode PlaybackPath} (`playback_choice.ts`: WebCodecs, or MSE) →
 * {@linkcode LatencyController} (delay, rate, jumps, stalls, wall clock).
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
import { type HlsWebSocketEventMap, type LatencyInfo, PlayerError } from "./events.ts";
import { type Level, levelsFrom } from "./levels.ts";
import { LatencyController } from "./latency/latency_controller.ts";
import type { PlaybackPath, ProbedChunk } from "./media/playback_path.ts";
import { StartGate } from "./media/start_gate.ts";
import { StreamProbe } from "./media/stream_probe.ts";
import { type HlsWebSocketOptions, type ResolvedOptions, resolveOptions } from "./options.ts";
import { PayloadEvents } from "./payload_events.ts";
import { canPlay, createPlaybackPath } from "./playback_choice.ts";
import type { PlayerState } from "./player_state.ts";
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
  /** Whether this browser can play through WebCodecs or Media Source Extensions (else use native HLS). */
  static isSupported(): boolean {
    return canPlay();
  }

  #options: ResolvedOptions;
  #events = new PayloadEvents<HlsWebSocketEventMap>("HlsWebSocket");
  #state: PlayerState = "idle";
  #connection: PullConnection | null = null;
  #probe = new StreamProbe();
  #gate: StartGate<ProbedChunk>;
  #media: HTMLMediaElement | null = null;
  #path: PlaybackPath | null = null;
  #pathConfigured = false;
  #controller: LatencyController | null = null;
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
  #levels: Level[] = [];
  /** The rendition arriving now (group pulls). */
  #rendition: string | null = null;
  #switchReason: string | null = null;
  #levelSwitches = 0;
  /** The level pinned by `currentLevel = n`, or -1 (automatic). */
  #pinned = -1;

  /** Checks the options (throws a `TypeError` naming a bad one); connects only on `start()`. */
  constructor(options: HlsWebSocketOptions) {
    this.#options = resolveOptions(options);
    this.#gate = new StartGate(this.#options.maxFragmentQueueLength);
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
    const path = this.#path?.stats();
    const counters = this.#connection?.counters;
    return {
      state: this.#state,
      latency: latest?.latency ?? null,
      delay: latest?.delay ?? 0,
      targetDelay: this.#controller?.targetDelay ?? this.#options.delay,
      clock: this.#controller?.onNodeClock ?? false,
      bufferLength: latest?.bufferLength ?? 0,
      bitrate: Math.round(this.#bytes.perSecond(now) * 8),
      bytesReceived: counters?.bytes ?? 0,
      droppedFrames: path?.droppedFrames ?? 0,
      decodedFrames: path?.decodedFrames ?? 0,
      playback: path?.playback ?? null,
      skippedFrames: path?.skippedFrames ?? 0,
      audioFrames: path?.audioFrames ?? 0,
      avOffset: path?.avOffset ?? null,
      reconnects: counters?.reconnects ?? 0,
      stalls: this.#stalls,
      jumps: this.#jumps,
      parts: counters?.parts ?? false,
      mediaPath: path?.mediaPath ?? null,
      worker: path?.worker ?? false,
      codecs: this.#path !== null ? this.#probe.codecs.join(",") : "",
      timeToFirstFrame: this.#firstFrameMs,
      appendLatency: this.#appendMs.mean(now),
      playbackRate: this.#path?.position().rate ?? this.#media?.playbackRate ?? 1,
      rendition: this.#rendition,
      switchReason: this.#switchReason,
      levelSwitches: this.#levelSwitches,
    };
  }

  /**
   * hls.js name: the levels (renditions) of the group pulled (option `group`), best first, once
   * the node listed them; empty for a pull of one stream.
   */
  get levels(): readonly Level[] {
    return this.#levels;
  }

  /**
   * hls.js name: the index in `levels` of the rendition arriving now (-1 before media, or when
   * not a group pull). Setting it pins that level (the node sends `PIN` and moves at the next
   * keyframe, `reason` `pin`); `-1` returns to automatic choice.
   */
  get currentLevel(): number {
    return this.#levelIndex(this.#rendition);
  }

  set currentLevel(index: number) {
    if (!Number.isInteger(index) || index < -1 || index >= Math.max(this.#levels.length, 1)) {
      throw new RangeError(
        `HlsWebSocket: currentLevel must be -1 or a level index below ${this.#levels.length}, got ${
          String(index)
        }`,
      );
    }
    if (index !== -1 && this.#levels.length === 0) return;
    this.#pinned = index;
    this.#log(index === -1 ? "level: automatic" : `level: pin ${this.#levels[index].id}`);
    this.#connection?.pin(index === -1 ? undefined : this.#levels[index].id);
  }

  /** hls.js name: whether the node chooses the level (true unless `currentLevel` pinned one). */
  get autoLevelEnabled(): boolean {
    return this.#pinned === -1;
  }

  #levelIndex(id: string | null): number {
    return id === null ? -1 : this.#levels.findIndex((level) => level.id === id);
  }

  /** A chunk that names its rendition (`abr`): a switch when it is another one. */
  #noteRendition(chunk: MediaChunk): boolean {
    const id = chunk.rendition;
    if (id === undefined || id === this.#rendition) return false;
    const previous = this.#levelIndex(this.#rendition);
    const switched = this.#rendition !== null;
    this.#rendition = id;
    this.#switchReason = chunk.reason ?? "";
    if (switched) this.#levelSwitches++;
    this.#log(`rendition ${id} (${chunk.reason ?? "no reason"})`);
    this.#events.notify("levelswitched", {
      level: this.#levelIndex(id),
      id,
      reason: chunk.reason ?? "",
      previous,
    });
    return switched;
  }

  /** Adds an event handler (`error`, `close`, `ended`, and the extensions). */
  addEventListener<K extends keyof HlsWebSocketEventMap>(
    name: K,
    handler: HlsWebSocketEventMap[K],
  ): void {
    this.#events.add(name, handler);
  }

  /** Removes an event handler. */
  removeEventListener<K extends keyof HlsWebSocketEventMap>(
    name: K,
    handler: HlsWebSocketEventMap[K],
  ): void {
    this.#events.remove(name, handler);
  }

  #log = (message: string): void => {
    if (this.#options.debug) console.log(`[HlsWebSocket] ${message}`);
  };

  #setState(state: PlayerState): void {
    if (state === this.#state || this.#state === "destroyed") return;
    const previous = this.#state;
    this.#state = state;
    this.#log(`state ${previous} -> ${state}`);
    this.#events.notify("state", state, previous);
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
      group: options.group,
      log: options.debug ? this.#log : undefined,
    }, {
      media: (chunk) => this.#onChunk(chunk),
      renditions: (ids) => {
        const pinned = this.#pinned === -1 ? undefined : this.#levels[this.#pinned]?.id;
        this.#levels = levelsFrom(ids);
        const index = pinned === undefined ? -1 : this.#levels.findIndex((l) => l.id === pinned);
        if (index === -1 && pinned !== undefined) this.#connection?.pin(undefined);
        this.#pinned = index;
        this.#events.notify("levelsupdated", this.#levels);
      },
      accepted: () => {
        if (this.#state === "connecting" || this.#state === "reconnecting") {
          this.#setState("buffering");
        }
      },
      reconnect: (info) => {
        this.#setState("reconnecting");
        this.#events.notify("reconnect", info);
      },
      ended: () => this.#onEnded(),
      failed: (error) => this.#fail(error),
    });
    this.#connection.start();
    this.#statsTimer = setInterval(() => this.#everySecond(), 1000);
  }

  /** Stage 2: every chunk is probed, then goes to the media path, or waits at the start gate. */
  #onChunk(chunk: MediaChunk): void {
    this.#bytes.add(performance.now(), chunk.data.byteLength);
    if (this.#state === "reconnecting" || this.#state === "connecting") this.#setState("buffering");
    const switched = this.#noteRendition(chunk);
    if (switched) this.#probe.rescan();
    const probed: ProbedChunk = { ...chunk, firstPts: this.#probe.probe(chunk.data).firstPts };
    if (switched) probed.newTracks = this.#probe.tracks;
    if (this.#pathConfigured) {
      this.#path!.push(probed);
      return;
    }
    this.#gate.hold(probed);
    this.#openGate();
  }

  /** Once a path exists and the codecs are known: set it up and let the held chunks through. */
  #openGate(): void {
    const path = this.#path;
    if (path === null || this.#gate.length === 0) return;
    if (!this.#probe.complete) {
      this.#log("no codec information yet: chunk kept");
      return;
    }
    path.configure(this.#probe.tracks);
    this.#pathConfigured = true;
    for (const chunk of this.#gate.take()) path.push(chunk);
  }

  /** Plays into `media` (a `<video>` or `<audio>`); replaces an element attached before. */
  attachMedia(media: HTMLMediaElement): void {
    if (this.#destroyed) return;
    if (this.#media !== null) this.detachMedia();
    this.#media = media;
    const options = this.#options;
    const path = createPlaybackPath(media, {
      playback: options.playback,
      mediaPath: options.mediaPath,
      workerUrl: options.worker ? options.workerUrl ?? defaultWorkerUrl() : undefined,
      maxFragmentQueueLength: options.maxFragmentQueueLength,
      maxSegmentQueueLength: options.maxSegmentQueueLength,
      log: options.debug ? this.#log : undefined,
    });
    path.addEventListener("appended", (event) => {
      this.#appendMs.add(performance.now(), event.detail.appendMs);
    });
    path.addEventListener("error", (event) => this.#fail(event.detail));
    const controller = new LatencyController(path, {
      delay: options.delay,
      maxDelay: options.maxDelay,
      maxRate: options.maxCatchUpRate,
      nodeSendsParts: () => this.#connection?.counters.parts ?? false,
      nodeNow: () => this.#connection?.nodeNow(),
      nodeDelay: () => this.#connection?.counters.nodeDelay,
      delayGiven: options.delayGiven,
    });
    controller.addEventListener("latency", (event) => this.#events.notify("latency", event.detail));
    controller.addEventListener("seeked", (event) => {
      const reason = event.detail;
      this.#log(`seek: ${reason}`);
      if (reason === "jump" || reason === "gap" || reason === "stuck") this.#jumps++;
    });
    controller.addEventListener("stalled", () => {
      this.#stalls++;
      this.#setState("stalled");
    });
    this.#path = path;
    this.#controller = controller;
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
    this.#openGate();
  }

  #onFirstFrame(): void {
    if (this.#firstFrameMs !== null || this.#startedAt === null) return;
    this.#firstFrameMs = Math.round(performance.now() - this.#startedAt);
    this.#log(`first frame after ${this.#firstFrameMs} ms`);
    this.#events.notify("firstframe", this.#firstFrameMs);
  }

  /** Stops playing into the media element (the connection stays; `attachMedia` resumes). */
  detachMedia(): void {
    const media = this.#media;
    if (media === null) return;
    for (const [name, handler] of this.#mediaListeners) media.removeEventListener(name, handler);
    this.#mediaListeners = [];
    this.#controller?.destroy();
    this.#controller = null;
    this.#path?.destroy();
    this.#path = null;
    this.#pathConfigured = false;
    this.#media = null;
  }

  /** Changes the target delay (and the jump threshold) while playing, in seconds. */
  setDelayOptions(delay: number, maxDelay?: number): void {
    const resolved = resolveOptions({ ...this.#options, delay, maxDelay });
    this.#options.delay = resolved.delay;
    this.#options.delayGiven = true;
    this.#options.maxDelay = resolved.maxDelay;
    this.#controller?.setDelay(resolved.delay, resolved.maxDelay);
  }

  #everySecond(): void {
    const controller = this.#controller;
    if (controller !== null && this.#path !== null) {
      const maxBuffer = this.#options.maxBufferDuration ?? Math.max(6, 2 * controller.maxDelay);
      this.#path.trim(Math.max(1, maxBuffer - controller.targetDelay));
    }
    if (this.#events.has("stats")) this.#events.notify("stats", this.stats);
  }

  #onEnded(): void {
    this.#log("stream ended");
    this.#emitClose();
    const finish = () => {
      if (this.#destroyed) return;
      this.#setState("ended");
      this.#events.notify("ended");
    };
    if (this.#path !== null) this.#path.endOfStream().then(finish, finish);
    else finish();
  }

  #fail(error: PlayerError): void {
    if (this.#destroyed || this.#state === "failed") return;
    this.#log(`error ${error.code}: ${error.message}`);
    this.#connection?.destroy();
    this.#setState("failed");
    this.#events.notify("error", error);
    this.#emitClose();
  }

  #emitClose(): void {
    if (this.#closeEmitted) return;
    this.#closeEmitted = true;
    this.#events.notify("close");
  }

  /** Closes the connection, stops the worker, detaches the media, removes every handler. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#connection?.destroy();
    this.#connection = null;
    clearInterval(this.#statsTimer);
    this.detachMedia();
    this.#gate.take();
    if (this.#startedAt !== null) this.#emitClose();
    this.#setState("destroyed");
    this.#destroyed = true;
    this.#events.clear();
  }
}

export { PlayerError };
