/**
 * Real continuous MPEG-TS streams for tests of the cutter and the publisher: ffmpeg's test pattern
 * and tone written by its MPEG-TS muxer (as the `publish` command gets them), cached per run.
 *
 * @example
 * ```ts ignore
 * const ts = await tsStream({ seconds: 4, gopSeconds: 1 });
 * assertEquals(ts[0], 0x47);
 * ```
 * @module
 */

import { madeOnce } from "./made_once.ts";

/** What stream to make. */
export interface TsStreamOptions {
  /** Total seconds. @default 4 */
  seconds?: number;
  /** Frames per second. @default 30 */
  fps?: number;
  /** Keyframe interval in seconds. @default 1 */
  gopSeconds?: number;
  /** Include video. @default true */
  video?: boolean;
  /** Include audio. @default true */
  audio?: boolean;
  /** Video codec. @default "h264" */
  codec?: "h264" | "hevc";
  /** B-frames (H.264 only; the default zerolatency tune has none). @default 0 */
  bframes?: number;
  /** Video size. @default "320x180" */
  size?: string;
  /** Extra muxer arguments (for example `["-mpegts_flags", "-resend_headers"]`). @default [] */
  muxerArgs?: string[];
}

/** The ffmpeg arguments that write the stream to stdout. */
export function tsStreamArgs(options: Required<TsStreamOptions>): string[] {
  const args = ["-hide_banner", "-loglevel", "error", "-nostdin"];
  if (options.video) {
    args.push("-f", "lavfi", "-i", `testsrc2=size=${options.size}:rate=${options.fps}`);
  }
  if (options.audio) args.push("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000");
  args.push("-t", String(options.seconds));
  if (options.video) {
    const gop = String(Math.round(options.gopSeconds * options.fps));
    if (options.codec === "h264") {
      args.push("-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency");
      if (options.bframes > 0) {
        args.push("-bf", String(options.bframes), "-x264-params", "b-adapt=0");
      }
    } else {
      args.push("-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error");
    }
    args.push("-pix_fmt", "yuv420p", "-g", gop, "-keyint_min", gop, "-sc_threshold", "0");
  }
  if (options.audio) args.push("-c:a", "aac", "-b:a", "64k");
  args.push(...options.muxerArgs, "-f", "mpegts", "pipe:1");
  return args;
}

async function make(options: Required<TsStreamOptions>): Promise<Uint8Array> {
  const result = await new Deno.Command("ffmpeg", {
    args: tsStreamArgs(options),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!result.success) throw new Error(`ffmpeg failed: ${new TextDecoder().decode(result.stderr)}`);
  return result.stdout;
}

const madeOnceByOptions = madeOnce(make);

/** A continuous MPEG-TS stream made by ffmpeg (once per set of options per test process). */
export function tsStream(options: TsStreamOptions = {}): Promise<Uint8Array> {
  const full: Required<TsStreamOptions> = {
    seconds: 4,
    fps: 30,
    gopSeconds: 1,
    video: true,
    audio: true,
    codec: "h264",
    bframes: 0,
    size: "320x180",
    muxerArgs: [],
    ...options,
  };
  return madeOnceByOptions(full);
}

/** Runs ffprobe on TS bytes (from stdin); returns its JSON of streams and frames, or throws. */
export async function probe(
  data: Uint8Array,
  entries = "stream=codec_name,codec_type:frame=media_type,key_frame,pts_time",
): Promise<
  { streams: { codec_name: string; codec_type: string }[]; frames?: Record<string, unknown>[] }
> {
  const child = new Deno.Command("ffprobe", {
    args: ["-v", "error", "-of", "json", "-show_entries", entries, "-f", "mpegts", "-i", "pipe:0"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(data).catch(() => {});
  await writer.close().catch(() => {});
  const result = await child.output();
  const stderr = new TextDecoder().decode(result.stderr);
  if (!result.success) throw new Error(`ffprobe failed: ${stderr}`);
  return JSON.parse(new TextDecoder().decode(result.stdout));
}

/**
 * Splits a TS stream of ffmpeg's (video PID 0x100, audio 0x101) where a muxer that flushes each
 * PES (`-flush_packets 1`) writes: before every media PES start.
 */
export function muxerWrites(ts: Uint8Array): Uint8Array[] {
  const writes: Uint8Array[] = [];
  let start = 0;
  for (let offset = 188; offset < ts.byteLength; offset += 188) {
    const pid = ((ts[offset + 1] & 0x1f) << 8) | ts[offset + 2];
    const unitStart = (ts[offset + 1] & 0x40) !== 0;
    if ((pid === 0x100 || pid === 0x101) && unitStart) {
      writes.push(ts.subarray(start, offset));
      start = offset;
    }
  }
  writes.push(ts.subarray(start));
  return writes;
}
