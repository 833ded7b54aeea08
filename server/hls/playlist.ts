/**
 * The text of HLS playlists, as pure functions of what a track holds: the media playlist
 * (RFC 8216 with the Low-Latency extensions of draft-pantos-hls-rfc8216bis: `EXT-X-PART-INF`,
 * `EXT-X-SERVER-CONTROL`, `EXT-X-PART`, `EXT-X-PRELOAD-HINT`) and the multivariant playlist of a
 * rendition group. URIs are relative (`s<msn>.ts`, `p<msn>.<part>.ts`; for the fMP4 variant
 * `s<msn>.m4s`, `p<msn>.<part>.m4s` and an `EXT-X-MAP` init segment), each with the query the
 * caller signs it with.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mediaPlaylist } from "./playlist.ts";
 * const text = mediaPlaylist({
 *   targetDuration: 2, partTarget: 0.25, discontinuitySequence: 0, ended: false,
 *   segments: [{ msn: 7, duration: 2, discontinuity: false, parts: null }],
 *   current: null, partsFrom: 7, query: () => "e=1&s=x",
 * });
 * assert(text.includes("#EXT-X-MEDIA-SEQUENCE:7\n") && text.includes("s7.ts?e=1&s=x"));
 * ```
 * @module
 */

import type { HlsPart } from "./part_grouper.ts";

/** A segment as a playlist lists it. */
export interface PlaylistSegment {
  /** Media sequence number (the stream's fragment `seq`). */
  msn: number;
  /** Seconds (the fragment's duration). */
  duration: number;
  /** Wall clock of its first frame, ms since the epoch, when the stream gave one. */
  time?: number;
  /** Timestamps may not continue from the segment before. */
  discontinuity: boolean;
  /** Its HLS parts, when it was seen from part 0 and could be grouped; null otherwise. */
  parts: readonly HlsPart[] | null;
}

/** The segment being made, listed by its parts so far. */
export interface PlaylistCurrent {
  /** Its media sequence number. */
  msn: number;
  /** Wall clock of its first frame, when given. */
  time?: number;
  /** Timestamps may not continue from the segment before. */
  discontinuity: boolean;
  /** Its HLS parts so far; null when they cannot be listed (the segment comes whole). */
  parts: readonly HlsPart[] | null;
}

/** What a media playlist is made of. */
export interface MediaPlaylistInput {
  /** `EXT-X-TARGETDURATION`, whole seconds. */
  targetDuration: number;
  /** `PART-TARGET`, seconds. */
  partTarget: number;
  /** `EXT-X-DISCONTINUITY-SEQUENCE`. */
  discontinuitySequence: number;
  /** The stream ended: `EXT-X-ENDLIST`, no hint. */
  ended: boolean;
  /** Complete segments, oldest first, with consecutive numbers. */
  segments: readonly PlaylistSegment[];
  /** The segment in progress, if any (its number follows the last complete one). */
  current: PlaylistCurrent | null;
  /** Parts are listed for segments numbered from this on. */
  partsFrom: number;
  /** The signed query of a media file name (`s7.ts`, `p7.2.ts`). */
  query(name: string): string;
  /** Media file names and init segments; MPEG-TS names (and no `EXT-X-MAP`) when absent. */
  format?: MediaFormat;
}

/** How a playlist names its media: the MPEG-TS names, or fMP4 ones with an init per segment. */
export interface MediaFormat {
  /** The file name of segment `msn`. */
  segment(msn: number): string;
  /** The file name of part `index` of segment `msn`. */
  part(msn: number, index: number): string;
  /**
   * The init segment's file name for segment `msn`: an `EXT-X-MAP` is written before the first
   * segment, where the name changes, and after each discontinuity.
   */
  map?(msn: number): string | undefined;
}

/** The MPEG-TS names. */
export const TS_FORMAT: MediaFormat = { segment: segmentName, part: partName };

/** The fMP4 names (`s7.m4s`, `p7.2.m4s`), with init segments from `map`. */
export function fmp4Format(map: (msn: number) => string | undefined): MediaFormat {
  return {
    segment: (msn) => `s${msn}.m4s`,
    part: (msn, index) => `p${msn}.${index}.m4s`,
    map,
  };
}

/** Seconds with at most 5 decimals (what `EXTINF` and `DURATION` carry). */
function seconds(value: number): string {
  return String(Math.round(value * 100000) / 100000);
}

/** An ISO 8601 date with milliseconds, for `EXT-X-PROGRAM-DATE-TIME`. */
function isoDate(ms: number): string {
  return new Date(ms).toISOString();
}

/** The file name of segment `msn`. */
export function segmentName(msn: number): string {
  return `s${msn}.ts`;
}

/** The file name of part `index` of segment `msn`. */
export function partName(msn: number, index: number): string {
  return `p${msn}.${index}.ts`;
}

/** The hold-backs a playlist announces, in seconds (three part targets; three target durations). */
export function holdBacks(targetDuration: number, partTarget: number): {
  partHoldBack: number;
  holdBack: number;
} {
  return { partHoldBack: 3 * partTarget, holdBack: 3 * targetDuration };
}

/** The media playlist text. */
export function mediaPlaylist(input: MediaPlaylistInput): string {
  const { partHoldBack, holdBack } = holdBacks(input.targetDuration, input.partTarget);
  const first = input.segments[0]?.msn ?? input.current?.msn ?? 0;
  const lines = [
    "#EXTM3U",
    "#EXT-X-VERSION:9",
    `#EXT-X-TARGETDURATION:${input.targetDuration}`,
    `#EXT-X-MEDIA-SEQUENCE:${first}`,
    `#EXT-X-DISCONTINUITY-SEQUENCE:${input.discontinuitySequence}`,
    "#EXT-X-INDEPENDENT-SEGMENTS",
    `#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=${seconds(partHoldBack)},HOLD-BACK=${
      seconds(holdBack)
    }`,
    `#EXT-X-PART-INF:PART-TARGET=${seconds(input.partTarget)}`,
  ];
  const format = input.format ?? TS_FORMAT;
  let map: string | undefined;
  const head = (segment: PlaylistSegment | PlaylistCurrent) => {
    if (segment.discontinuity) lines.push("#EXT-X-DISCONTINUITY");
    const name = format.map?.(segment.msn);
    if (name !== undefined && (name !== map || segment.discontinuity)) {
      lines.push(`#EXT-X-MAP:URI="${name}?${input.query(name)}"`);
      map = name;
    }
    if (segment.time !== undefined) lines.push(`#EXT-X-PROGRAM-DATE-TIME:${isoDate(segment.time)}`);
  };
  const parts = (msn: number, list: readonly HlsPart[]) => {
    for (const part of list) {
      const name = format.part(msn, part.index);
      lines.push(
        `#EXT-X-PART:DURATION=${seconds(part.duration)},URI="${name}?${input.query(name)}"${
          part.independent ? ",INDEPENDENT=YES" : ""
        }`,
      );
    }
  };
  for (const segment of input.segments) {
    head(segment);
    if (segment.parts !== null && segment.msn >= input.partsFrom) parts(segment.msn, segment.parts);
    const name = format.segment(segment.msn);
    lines.push(`#EXTINF:${seconds(segment.duration)},`, `${name}?${input.query(name)}`);
  }
  if (input.ended) {
    lines.push("#EXT-X-ENDLIST");
  } else {
    const current = input.current;
    let hint: string | undefined;
    if (current !== null && current.parts !== null) {
      head(current);
      parts(current.msn, current.parts);
      hint = format.part(current.msn, current.parts.length);
    } else if (current === null) {
      hint = format.part((input.segments.at(-1)?.msn ?? -1) + 1, 0);
    }
    if (hint !== undefined) {
      lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${hint}?${input.query(hint)}"`);
    }
  }
  return lines.join("\n") + "\n";
}

/** One rendition of a group, for the multivariant playlist. */
export interface VariantEntry {
  /** Its media playlist's URI, relative to the multivariant playlist. */
  uri: string;
  /** Peak bits per second. */
  bandwidth: number;
  /** `WIDTHxHEIGHT`. */
  resolution?: string;
  /** Frames per second. */
  frameRate?: number;
  /** RFC 6381 codec strings, comma separated. */
  codecs?: string;
}

/** The multivariant playlist of a rendition group, highest bandwidth first. */
export function multivariantPlaylist(variants: readonly VariantEntry[]): string {
  const lines = ["#EXTM3U", "#EXT-X-VERSION:9", "#EXT-X-INDEPENDENT-SEGMENTS"];
  for (const variant of [...variants].sort((a, b) => b.bandwidth - a.bandwidth)) {
    const attributes = [`BANDWIDTH=${Math.round(variant.bandwidth)}`];
    if (variant.resolution) attributes.push(`RESOLUTION=${variant.resolution}`);
    if (variant.frameRate) attributes.push(`FRAME-RATE=${variant.frameRate.toFixed(3)}`);
    if (variant.codecs) attributes.push(`CODECS="${variant.codecs}"`);
    lines.push(`#EXT-X-STREAM-INF:${attributes.join(",")}`, variant.uri);
  }
  return lines.join("\n") + "\n";
}
