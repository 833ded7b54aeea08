/**
 * The RFC 6381 codec strings of a transport stream (for `MediaSource.isTypeSupported` and
 * `addSourceBuffer`), read from its PMT, the H.264 SPS and the first ADTS header.
 *
 * This module runs in browsers and in Deno alike.
 *
 * @example
 * ```ts ignore
 * import { detectCodecs } from "./codecs.ts";
 * const codecs = detectCodecs(firstFragment);
 * // { video: "avc1.64001f", audio: "mp4a.40.2", codecs: "avc1.64001f,mp4a.40.2", ... }
 * mediaSource.addSourceBuffer(`video/mp4; codecs="${codecs.codecs}"`);
 * ```
 * @module
 */

import { aacCodecString, findAdtsHeader } from "./adts.ts";
import { avcCodecString, findAvcSps } from "./nal.ts";
import { packetPayload, packetPid, payloadUnitStart, SYNC_BYTE, TS_PACKET_SIZE } from "./packet.ts";
import { parsePesHeader } from "./pes.ts";
import { ProgramTracker } from "./program.ts";
import { StreamType } from "./psi.ts";

/** The codecs found in a transport stream. */
export interface MediaCodecs {
  /** Video codec string (`avc1.PPCCLL`), when the stream has H.264 video and its SPS was found. */
  video?: string;
  /** Audio codec string (`mp4a.40.N`), when the stream has AAC audio and a frame was found. */
  audio?: string;
  /** The found codec strings joined with commas, video first (what goes in `codecs="..."`). */
  codecs: string;
  /** `stream_type` of the video stream in the PMT, when there is one. */
  videoStreamType?: number;
  /** `stream_type` of the audio stream in the PMT, when there is one. */
  audioStreamType?: number;
}

/** Bytes of elementary stream collected per track before giving up on finding its header. */
const MAX_ES_BYTES = 512 * 1024;

/**
 * Reads the codecs of the MPEG-TS bytes in `data` (a fragment, or the start of a stream: it must
 * hold the PAT, the PMT and the first frames). Returns null when no PMT is found. A track whose
 * codec cannot be named (not H.264 or AAC, or its header is not in `data`) is left out of
 * `codecs`; its `*StreamType` still says it is there.
 */
export function detectCodecs(data: Uint8Array): MediaCodecs | null {
  const program = new ProgramTracker();
  const es = new Map<number, { chunks: Uint8Array[]; size: number }>();
  for (let offset = 0; offset + TS_PACKET_SIZE <= data.byteLength; offset += TS_PACKET_SIZE) {
    if (data[offset] !== SYNC_BYTE) return program.pmt === null ? null : finish(program, es);
    const packet = data.subarray(offset, offset + TS_PACKET_SIZE);
    if (program.observe(packet)) continue;
    const pid = packetPid(packet);
    if (pid !== program.video?.pid && pid !== program.audio?.pid) continue;
    let payload = packetPayload(packet);
    let track = es.get(pid);
    if (payloadUnitStart(packet)) {
      const header = parsePesHeader(payload);
      if (header === null) continue;
      payload = payload.subarray(header.payloadOffset);
      if (track === undefined) es.set(pid, track = { chunks: [], size: 0 });
    }
    if (track === undefined || track.size > MAX_ES_BYTES) continue;
    track.chunks.push(payload);
    track.size += payload.byteLength;
  }
  return program.pmt === null ? null : finish(program, es);
}

function joined(track: { chunks: Uint8Array[]; size: number } | undefined): Uint8Array {
  const result = new Uint8Array(track?.size ?? 0);
  let offset = 0;
  for (const chunk of track?.chunks ?? []) {
    result.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return result;
}

function finish(
  program: ProgramTracker,
  es: Map<number, { chunks: Uint8Array[]; size: number }>,
): MediaCodecs {
  const result: MediaCodecs = { codecs: "" };
  const video = program.video;
  if (video !== undefined) {
    result.videoStreamType = video.type;
    if (video.type === StreamType.H264) {
      const sps = findAvcSps(joined(es.get(video.pid)));
      if (sps !== undefined) result.video = avcCodecString(sps);
    }
  }
  const audio = program.audio;
  if (audio !== undefined) {
    result.audioStreamType = audio.type;
    if (audio.type === StreamType.AAC_ADTS) {
      const header = findAdtsHeader(joined(es.get(audio.pid)));
      if (header !== null) result.audio = aacCodecString(header);
    }
  }
  result.codecs = [result.video, result.audio].filter((codec) => codec !== undefined).join(",");
  return result;
}
