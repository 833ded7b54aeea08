/**
 * How MPEG-TS reaches the SourceBuffers on the MSE path, given the `mediaPath` option and what
 * this browser's MSE accepts for the stream's codecs: `direct` (MPEG-TS appended as it comes, one
 * SourceBuffer) or `transmux` (fMP4 from mux.js, one SourceBuffer per track).
 *
 * `auto` transmuxes wherever fMP4 is accepted, and appends MPEG-TS only where it is not. Measured
 * in Chromium (`deno task bench latency`, documentation/player.md): Chromium's MPEG-TS demuxer
 * keeps the newest 7 video frames (0.23 s at 30 fps) out of the buffer, so appending MPEG-TS
 * directly plays 0.23 s further behind live than appending the fMP4 that mux.js makes (0.81 s
 * against 0.58 s glass to glass with 200 ms parts); with mux.js's repeated frames left out, both
 * drop no frames. The direct path starts about 0.1 s sooner and needs no worker: pages that want
 * it ask for `mediaPath: "direct"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chooseMseMode } from "./mse_mode.ts";
 * const tracks = { video: "avc1.42e01e", audio: "mp4a.40.2", unsupported: [] };
 * const accepts = (type: string) => type.startsWith("video/mp2t"); // no fMP4 here
 * assert(chooseMseMode("auto", tracks, accepts).mode === "direct");
 * ```
 * @module
 */

import { PlayerError } from "../events.ts";
import type { MediaPath } from "../options.ts";
import type { StreamTracks } from "../media/stream_probe.ts";
import { isTypeSupported, mp4Type, tsType } from "./media_source.ts";

/** The two ways onto MSE. */
export type MseMode = "transmux" | "direct";

/** The mode chosen, and why it may differ from the one asked for. */
export interface MseModeChoice {
  /** The mode. */
  mode: MseMode;
  /** Set when the wanted mode is not available here. */
  fallback?: string;
}

/** The codecs of `tracks`, video first, as MSE wants them in `codecs="..."`. */
export function trackCodecs(tracks: StreamTracks): string[] {
  return [tracks.video, tracks.audio].filter((codec): codec is string => codec !== undefined);
}

/**
 * Picks the mode for `wanted`; throws a `PlayerError` (`UNSUPPORTED_CODEC`) when the stream has
 * tracks the player cannot play, or when MSE accepts the codecs in neither form.
 */
export function chooseMseMode(
  wanted: MediaPath,
  tracks: StreamTracks,
  accepts: (type: string) => boolean = isTypeSupported,
): MseModeChoice {
  if (tracks.unsupported.length > 0) {
    throw new PlayerError(
      "UNSUPPORTED_CODEC",
      `the player cannot play ${tracks.unsupported.join(" and ")}`,
    );
  }
  const codecs = trackCodecs(tracks);
  const directOk = accepts(tsType(codecs));
  const transmuxOk = (tracks.video === undefined || accepts(mp4Type("video", tracks.video))) &&
    (tracks.audio === undefined || accepts(mp4Type("audio", tracks.audio)));
  if (!directOk && !transmuxOk) {
    const what = codecs.join(", ") || "this stream";
    throw new PlayerError("UNSUPPORTED_CODEC", `this browser cannot play ${what}`);
  }
  let mode: MseMode;
  if (wanted === "direct" && directOk) mode = "direct";
  else if (wanted === "transmux" && transmuxOk) mode = "transmux";
  else mode = transmuxOk ? "transmux" : "direct";
  return wanted !== "auto" && wanted !== mode
    ? { mode, fallback: `${wanted} path not available: using ${mode}` }
    : { mode };
}
