/**
 * The one place that knows which media paths exist: whether this browser can play at all
 * (`HlsWebSocket.isSupported()`), and which {@linkcode PlaybackPath} plays into an element:
 * WebCodecs (`client/webcodecs/`) where the browser has `VideoDecoder`, `AudioDecoder` and
 * `MediaStreamTrackGenerator` and the element is a `<video>`, else Media Source Extensions
 * (`client/mse/`). The `playback` option forces one (`webcodecs` falls back to MSE where the
 * browser cannot).
 *
 * @example
 * ```ts ignore
 * if (canPlay()) {
 *   const path = createPlaybackPath(video, { playback: "auto", mediaPath: "auto", workerUrl });
 * }
 * ```
 * @module
 */

import type { PlaybackPath } from "./media/playback_path.ts";
import { canPlayThroughMse } from "./mse/media_source.ts";
import { MsePlayback, type MsePlaybackOptions } from "./mse/mse_playback.ts";
import type { Playback } from "./options.ts";
import { canPlayThroughWebCodecs, WebCodecsPlayback } from "./webcodecs/webcodecs_playback.ts";

/** What a path is set up with (the player's options that concern media). */
export interface PlaybackPathOptions extends MsePlaybackOptions {
  /** Which path: `auto`, `webcodecs` or `mse`. @default "auto" */
  playback?: Playback;
}

/** Whether this browser can play streams through any media path. */
export function canPlay(): boolean {
  return canPlayThroughWebCodecs() || canPlayThroughMse();
}

/** Which path plays into `media` with `playback` asked for. */
export function choosePlayback(
  media: HTMLMediaElement,
  playback: Playback = "auto",
): "webcodecs" | "mse" {
  if (playback === "mse" && canPlayThroughMse()) return "mse";
  if (canPlayThroughWebCodecs(media)) return "webcodecs";
  return "mse";
}

/** A media path for `media`, chosen for this browser. */
export function createPlaybackPath(
  media: HTMLMediaElement,
  options: PlaybackPathOptions,
): PlaybackPath {
  if (choosePlayback(media, options.playback) === "webcodecs") {
    return new WebCodecsPlayback(media as HTMLVideoElement, { log: options.log });
  }
  return new MsePlayback(media, options);
}
