/**
 * The initialization segment of a fragmented MP4 (CMAF) stream: `ftyp` and a `moov` with one
 * track per elementary stream (H.264 as `avc1` with its `avcC`, AAC as `mp4a` with its `esds`),
 * no samples of their own, and an `mvex` with a `trex` per track, so every sample comes in the
 * fragments that follow (`fragment.ts`). Video is track 1 at 90 kHz (the MPEG-TS clock), audio
 * track 2 at its sample rate.
 *
 * This module runs in browsers and in Deno alike.
 *
 * @example
 * ```ts ignore
 * const init = initSegment({ video: { sps, pps, width: 1280, height: 720 } });
 * // ftyp + moov: what EXT-X-MAP names
 * ```
 * @module
 */

import { SAMPLE_RATES } from "../mpegts/adts.ts";
import { box, fourCc, fullBox, join, u16, u32, u8, zeros } from "./boxes.ts";

/** H.264 video as the init segment describes it. */
export interface VideoConfig {
  /** Sequence parameter set NAL unit (from its header byte). */
  sps: Uint8Array;
  /** Picture parameter set NAL unit. */
  pps: Uint8Array;
  /** Cropped picture size, pixels. */
  width: number;
  /** Cropped picture size, pixels. */
  height: number;
}

/** AAC audio as the init segment describes it. */
export interface AudioConfig {
  /** MPEG-4 audio object type (2 = AAC-LC). */
  objectType: number;
  /** Samples per second. */
  sampleRate: number;
  /** Channel configuration (1–7). */
  channels: number;
}

/** The tracks of a stream. */
export interface TrackConfig {
  /** The video track (track 1), if any. */
  video?: VideoConfig;
  /** The audio track (track 2), if any. */
  audio?: AudioConfig;
}

/** Track id of the video track. */
export const VIDEO_TRACK_ID = 1;
/** Track id of the audio track. */
export const AUDIO_TRACK_ID = 2;
/** Timescale of the video track: the 90 kHz MPEG-TS clock. */
export const VIDEO_TIMESCALE = 90000;

/** The unity transformation matrix of `mvhd` and `tkhd`. */
const MATRIX = join([
  u32(0x00010000),
  u32(0),
  u32(0),
  u32(0),
  u32(0x00010000),
  u32(0),
  u32(0),
  u32(0),
  u32(0x40000000),
]);

/** The two bytes of an AAC `AudioSpecificConfig` (ISO/IEC 14496-3). */
export function audioSpecificConfig(audio: AudioConfig): Uint8Array {
  const index = SAMPLE_RATES.indexOf(audio.sampleRate);
  if (index < 0) throw new RangeError(`no AAC sampling index for ${audio.sampleRate} Hz`);
  return new Uint8Array([
    (audio.objectType << 3) | (index >> 1),
    ((index & 1) << 7) | (audio.channels << 3),
  ]);
}

function avcC(video: VideoConfig): Uint8Array {
  return box(
    "avcC",
    u8(1),
    u8(video.sps[1]),
    u8(video.sps[2]),
    u8(video.sps[3]),
    u8(0xff), // 4-byte NAL lengths
    u8(0xe1),
    u16(video.sps.byteLength),
    video.sps,
    u8(1),
    u16(video.pps.byteLength),
    video.pps,
  );
}

function avc1(video: VideoConfig): Uint8Array {
  return box(
    "avc1",
    zeros(6),
    u16(1), // data_reference_index
    zeros(16),
    u16(video.width),
    u16(video.height),
    u32(0x00480000),
    u32(0x00480000),
    u32(0),
    u16(1), // frame_count
    zeros(32), // compressorname
    u16(0x0018),
    u16(0xffff),
    avcC(video),
  );
}

/** An MPEG-4 descriptor: tag, one length byte (all of ours are short), body. */
function descriptor(tag: number, ...body: Uint8Array[]): Uint8Array {
  const content = join(body);
  return join([u8(tag), u8(content.byteLength), content]);
}

function mp4a(audio: AudioConfig): Uint8Array {
  const esds = fullBox(
    "esds",
    0,
    0,
    descriptor(
      0x03,
      u16(AUDIO_TRACK_ID),
      u8(0),
      descriptor(
        0x04,
        u8(0x40), // MPEG-4 audio
        u8(0x15), // audio stream
        zeros(3), // bufferSizeDB
        u32(0),
        u32(0),
        descriptor(0x05, audioSpecificConfig(audio)),
      ),
      descriptor(0x06, u8(0x02)),
    ),
  );
  return box(
    "mp4a",
    zeros(6),
    u16(1),
    zeros(8),
    u16(audio.channels),
    u16(16),
    u16(0),
    u16(0),
    u32(audio.sampleRate * 65536),
    esds,
  );
}

function trak(id: number, timescale: number, entry: Uint8Array, video?: VideoConfig): Uint8Array {
  const tkhd = fullBox(
    "tkhd",
    0,
    3, // enabled, in movie
    u32(0),
    u32(0),
    u32(id),
    u32(0),
    u32(0), // duration
    zeros(8),
    u16(0), // layer
    u16(0), // alternate group
    u16(video ? 0 : 0x0100), // volume
    u16(0),
    MATRIX,
    u32((video?.width ?? 0) * 65536),
    u32((video?.height ?? 0) * 65536),
  );
  const mdhd = fullBox("mdhd", 0, 0, u32(0), u32(0), u32(timescale), u32(0), u16(0x55c4), u16(0));
  const hdlr = fullBox(
    "hdlr",
    0,
    0,
    u32(0),
    fourCc(video ? "vide" : "soun"),
    zeros(12),
    new TextEncoder().encode(video ? "VideoHandler\0" : "SoundHandler\0"),
  );
  const header = video ? fullBox("vmhd", 0, 1, zeros(8)) : fullBox("smhd", 0, 0, zeros(4));
  const dinf = box("dinf", fullBox("dref", 0, 0, u32(1), fullBox("url ", 0, 1)));
  const stbl = box(
    "stbl",
    fullBox("stsd", 0, 0, u32(1), entry),
    fullBox("stts", 0, 0, u32(0)),
    fullBox("stsc", 0, 0, u32(0)),
    fullBox("stsz", 0, 0, u32(0), u32(0)),
    fullBox("stco", 0, 0, u32(0)),
  );
  return box("trak", tkhd, box("mdia", mdhd, hdlr, box("minf", header, dinf, stbl)));
}

function trex(id: number): Uint8Array {
  return fullBox("trex", 0, 0, u32(id), u32(1), u32(0), u32(0), u32(0));
}

/** The `ftyp` and `moov` of a stream with these tracks. */
export function initSegment(config: TrackConfig): Uint8Array {
  if (config.video === undefined && config.audio === undefined) {
    throw new RangeError("an init segment needs a track");
  }
  const ftyp = box(
    "ftyp",
    fourCc("iso6"),
    u32(0),
    fourCc("iso6"),
    fourCc("cmfc"),
    fourCc("isom"),
    fourCc("mp41"),
  );
  const mvhd = fullBox(
    "mvhd",
    0,
    0,
    u32(0),
    u32(0),
    u32(1000),
    u32(0),
    u32(0x00010000),
    u16(0x0100),
    zeros(10),
    MATRIX,
    zeros(24),
    u32(AUDIO_TRACK_ID + 1),
  );
  const traks: Uint8Array[] = [];
  const trexes: Uint8Array[] = [];
  if (config.video !== undefined) {
    traks.push(trak(VIDEO_TRACK_ID, VIDEO_TIMESCALE, avc1(config.video), config.video));
    trexes.push(trex(VIDEO_TRACK_ID));
  }
  if (config.audio !== undefined) {
    traks.push(trak(AUDIO_TRACK_ID, config.audio.sampleRate, mp4a(config.audio)));
    trexes.push(trex(AUDIO_TRACK_ID));
  }
  return join([ftyp, box("moov", mvhd, ...traks, box("mvex", ...trexes))]);
}
