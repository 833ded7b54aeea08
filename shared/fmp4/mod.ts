/**
 * Fragmented MP4 (CMAF) from MPEG-TS: the boxes of an init segment and of media fragments, and a
 * remuxer that turns consecutive pieces of a transport stream (H.264 and AAC) into fragments.
 *
 * This module runs in browsers and in Deno alike.
 *
 * @example
 * ```ts ignore
 * import { initSegment, TsToFmp4 } from "../shared/fmp4/mod.ts";
 * const remuxer = new TsToFmp4();
 * const piece = remuxer.remux(fragmentBytes, 1, 2)!;
 * const init = initSegment(piece.config);
 * ```
 * @module
 */

export {
  mediaFragment,
  NON_SYNC_FLAGS,
  type Sample,
  SYNC_FLAGS,
  type TrackRun,
} from "./fragment.ts";
export {
  AUDIO_TRACK_ID,
  type AudioConfig,
  audioSpecificConfig,
  initSegment,
  type TrackConfig,
  VIDEO_TIMESCALE,
  VIDEO_TRACK_ID,
  type VideoConfig,
} from "./init.ts";
export { type Fmp4Piece, TsToFmp4 } from "./remuxer.ts";
export { parseSps, type SpsInfo } from "./sps.ts";
export { type AudioUnit, type Demuxed, TsDemuxer, type VideoUnit } from "./ts_demux.ts";
