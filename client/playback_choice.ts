/**
 * The one place that knows which media paths exist: whether this browser can play at all
 * (`HlsWebSocket.isSupported()`), and which {@linkcode PlaybackPath} plays into an element.
 * Today that is always Media Source Extensions (`client/mse/`); a second path (WebCodecs) is
 * one more implementation of `PlaybackPath` and one more branch here.
 *
 * @example
 * ```ts ignore
 * if (canPlay()) {
 *   const path = createPlaybackPath(video, { mediaPath: "auto", workerUrl });
 * }
 * ```
 * @module
 */

import type { PlaybackPath } from "./media/playback_path.ts";
import { canPlayThroughMse } from "./mse/media_source.ts";
import { MsePlayback, type MsePlaybackOptions } from "./mse/mse_playback.ts";

/** What a path is set up with (the player's options that concern media). */
export type PlaybackPathOptions = MsePlaybackOptions;

/** Whether this browser can play streams through any media path. */
export function canPlay(): boolean {
  return canPlayThroughMse();
}

/** A media path for `media`, chosen for this browser. */
export function createPlaybackPath(
  media: HTMLMediaElement,
  options: PlaybackPathOptions,
): PlaybackPath {
  return new MsePlayback(media, options);
}
