/**
 * Reading what ffmpeg's HLS muxer wrote, for the latency benchmark: the segments of a media
 * playlist with their `#EXT-X-PROGRAM-DATE-TIME`, and the first video PTS of a segment (to match
 * it with the fragment our publisher cut at the same keyframe).
 *
 * @example
 * ```ts ignore
 * const { segments } = await readPlaylist("/tmp/hls/live.m3u8");
 * const pts = firstVideoPts(await Deno.readFile(`/tmp/hls/${segments[0].uri}`));
 * ```
 * @module
 */

import {
  packetPayload,
  packetPid,
  payloadUnitStart,
  TS_PACKET_SIZE,
} from "../../shared/mpegts/packet.ts";
import { parsePesHeader } from "../../shared/mpegts/pes.ts";
import { ProgramTracker } from "../../shared/mpegts/program.ts";

/** One segment of a media playlist. */
export interface PlaylistSegment {
  /** Its URI, as written. */
  uri: string;
  /** `#EXTINF` duration in seconds. */
  duration: number;
  /** `#EXT-X-PROGRAM-DATE-TIME` in ms since the epoch, if given. */
  programDateTime?: number;
}

/** A media playlist. */
export interface MediaPlaylist {
  /** `#EXT-X-MEDIA-SEQUENCE`. */
  mediaSequence: number;
  /** Segments in order. */
  segments: PlaylistSegment[];
}

/** Parses the text of a media playlist. */
export function parsePlaylist(text: string): MediaPlaylist {
  const playlist: MediaPlaylist = { mediaSequence: 0, segments: [] };
  let duration = NaN;
  let programDateTime: number | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("#EXT-X-MEDIA-SEQUENCE:")) {
      playlist.mediaSequence = Number(line.slice(22));
    } else if (line.startsWith("#EXTINF:")) duration = parseFloat(line.slice(8));
    else if (line.startsWith("#EXT-X-PROGRAM-DATE-TIME:")) {
      // ffmpeg writes `+0000`; Date.parse wants `+00:00`.
      const value = line.slice(25).replace(/([+-]\d\d)(\d\d)$/, "$1:$2");
      programDateTime = Date.parse(value);
    } else if (line !== "" && !line.startsWith("#")) {
      playlist.segments.push({ uri: line, duration, programDateTime });
      duration = NaN;
      programDateTime = undefined;
    }
  }
  return playlist;
}

/** Reads and parses a playlist file. */
export async function readPlaylist(path: string): Promise<MediaPlaylist> {
  return parsePlaylist(await Deno.readTextFile(path));
}

/** The PTS (90 kHz, 33 bits) of the first video PES in an MPEG-TS segment, if any. */
export function firstVideoPts(data: Uint8Array): number | undefined {
  const program = new ProgramTracker();
  for (let offset = 0; offset + TS_PACKET_SIZE <= data.byteLength; offset += TS_PACKET_SIZE) {
    const packet = data.subarray(offset, offset + TS_PACKET_SIZE);
    if (program.observe(packet)) continue;
    const video = program.video;
    if (video === undefined || !payloadUnitStart(packet)) continue;
    if (packetPid(packet) !== video.pid) continue;
    const pts = parsePesHeader(packetPayload(packet))?.pts;
    if (pts !== undefined) return pts;
  }
  return undefined;
}
