/**
 * ffmpeg for `publish`: what the input is, which renditions to make, the arguments that turn them
 * into low-latency MPEG-TS (H.264 + AAC) on pipes, and the child process.
 *
 * Inputs: a file played at its native rate (`-re`, optionally looped), a live listener (RTMP or
 * SRT, for OBS and other encoders), any other ffmpeg input (a device, a URL), or the built-in test
 * pattern: a moving picture with the wall clock (UTC, milliseconds) and the frame number burned in,
 * and a 1 kHz tone that beeps once a second.
 *
 * Codecs are copied when the input already has H.264 and AAC (and one rendition is asked for);
 * otherwise x264 encodes with `-preset veryfast -tune zerolatency`, closed GOPs, no B-frames and
 * a keyframe at every multiple of the fragment duration, identical across renditions.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ffmpegArgs } from "./ffmpeg.ts";
 * const args = ffmpegArgs({
 *   input: { kind: "file", path: "in.mp4" },
 *   renditions: [{ streamId: "room/a" }],
 *   encode: false,
 *   fragmentDuration: 2,
 *   outputs: ["pipe:1"],
 * });
 * assert(args.includes("-re") && args.includes("copy"));
 * ```
 * @module
 */

import { parseRenditionId } from "../shared/rendition.ts";
import { ExitCode, PublishError } from "./publish_error.ts";

/** What to publish. */
export type PublishInput =
  /** A media file, played at its native rate; `loop` starts it again at its end. */
  | { kind: "file"; path: string; loop?: boolean }
  /** The built-in test pattern: wall clock, frame counter, tone. */
  | { kind: "test"; size?: string; fps?: number }
  /** A listener an encoder pushes to: `rtmp://0.0.0.0:1935/live/key` or `srt://0.0.0.0:9000?mode=listener`. */
  | { kind: "listen"; url: string }
  /** Any other ffmpeg input: a device (`format` `v4l2`, url `/dev/video0`), a network URL... */
  | { kind: "url"; url: string; format?: string };

/** One output stream: its id and, when encoding, its picture and bitrate. */
export interface Rendition {
  /** Stream id it is published as. */
  streamId: string;
  /** Picture size `WIDTHxHEIGHT`. @default the input's (the test pattern: 1280x720) */
  size?: string;
  /** Frames per second. @default the input's (the test pattern: 30) */
  fps?: number;
  /** Video bitrate (ffmpeg syntax). @default "2500k" */
  videoBitrate?: string;
}

/**
 * What to encode for a stream id in the usual `WxH-FPS~KBPS` form (`room/stream/1280x720-30~2500`,
 * read by `shared/rendition.ts`); just the id when it is not in that form.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renditionFromStreamId } from "./ffmpeg.ts";
 * const rendition = renditionFromStreamId("room/s/640x360-30~800");
 * assert(rendition.size === "640x360" && rendition.fps === 30 && rendition.videoBitrate === "800k");
 * ```
 */
export function renditionFromStreamId(streamId: string): Rendition {
  const id = parseRenditionId(streamId);
  if (id === null) return { streamId };
  const rendition: Rendition = { streamId, size: `${id.width}x${id.height}` };
  if (id.fps !== undefined) rendition.fps = id.fps;
  if (id.kbps !== undefined) rendition.videoBitrate = `${id.kbps}k`;
  return rendition;
}

/** Everything {@linkcode ffmpegArgs} needs. */
export interface FfmpegPlan {
  /** The input. */
  input: PublishInput;
  /** One or more renditions (more than one needs `encode`). */
  renditions: Rendition[];
  /** Encode with x264/AAC (true) or copy the codecs (false). */
  encode: boolean;
  /** Fragment duration in seconds (the keyframe interval when encoding). */
  fragmentDuration: number;
  /** Where each rendition goes (`pipe:1`, `tcp://127.0.0.1:PORT`), in rendition order. */
  outputs: string[];
  /** x264 preset. @default "veryfast" */
  preset?: string;
  /** AAC bitrate. @default "128k" */
  audioBitrate?: string;
}

const FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf";

function fontExists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** The filter that burns the wall clock (from the real-time clock at render) and frame number in. */
export function clockOverlay(fps: number): string {
  const text = String
    .raw`%{pts\:gmtime\:0\:%H\\\:%M\\\:%S}.%{eif\:mod(t*1000\,1000)\:d\:3} UTC  #%{frame_num}`;
  const face = fontExists(FONT) ? `fontfile=${FONT}` : "font=monospace";
  const font = `${face}:fontsize=h/14:fontcolor=white:box=1:boxcolor=black@0.65:boxborderw=12`;
  return [
    "settb=AVTB",
    "setpts=RTCTIME",
    `drawtext=${font}:x=(w-text_w)/2:y=h-text_h-h/10:text='${text}'`,
    `setpts=N/(${fps}*TB)`,
  ].join(",");
}

function inputArgs(input: PublishInput): string[] {
  switch (input.kind) {
    case "file":
      return ["-re", ...(input.loop ? ["-stream_loop", "-1"] : []), "-i", input.path];
    case "test": {
      const size = input.size ?? "1280x720";
      const fps = input.fps ?? 30;
      return [
        "-re",
        "-f",
        "lavfi",
        "-i",
        `testsrc2=size=${size}:rate=${fps}`,
        "-re",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=1000:beep_factor=4:sample_rate=48000",
      ];
    }
    case "listen":
      return input.url.startsWith("rtmp") ? ["-listen", "1", "-i", input.url] : [
        "-i",
        input.url.includes("mode=")
          ? input.url
          : `${input.url}${input.url.includes("?") ? "&" : "?"}mode=listener`,
      ];
    case "url":
      return [...(input.format ? ["-f", input.format] : []), "-i", input.url];
  }
}

/** Keyframes at every multiple of the fragment duration, the same in every rendition. */
function videoEncodeArgs(
  plan: FfmpegPlan,
  rendition: Rendition,
  fps: number | undefined,
): string[] {
  const bitrate = rendition.videoBitrate ?? "2500k";
  const args = [
    "-c:v",
    "libx264",
    "-preset",
    plan.preset ?? "veryfast",
    "-tune",
    "zerolatency",
    "-pix_fmt",
    "yuv420p",
    "-bf",
    "0",
    "-flags",
    "+cgop",
    "-sc_threshold",
    "0",
    "-force_key_frames",
    `expr:gte(t,n_forced*${plan.fragmentDuration})`,
    "-b:v",
    bitrate,
    "-maxrate",
    bitrate,
    "-bufsize",
    bitrate,
  ];
  if (fps !== undefined) {
    const gop = String(Math.max(1, Math.round(fps * plan.fragmentDuration)));
    args.push("-g", gop, "-keyint_min", gop);
  }
  return args;
}

/** MPEG-TS written as it is made: one AAC frame per PES, every packet flushed to the pipe. */
const MUXER_ARGS = ["-f", "mpegts", "-pes_payload_size", "0", "-flush_packets", "1"];

/** The ffmpeg command line (without the program) for a plan. */
export function ffmpegArgs(plan: FfmpegPlan): string[] {
  const { input, renditions } = plan;
  if (renditions.length !== plan.outputs.length) throw new RangeError("one output per rendition");
  if (renditions.length > 1 && !plan.encode) {
    throw new PublishError(ExitCode.USAGE, "several renditions need encoding (not --encode copy)");
  }
  const args = ["-hide_banner", "-loglevel", "error", "-nostats", "-nostdin", ...inputArgs(input)];
  const audio = input.kind === "test" ? "1:a" : "0:a:0?";
  if (!plan.encode) {
    args.push("-map", "0:v:0?", "-map", "0:a:0?", "-c", "copy", ...MUXER_ARGS, plan.outputs[0]);
    return args;
  }
  const inputFps = input.kind === "test" ? input.fps ?? 30 : undefined;
  const overlay = input.kind === "test" ? `${clockOverlay(inputFps!)},` : "";
  const chains = renditions.map((rendition, index) => {
    const steps: string[] = [];
    if (rendition.size !== undefined) steps.push(`scale=${rendition.size.replace("x", ":")}`);
    if (rendition.fps !== undefined) steps.push(`fps=${rendition.fps}`);
    return `[s${index}]${steps.length > 0 ? steps.join(",") : "null"}[v${index}]`;
  });
  const split = renditions.length > 1
    ? `split=${renditions.length}${renditions.map((_, index) => `[s${index}]`).join("")}`
    : "null[s0]";
  args.push("-filter_complex", `[0:v]${overlay}${split};${chains.join(";")}`);
  for (const [index, rendition] of renditions.entries()) {
    args.push(
      "-map",
      `[v${index}]`,
      "-map",
      audio,
      ...videoEncodeArgs(plan, rendition, rendition.fps ?? inputFps),
      "-c:a",
      "aac",
      "-b:a",
      plan.audioBitrate ?? "128k",
      "-ar",
      "48000",
      ...MUXER_ARGS,
      plan.outputs[index],
    );
  }
  return args;
}

/** Runs `ffmpeg -version`; throws `FFMPEG_NOT_FOUND` with a clear message when it cannot run. */
export async function checkFfmpeg(ffmpeg = "ffmpeg"): Promise<string> {
  try {
    const result = await new Deno.Command(ffmpeg, {
      args: ["-version"],
      stdout: "piped",
      stderr: "null",
      stdin: "null",
    }).output();
    if (!result.success) throw new Error(`exit code ${result.code}`);
    return new TextDecoder().decode(result.stdout).split("\n")[0];
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound
      ? "not found"
      : String(error instanceof Error ? error.message : error);
    throw new PublishError(
      ExitCode.FFMPEG_NOT_FOUND,
      `cannot run ffmpeg (${ffmpeg}): ${reason}. Install ffmpeg (for example 'apt-get install ffmpeg') or pass --ffmpeg PATH`,
    );
  }
}

/** The codecs of a file's first video and audio streams, from ffprobe. */
export interface InputCodecs {
  /** Video codec name (`h264`, `hevc`...), if the file has video. */
  video?: string;
  /** Audio codec name (`aac`, `mp3`...), if the file has audio. */
  audio?: string;
}

/** Checks that a file can be read and is media; returns its codecs. Throws `INPUT_UNREADABLE`. */
export async function probeFile(path: string, ffprobe = "ffprobe"): Promise<InputCodecs> {
  try {
    const info = await Deno.stat(path);
    if (!info.isFile) throw new Error("not a file");
    (await Deno.open(path, { read: true })).close();
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound
      ? "no such file"
      : error instanceof Error
      ? error.message
      : String(error);
    throw new PublishError(ExitCode.INPUT_UNREADABLE, `cannot read input ${path}: ${reason}`);
  }
  let result: Deno.CommandOutput;
  try {
    result = await new Deno.Command(ffprobe, {
      args: ["-v", "error", "-of", "json", "-show_entries", "stream=codec_type,codec_name", path],
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
    }).output();
  } catch {
    throw new PublishError(
      ExitCode.FFMPEG_NOT_FOUND,
      `cannot run ffprobe (${ffprobe}): install ffmpeg or pass --ffprobe PATH`,
    );
  }
  const stderr = new TextDecoder().decode(result.stderr).trim();
  if (!result.success) {
    throw new PublishError(
      ExitCode.INPUT_UNREADABLE,
      `cannot read input ${path}: ${lastLine(stderr) || "ffprobe failed"}`,
    );
  }
  const streams: { codec_type: string; codec_name: string }[] =
    JSON.parse(new TextDecoder().decode(result.stdout)).streams ?? [];
  const codecs: InputCodecs = {
    video: streams.find((stream) => stream.codec_type === "video")?.codec_name,
    audio: streams.find((stream) => stream.codec_type === "audio")?.codec_name,
  };
  if (codecs.video === undefined && codecs.audio === undefined) {
    throw new PublishError(
      ExitCode.INPUT_UNREADABLE,
      `cannot read input ${path}: it has no audio or video`,
    );
  }
  return codecs;
}

/** Whether codecs can be copied into the stream as they are (H.264 and/or AAC only). */
export function canCopy(codecs: InputCodecs): boolean {
  return (codecs.video === undefined || codecs.video === "h264") &&
    (codecs.audio === undefined || codecs.audio === "aac");
}

/** The last non-empty line of a text. */
export function lastLine(text: string): string {
  return text.trim().split("\n").filter((line) => line.trim() !== "").at(-1)?.trim() ?? "";
}

/** A running ffmpeg: its stdout (the first output), its stderr so far, and how to stop it. */
export class FfmpegProcess {
  readonly #child: Deno.ChildProcess;
  #stderr = "";
  #stderrDone: Promise<void>;
  /** The first output (`pipe:1`). */
  readonly stdout: ReadableStream<Uint8Array>;
  /** Resolves with the exit status. */
  readonly status: Promise<Deno.CommandStatus>;

  /** Starts ffmpeg with `args`. Throws `FFMPEG_NOT_FOUND` when it cannot be started. */
  constructor(args: string[], ffmpeg = "ffmpeg") {
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(ffmpeg, { args, stdin: "null", stdout: "piped", stderr: "piped" })
        .spawn();
    } catch (error) {
      throw new PublishError(
        ExitCode.FFMPEG_NOT_FOUND,
        `cannot run ffmpeg (${ffmpeg}): ${error instanceof Error ? error.message : error}`,
      );
    }
    this.#child = child;
    this.stdout = this.#child.stdout;
    this.#stderrDone = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of child.stderr) {
        this.#stderr = (this.#stderr + decoder.decode(chunk, { stream: true })).slice(-8192);
      }
    })().catch(() => {});
    this.status = this.#child.status.then(async (status) => {
      await this.#stderrDone;
      return status;
    });
  }

  /** The pid. */
  get pid(): number {
    return this.#child.pid;
  }

  /** What ffmpeg wrote to stderr (the last 8 KiB). */
  get stderr(): string {
    return this.#stderr;
  }

  /** Asks ffmpeg to finish (SIGTERM: it flushes and writes the end of its outputs), then kills it after `graceMs`. */
  async stop(graceMs = 3000): Promise<Deno.CommandStatus> {
    try {
      this.#child.kill("SIGTERM");
    } catch { /* already gone */ }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        try {
          this.#child.kill("SIGKILL");
        } catch { /* gone */ }
        resolve();
      }, graceMs);
    });
    const status = await Promise.race([this.status, killed.then(() => this.status)]);
    clearTimeout(timer);
    return status;
  }
}
