/**
 * MPEG-TS for the CDN: packet alignment, PAT/PMT, PES timestamps, keyframes, the fragment and
 * part cutter used by publishers, and the codec strings a player needs for Media Source
 * Extensions.
 *
 * This module runs in browsers and in Deno alike.
 *
 * @example
 * ```ts ignore
 * import { detectCodecs, TsCutterStream } from "../shared/mpegts/mod.ts";
 * const codecs = detectCodecs(fragmentBytes)?.codecs; // "avc1.64001f,mp4a.40.2"
 * ```
 * @module
 */

export { aacCodecString, type AdtsHeader, findAdtsHeader, parseAdtsHeader } from "./adts.ts";
export { detectCodecs, type MediaCodecs } from "./codecs.ts";
export {
  TsCutter,
  type TsCutterOptions,
  type TsCutterStats,
  TsCutterStream,
  type TsPart,
} from "./cutter.ts";
export { MediaClock, type MediaClockOptions } from "./media_clock.ts";
export { avcCodecString, findAvcSps, KeyframeDetector, type NalCodec } from "./nal.ts";
export {
  concatBytes,
  packetPid,
  payloadUnitStart,
  randomAccessIndicator,
  SYNC_BYTE,
  TS_PACKET_SIZE,
} from "./packet.ts";
export { TsPacketAligner, tsPacketStream } from "./packet_aligner.ts";
export { parsePesHeader, type PesHeader, PTS_HZ, TimestampUnwrapper } from "./pes.ts";
export { ProgramTracker } from "./program.ts";
export { type Pmt, type PmtStream, StreamType } from "./psi.ts";
