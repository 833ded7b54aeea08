/**
 * The command line of `deno task publish`: parsed into {@linkcode PublishOptions}, with one clear
 * message (exit code 2) for anything wrong. `PUSH_SECRET` and `PUSH_TOKEN` in the environment
 * stand in for `--secret` and `--token`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePublishArgs } from "./publish_args.ts";
 * const options = parsePublishArgs(["--url", "ws://127.0.0.1:8080/", "--stream", "a", "--secret", "s", "--test-pattern"], {});
 * assert(options?.input.kind === "test" && options.streamId === "a");
 * ```
 * @module
 */

import { parseTaskArgs } from "./task_args.ts";
import { renditionFromStreamId } from "./ffmpeg.ts";
import type { PublishInput } from "./ffmpeg.ts";
import type { PublishOptions } from "./publish_options.ts";
import { ExitCode, PublishError } from "./publish_error.ts";

/** The help text. */
export const PUBLISH_USAGE = `Publish a live stream to an HLS WebSocket CDN node through ffmpeg.

Usage: deno task publish -- --url WS_URL (--stream ID | --rendition ID...) (--secret S | --token T) INPUT [options]

Input (exactly one):
  --file PATH              a media file, played at its native rate (--loop: start again at its end)
  --test-pattern           a test picture with the wall clock (UTC, ms) and frame number, and a tone
  --listen URL             wait for an encoder: rtmp://0.0.0.0:1935/live/KEY or srt://0.0.0.0:9000
  --input URL              any other ffmpeg input (with --input-format FMT for a device, e.g. v4l2)

Options:
  --url WS_URL             WebSocket URL of the node (ws://host:port/)
  --stream ID              stream id to publish
  --rendition ID           publish a rendition as its own stream id (repeat; WxH-FPS~KBPS at the end of
                           the id sets its size, frame rate and bitrate, e.g. room/s/640x360-30~800)
  --secret SECRET          push secret (signs short-lived tokens); default $PUSH_SECRET
  --token TOKEN            ready push token (one stream id); default $PUSH_TOKEN
  --fragment-duration S    target fragment duration in seconds (default 2)
  --part-duration S        target part duration in seconds, or frame: a part per video frame,
                           sent as soon as ffmpeg wrote it (default frame)
  --no-parts               send whole fragments only
  --encode MODE            auto (default: copy H.264/AAC files and listeners), copy, or encode
  --bitrate RATE           video bitrate when encoding one stream (default 2500k)
  --audio-bitrate RATE     AAC bitrate when encoding (default 128k)
  --preset NAME            x264 preset (default veryfast)
  --size WxH, --fps N      test pattern picture (default 1280x720, 30)
  --ffmpeg PATH, --ffprobe PATH   programs to run (default ffmpeg, ffprobe)
  --start-timeout S        give up when the node has not accepted the stream within S seconds (default 10)
  --help                   this text

Exit codes: 0 ended, 2 usage, 3 ffmpeg missing, 4 input unreadable, 5 token refused,
6 node unreachable, 7 push refused, 8 replaced by another publisher, 9 ffmpeg failed.
`;

function usage(message: string): PublishError {
  return new PublishError(ExitCode.USAGE, `${message} (see --help)`);
}

function positiveNumber(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) {
    throw usage(`--${name} must be a positive number, got '${value}'`);
  }
  return number;
}

/** Parses the arguments; returns null for `--help`. Throws `PublishError` (usage) for bad ones. */
export function parsePublishArgs(
  args: string[],
  env: Record<string, string | undefined>,
): PublishOptions | null {
  let values;
  try {
    values = parseTaskArgs(args, {
      url: { type: "string" },
      stream: { type: "string" },
      rendition: { type: "string", multiple: true },
      secret: { type: "string" },
      token: { type: "string" },
      file: { type: "string" },
      loop: { type: "boolean" },
      "test-pattern": { type: "boolean" },
      listen: { type: "string" },
      input: { type: "string" },
      "input-format": { type: "string" },
      "fragment-duration": { type: "string" },
      "part-duration": { type: "string" },
      "no-parts": { type: "boolean" },
      encode: { type: "string" },
      bitrate: { type: "string" },
      "audio-bitrate": { type: "string" },
      preset: { type: "string" },
      size: { type: "string" },
      fps: { type: "string" },
      ffmpeg: { type: "string" },
      ffprobe: { type: "string" },
      "start-timeout": { type: "string" },
      help: { type: "boolean" },
    });
  } catch (error) {
    throw usage(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return null;
  if (values.url === undefined) throw usage("--url is required");
  if (!/^wss?:\/\//.test(values.url)) {
    throw usage(`--url must be a ws:// or wss:// URL, got '${values.url}'`);
  }
  const inputs: PublishInput[] = [];
  if (values.file !== undefined) {
    inputs.push({ kind: "file", path: values.file, loop: values.loop });
  }
  if (values["test-pattern"]) {
    if (values.size !== undefined && !/^\d+x\d+$/.test(values.size)) {
      throw usage(`--size must be WxH, got '${values.size}'`);
    }
    inputs.push({ kind: "test", size: values.size, fps: positiveNumber("fps", values.fps, 30) });
  }
  if (values.listen !== undefined) {
    if (!/^(rtmp|srt):\/\//.test(values.listen)) {
      throw usage("--listen takes an rtmp:// or srt:// URL");
    }
    inputs.push({ kind: "listen", url: values.listen });
  }
  if (values.input !== undefined) {
    inputs.push({ kind: "url", url: values.input, format: values["input-format"] });
  }
  if (inputs.length !== 1) {
    throw usage("give exactly one input: --file, --test-pattern, --listen or --input");
  }
  const renditions = (values.rendition ?? []).map(renditionFromStreamId);
  if (values.stream === undefined && renditions.length === 0) {
    throw usage("--stream or --rendition is required");
  }
  if (values.stream !== undefined && renditions.length > 0) {
    throw usage("give --stream or --rendition, not both");
  }
  const token = values.token ?? env.PUSH_TOKEN;
  const secret = values.secret ?? (token === undefined ? env.PUSH_SECRET : undefined);
  if (token === undefined && secret === undefined) throw usage("--secret or --token is required");
  const encode = values.encode ?? "auto";
  if (encode !== "auto" && encode !== "copy" && encode !== "encode") {
    throw usage(`--encode must be auto, copy or encode, got '${encode}'`);
  }
  return {
    url: values.url,
    streamId: values.stream,
    renditions: renditions.length > 0 ? renditions : undefined,
    token,
    secret,
    input: inputs[0],
    fragmentDuration: positiveNumber("fragment-duration", values["fragment-duration"], 2),
    partDuration: values["part-duration"] === undefined || values["part-duration"] === "frame"
      ? "frame"
      : positiveNumber("part-duration", values["part-duration"], 0.2),
    parts: !values["no-parts"],
    encode,
    videoBitrate: values.bitrate,
    audioBitrate: values["audio-bitrate"],
    preset: values.preset,
    ffmpeg: values.ffmpeg,
    ffprobe: values.ffprobe,
    startTimeoutMs: positiveNumber("start-timeout", values["start-timeout"], 10) * 1000,
  };
}
