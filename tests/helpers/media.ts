/**
 * Real media for tests: H.264 + AAC MPEG-TS fragments made by ffmpeg's HLS muxer, cached per run.
 *
 * @example
 * ```ts ignore
 * const fragments = await tsFragments({ seconds: 6, fragmentSeconds: 1 });
 * assertEquals(fragments[0].data[0], 0x47); // MPEG-TS sync byte
 * ```
 * @module
 */

import { madeOnce } from "./made_once.ts";
import { hasCommand } from "./commands.ts";

/** A fragment from ffmpeg: its duration (from the playlist) and bytes. */
export interface MediaFragment {
  /** Seconds, as ffmpeg wrote in `#EXTINF`. */
  duration: number;
  /** MPEG-TS bytes. */
  data: Uint8Array;
}

/** What media to make. */
export interface MediaOptions {
  /** Total seconds. @default 6 */
  seconds?: number;
  /** Target fragment length (keyframe interval). @default 1 */
  fragmentSeconds?: number;
  /** Video size. @default "320x180" */
  size?: string;
  /** Video bitrate. @default "400k" */
  videoBitrate?: string;
  /** Include video. @default true */
  video?: boolean;
  /** Include audio. @default true */
  audio?: boolean;
}

/** Whether ffmpeg is installed. */
export function hasFfmpeg(): Promise<boolean> {
  return hasCommand("ffmpeg", ["-version"]);
}

/** The ffmpeg arguments for a test pattern with a tone, as H.264/AAC. */
export function testPatternArgs(options: Required<MediaOptions>): string[] {
  const fps = 30;
  const args = ["-hide_banner", "-loglevel", "error"];
  if (options.video) {
    args.push("-f", "lavfi", "-i", `testsrc2=size=${options.size}:rate=${fps}`);
  }
  if (options.audio) args.push("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000");
  args.push("-t", String(options.seconds));
  if (options.video) {
    const gop = Math.round(options.fragmentSeconds * fps);
    args.push(
      "-c:v",
      "libx264",
      "-preset",
      "ultrafast",
      "-tune",
      "zerolatency",
      "-pix_fmt",
      "yuv420p",
      "-b:v",
      options.videoBitrate,
      "-g",
      String(gop),
      "-keyint_min",
      String(gop),
      "-sc_threshold",
      "0",
    );
  }
  if (options.audio) args.push("-c:a", "aac", "-b:a", "64k");
  return args;
}

async function make(options: Required<MediaOptions>): Promise<MediaFragment[]> {
  const dir = await Deno.makeTempDir({ prefix: "hlswscdn-media-" });
  try {
    const args = [
      ...testPatternArgs(options),
      "-f",
      "hls",
      "-hls_time",
      String(options.fragmentSeconds),
      "-hls_list_size",
      "0",
      "-hls_segment_filename",
      `${dir}/seg%04d.ts`,
      `${dir}/index.m3u8`,
    ];
    const result = await new Deno.Command("ffmpeg", { args, stdout: "null", stderr: "piped" })
      .output();
    if (!result.success) {
      throw new Error(`ffmpeg failed: ${new TextDecoder().decode(result.stderr)}`);
    }
    const playlist = await Deno.readTextFile(`${dir}/index.m3u8`);
    const fragments: MediaFragment[] = [];
    let duration = 0;
    for (const line of playlist.split("\n")) {
      if (line.startsWith("#EXTINF:")) duration = Number(line.slice(8).split(",")[0]);
      else if (line.endsWith(".ts")) {
        fragments.push({ duration, data: await Deno.readFile(`${dir}/${line.trim()}`) });
      }
    }
    return fragments;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const madeOnceByOptions = madeOnce(make);

/** MPEG-TS fragments made by ffmpeg (made once per set of options per test process). */
export function tsFragments(options: MediaOptions = {}): Promise<MediaFragment[]> {
  const full: Required<MediaOptions> = {
    seconds: 6,
    fragmentSeconds: 1,
    size: "320x180",
    videoBitrate: "400k",
    video: true,
    audio: true,
    ...options,
  };
  return madeOnceByOptions(full);
}

/** PID of the MPEG-TS packet at `offset`. */
function pid(data: Uint8Array, offset: number): number {
  return (data[offset + 1] & 0x1f) << 8 | data[offset + 2];
}

/** Whether bytes start with an MPEG-TS PAT packet (sync byte 0x47, PID 0). */
export function startsWithPat(data: Uint8Array): boolean {
  return data.length >= 188 && data[0] === 0x47 && pid(data, 0) === 0;
}

/**
 * Whether bytes are MPEG-TS that carries a PAT among its first packets (before any media), as
 * ffmpeg's segments do (SDT, PAT, PMT, then media).
 */
export function hasProgramTables(data: Uint8Array): boolean {
  if (data.length < 188 || data[0] !== 0x47) return false;
  for (let offset = 0; offset + 188 <= Math.min(data.length, 188 * 4); offset += 188) {
    if (data[offset] !== 0x47) return false;
    if (pid(data, offset) === 0) return true;
  }
  return false;
}

/** Cuts MPEG-TS bytes into `count` parts on 188-byte packet boundaries. */
export function splitIntoParts(data: Uint8Array, count: number): Uint8Array[] {
  const packets = data.byteLength / 188;
  const parts: Uint8Array[] = [];
  for (let index = 0; index < count; index++) {
    const from = Math.floor(packets * index / count) * 188;
    const to = Math.floor(packets * (index + 1) / count) * 188;
    parts.push(data.subarray(from, to));
  }
  return parts;
}

/** Byte-wise equality with a useful failure message. */
export function sameBytes(actual: Uint8Array, expected: Uint8Array): boolean {
  if (actual.byteLength !== expected.byteLength) return false;
  for (let index = 0; index < actual.byteLength; index++) {
    if (actual[index] !== expected[index]) return false;
  }
  return true;
}
