/**
 * Reading our LL-HLS media playlists in tests: the numbers, segments, parts, the preload hint and
 * the init segments (`EXT-X-MAP`), and the rules of draft-pantos-hls-rfc8216bis a test can check
 * (part durations within `PART-TARGET`, parts adding up to their segment, hold-backs).
 *
 * @example
 * ```ts ignore
 * const playlist = parsePlaylist(await (await fetch(url)).text());
 * checkRules(playlist);
 * ```
 * @module
 */

import { assert, assertAtMost, assertEquals } from "./assert.ts";

/** What a media playlist says, for the rules. */
export interface Parsed {
  /** `EXT-X-TARGETDURATION`. */
  targetDuration: number;
  /** `PART-TARGET`. */
  partTarget: number;
  /** `PART-HOLD-BACK`. */
  partHoldBack: number;
  /** `HOLD-BACK`. */
  holdBack: number;
  /** `EXT-X-MEDIA-SEQUENCE`. */
  mediaSequence: number;
  /** Complete segments, with their part durations and the init (`EXT-X-MAP`) they follow. */
  segments: { msn: number; duration: number; uri: string; parts: number[]; map?: string }[];
  /** Part durations of the segment in progress. */
  openParts: number[];
  /** The part URIs, in order (complete segments' and the open one's). */
  partUris: string[];
  /** The preload hint's URI. */
  hint?: string;
  /** The `EXT-X-MAP` URIs, in order. */
  maps: string[];
  /** `EXT-X-ENDLIST`. */
  ended: boolean;
}

/** Parses a media playlist. */
export function parsePlaylist(text: string): Parsed {
  const number = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? NaN);
  const parsed: Parsed = {
    targetDuration: number(/#EXT-X-TARGETDURATION:(\d+)/),
    partTarget: number(/PART-TARGET=([\d.]+)/),
    partHoldBack: number(/PART-HOLD-BACK=([\d.]+)/),
    holdBack: number(/[^-]HOLD-BACK=([\d.]+)/),
    mediaSequence: number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/),
    segments: [],
    openParts: [],
    partUris: [],
    hint: /PRELOAD-HINT:TYPE=PART,URI="([^"]+)"/.exec(text)?.[1],
    maps: [],
    ended: text.includes("#EXT-X-ENDLIST"),
  };
  let duration = 0;
  let parts: number[] = [];
  let map: string | undefined;
  for (const line of text.split("\n")) {
    if (line.startsWith("#EXT-X-PART:")) {
      parts.push(Number(/DURATION=([\d.]+)/.exec(line)![1]));
      parsed.partUris.push(/URI="([^"]+)"/.exec(line)![1]);
    } else if (line.startsWith("#EXT-X-MAP:")) {
      map = /URI="([^"]+)"/.exec(line)![1];
      parsed.maps.push(map);
    } else if (line.startsWith("#EXTINF:")) duration = parseFloat(line.slice(8));
    else if (line !== "" && !line.startsWith("#")) {
      const msn = parsed.mediaSequence + parsed.segments.length;
      parsed.segments.push({ msn, duration, uri: line, parts, map });
      parts = [];
    }
  }
  parsed.openParts = parts;
  return parsed;
}

/** Checks the rules of draft-pantos-hls-rfc8216bis a test can check. */
export function checkRules(playlist: Parsed): void {
  assertAtMost(playlist.partTarget, 1, "PART-TARGET");
  assert(playlist.partHoldBack >= 2 * playlist.partTarget, "PART-HOLD-BACK >= 2 part targets");
  assert(playlist.holdBack >= 3 * playlist.targetDuration, "HOLD-BACK >= 3 target durations");
  for (const segment of playlist.segments) {
    assertAtMost(Math.round(segment.duration), playlist.targetDuration, "EXTINF <= TARGETDURATION");
    for (const part of segment.parts) assertAtMost(part, playlist.partTarget, "part duration");
    if (segment.parts.length > 0) {
      const sum = segment.parts.reduce((a, b) => a + b, 0);
      assertAtMost(Math.abs(sum - segment.duration), 0.05, "parts add up to their segment");
      for (const part of segment.parts.slice(0, -1)) {
        assert(part >= 0.85 * playlist.partTarget * 0.9, `part ${part} near the target`);
      }
    }
  }
  for (const part of playlist.openParts) assertAtMost(part, playlist.partTarget, "part duration");
}

/** What ffprobe read of a recording: a line per stream (`codec,width,height,frames`), and errors. */
export interface Recording {
  /** `h264,640,360,150`, `aac,,,` (ffprobe's csv: codec, width, height, frames decoded). */
  streams: string[];
  /** What ffprobe wrote to stderr while decoding every frame ("" when nothing went wrong). */
  errors: string;
}

/**
 * Records 5 s of `playlistUrl` with `ffmpeg -c copy` into a temporary `.suffix` file (asserting
 * that ffmpeg succeeds), decodes every frame of it with ffprobe, and removes the file.
 */
export async function recordWithFfmpeg(playlistUrl: string, suffix: string): Promise<Recording> {
  const out = await Deno.makeTempFile({ suffix: `.${suffix}` });
  try {
    const run = (command: string, args: string[]) =>
      new Deno.Command(command, { args, stdout: "piped", stderr: "piped" }).output();
    const record = await run("ffmpeg", [
      ...["-hide_banner", "-loglevel", "error", "-y", "-i", playlistUrl],
      ...["-c", "copy", "-t", "5", out],
    ]);
    assertEquals(record.code, 0, new TextDecoder().decode(record.stderr));
    const probe = await run("ffprobe", [
      ...["-v", "error", "-count_frames"],
      ...["-show_entries", "stream=codec_name,nb_read_frames,width,height", "-of", "csv=p=0", out],
    ]);
    const errors = new TextDecoder().decode(probe.stderr);
    assertEquals(probe.code, 0, errors);
    return { streams: new TextDecoder().decode(probe.stdout).trim().split("\n"), errors };
  } finally {
    await Deno.remove(out).catch(() => {});
  }
}
