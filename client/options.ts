/**
 * Options of the player: the existing player's names and meanings, our extensions, their
 * defaults, and the one function that checks them and names the bad value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveOptions } from "./options.ts";
 * const options = resolveOptions({ cdnServerUrl: "ws://127.0.0.1:8080/", streamId: "a", authToken: "" });
 * assert(options.delay === 0.5 && options.maxInitialFragments === 1 && options.parts);
 * ```
 * @module
 */

/** How MPEG-TS reaches the SourceBuffer. */
export type MediaPath = "auto" | "transmux" | "direct";

/**
 * Which media path plays: `webcodecs` (WebCodecs decoders into `video.srcObject`), `mse` (Media
 * Source Extensions), or `auto` (WebCodecs where the browser has it and the element is a
 * `<video>`, else MSE).
 */
export type Playback = "auto" | "webcodecs" | "mse";

/** Options of `new HlsWebSocket(options)`. */
export interface HlsWebSocketOptions {
  /** WebSocket URL of a node, like `wss://cdn.example.com/`. Required. */
  cdnServerUrl: string;
  /** The stream to pull. Required. */
  streamId: string;
  /** Pull token (JWT); may be empty where the node needs none. */
  authToken: string;
  /**
   * Target delay behind live in seconds. On a node that grants `clock`: the frame on screen is the
   * one the origin received `delay` ago (node clock), and without this option the node's default
   * (`OK:delay`, 0.1 s unless configured) applies, the same for every viewer. On older nodes: how
   * far the frame on screen stays behind the newest media received. The player raises it when the
   * delivery needs more (arrival jitter; whole fragments need at least one fragment). Settable
   * while playing with `setDelayOptions`. @default the node's, else 0.5
   */
  delay?: number;
  /** Beyond this delay the player jumps forward instead of catching up. @default delay + 1.5 */
  maxDelay?: number;
  /** Seconds of media kept in the source buffer, behind and ahead of the playhead. @default 2 x maxDelay, at least 6 */
  maxBufferDuration?: number;
  /** Sent as `max_initial_fragments`: buffered fragments the node sends before live ones. @default 1 */
  maxInitialFragments?: number;
  /** Fragments and parts waiting to be appended, or held until media is attached and the codecs are known; beyond it the player skips to the next fragment start (while waiting to start, keeps the newest keyframe and what follows). @default 32 */
  maxFragmentQueueLength?: number;
  /** Segments waiting to be appended to a SourceBuffer; beyond it the player resyncs. @default 32 */
  maxSegmentQueueLength?: number;
  /** Milliseconds to wait for media, at start and after a loss, before giving up with an error. @default 30000 */
  timeout?: number;
  /** Log to the console. @default false */
  debug?: boolean;
  /** Extension: ask the node for parts of fragments as they are made (`parts=1`). @default true */
  parts?: boolean;
  /** Extension: the media path, `auto`, `webcodecs` or `mse` (see {@linkcode Playback}); `webcodecs` where the browser lacks it falls back to MSE. @default "auto" */
  playback?: Playback;
  /** Extension: `transmux` (MPEG-TS to fMP4 with mux.js), `direct` (MPEG-TS into MSE) or `auto` (the faster one this browser supports). @default "auto" */
  mediaPath?: MediaPath;
  /** Extension: transmux in a Web Worker (falls back to the page's thread if the worker cannot start). @default true */
  worker?: boolean;
  /** Extension: URL of `hls-websocket-cdn.worker.js`. @default next to the player's script */
  workerUrl?: string;
  /** Extension: the fastest playback rate used to catch up. @default 1.1 */
  maxCatchUpRate?: number;
  /**
   * Extension (`abr`): `streamId` names a rendition group (`room/live`, the ids before the
   * `WxH-FPS~KBPS` segment); the node picks the rendition for this viewer's link and switches at
   * keyframes. Fills `levels`, and `currentLevel` pins one. The token must be for the group. A node
   * without rendition groups answers as for a stream that does not exist. @default false
   */
  group?: boolean;
}

/** Options with every default filled in. */
export type ResolvedOptions =
  & Required<Omit<HlsWebSocketOptions, "maxDelay" | "maxBufferDuration" | "workerUrl">>
  & {
    /** Explicit `maxDelay`, if given. */
    maxDelay: number | undefined;
    /** Explicit `maxBufferDuration`, if given. */
    maxBufferDuration: number | undefined;
    /** Explicit `workerUrl`, if given. */
    workerUrl: string | undefined;
    /** Whether the page set `delay` (on a node with `clock`, it then overrides the node's). */
    delayGiven: boolean;
  };

/** Default target delay (seconds behind the newest media received). */
export const DEFAULT_DELAY = 0.5;
/** Default extra delay before a jump, over the target. */
export const DEFAULT_MAX_DELAY_MARGIN = 1.5;

function positive(name: string, value: unknown, fallback: number, allowZero = false): number {
  if (value === undefined || value === null) return fallback;
  if (
    typeof value !== "number" || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)
  ) {
    throw new TypeError(
      `HlsWebSocket: option ${name} must be a ${
        allowZero ? "non-negative" : "positive"
      } number, got ${String(value)}`,
    );
  }
  return value;
}

function optionalPositive(name: string, value: unknown): number | undefined {
  return value === undefined || value === null ? undefined : positive(name, value, 0);
}

/** Checks options and fills in defaults; throws a `TypeError` naming the first bad option. */
export function resolveOptions(options: HlsWebSocketOptions): ResolvedOptions {
  if (options === null || typeof options !== "object") {
    throw new TypeError("HlsWebSocket: options must be an object");
  }
  if (typeof options.cdnServerUrl !== "string" || !/^wss?:\/\//i.test(options.cdnServerUrl)) {
    throw new TypeError(
      `HlsWebSocket: option cdnServerUrl must be a ws:// or wss:// URL, got ${
        String(options.cdnServerUrl)
      }`,
    );
  }
  if (typeof options.streamId !== "string" || options.streamId === "") {
    throw new TypeError("HlsWebSocket: option streamId must be a non-empty string");
  }
  const mediaPath = options.mediaPath ?? "auto";
  if (!["auto", "transmux", "direct"].includes(mediaPath)) {
    throw new TypeError(
      `HlsWebSocket: option mediaPath must be auto, transmux or direct, got ${String(mediaPath)}`,
    );
  }
  const playback = options.playback ?? "auto";
  if (!["auto", "webcodecs", "mse"].includes(playback)) {
    throw new TypeError(
      `HlsWebSocket: option playback must be auto, webcodecs or mse, got ${String(playback)}`,
    );
  }
  return {
    cdnServerUrl: options.cdnServerUrl,
    streamId: options.streamId,
    authToken: typeof options.authToken === "string" ? options.authToken : "",
    delay: positive("delay", options.delay, DEFAULT_DELAY, true),
    delayGiven: options.delay !== undefined && options.delay !== null,
    maxDelay: optionalPositive("maxDelay", options.maxDelay),
    maxBufferDuration: optionalPositive("maxBufferDuration", options.maxBufferDuration),
    maxInitialFragments: Math.floor(
      positive("maxInitialFragments", options.maxInitialFragments, 1, true),
    ),
    maxFragmentQueueLength: Math.floor(
      positive("maxFragmentQueueLength", options.maxFragmentQueueLength, 32),
    ),
    maxSegmentQueueLength: Math.floor(
      positive("maxSegmentQueueLength", options.maxSegmentQueueLength, 32),
    ),
    timeout: positive("timeout", options.timeout, 30000),
    debug: options.debug === true,
    parts: options.parts !== false,
    playback,
    mediaPath,
    worker: options.worker !== false,
    workerUrl: options.workerUrl,
    maxCatchUpRate: Math.max(1, positive("maxCatchUpRate", options.maxCatchUpRate, 1.1)),
    group: options.group === true,
  };
}
