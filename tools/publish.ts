/**
 * `deno task publish`: publishes a file, a live input or the test pattern to a node, through
 * ffmpeg, the MPEG-TS cutter and the publisher client. `publish()` is the same thing as a
 * function, for programs (the demo publishes the test pattern with it).
 *
 * ffmpeg writes MPEG-TS to a pipe (one per rendition: stdout, then local TCP connections); each
 * output is cut into fragments at keyframes and parts of about 200 ms, sent the moment they are
 * complete. The stream ends with `CLOSE` when the input ends or the signal aborts (Ctrl-C,
 * SIGTERM): ffmpeg is asked to finish, the fragment in progress is completed and sent first.
 * Failures are {@linkcode PublishError}s with an exit code (see `publish_error.ts`).
 *
 * @example
 * ```ts ignore
 * import { publish } from "./tools/publish.ts";
 * const controller = new AbortController();
 * const summary = await publish({
 *   url: "ws://127.0.0.1:8080/",
 *   streamId: "demo/test",
 *   secret: Deno.env.get("PUSH_SECRET"),
 *   input: { kind: "test" },
 * }, controller.signal);
 * ```
 * @module
 */

import type { PublisherErrorEvent } from "../shared/publisher/publisher.ts";
import {
  canCopy,
  checkFfmpeg,
  ffmpegArgs,
  FfmpegProcess,
  lastLine,
  probeFile,
  type PublishInput,
  type Rendition,
} from "./ffmpeg.ts";
import { ExitCode, exitCodeForPublisherError, PublishError } from "./publish_error.ts";
import { describeRefusal, type Lane, makeLane } from "./publish_lane.ts";
import type { PublishOptions } from "./publish_options.ts";

export { ExitCode, PublishError } from "./publish_error.ts";
export type { PublishInput, Rendition } from "./ffmpeg.ts";
export type { PublishOptions } from "./publish_options.ts";

/** What one stream did. */
export interface PublishedStream {
  /** Stream id. */
  streamId: string;
  /** Fragments cut. */
  fragments: number;
  /** Parts cut. */
  parts: number;
  /** Bytes ffmpeg wrote for this stream. */
  bytesFromFfmpeg: number;
  /** Bytes handed to the publisher (ffmpeg's, plus tables put at fragment starts, minus what came before the first keyframe). */
  bytesCut: number;
  /** Sum of the fragment durations in seconds. */
  mediaSeconds: number;
  /** Fragments the publisher dropped (while the node was away). */
  droppedFragments: number;
  /** Reconnections. */
  reconnects: number;
}

/** The result of a publish run that ended without error. */
export interface PublishSummary {
  /** `ended`: the input ended; `stopped`: the signal aborted. */
  reason: "ended" | "stopped";
  /** One entry per rendition. */
  streams: PublishedStream[];
  /** Whether the codecs were copied (else encoded). */
  copied: boolean;
}

function renditionsOf(options: PublishOptions): Rendition[] {
  if (options.renditions !== undefined && options.renditions.length > 0) return options.renditions;
  if (options.streamId === undefined) {
    throw new PublishError(ExitCode.USAGE, "a stream id is required");
  }
  return [{ streamId: options.streamId, videoBitrate: options.videoBitrate }];
}

async function decideEncoding(options: PublishOptions, renditions: Rendition[]): Promise<boolean> {
  const input = options.input;
  const mode = options.encode ?? "auto";
  const scaled = renditions.length > 1 ||
    renditions.some((item) => item.size !== undefined || item.fps !== undefined);
  const codecs = input.kind === "file" ? await probeFile(input.path, options.ffprobe) : undefined;
  if (mode === "copy") {
    if (input.kind === "test") {
      throw new PublishError(
        ExitCode.USAGE,
        "the test pattern is always encoded (drop --encode copy)",
      );
    }
    if (scaled) {
      throw new PublishError(
        ExitCode.USAGE,
        "sizes, frame rates and several renditions need encoding",
      );
    }
    return false;
  }
  if (mode === "encode" || input.kind === "test" || input.kind === "url" || scaled) return true;
  return codecs !== undefined && !canCopy(codecs);
}

function aborted(signal: AbortSignal | undefined): Promise<"aborted"> {
  return new Promise((resolve) => {
    if (signal === undefined) return;
    if (signal.aborted) return resolve("aborted");
    signal.addEventListener("abort", () => resolve("aborted"), { once: true });
  });
}

/** Local TCP listeners that ffmpeg writes renditions after the first to. */
function tcpOutputs(count: number): { listeners: Deno.Listener[]; urls: string[] } {
  const listeners: Deno.Listener[] = [];
  for (let index = 0; index < count; index++) {
    listeners.push(Deno.listen({ hostname: "127.0.0.1", port: 0 }));
  }
  return {
    listeners,
    urls: listeners.map((listener) => `tcp://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`),
  };
}

/**
 * Publishes until the input ends or `signal` aborts (then the stream ends cleanly with `CLOSE`).
 * Throws {@linkcode PublishError} with a readable message and an exit code.
 */
export async function publish(
  options: PublishOptions,
  signal?: AbortSignal,
): Promise<PublishSummary> {
  const renditions = renditionsOf(options);
  if (options.token !== undefined && renditions.length > 1) {
    throw new PublishError(
      ExitCode.USAGE,
      "a token is for one stream id: give the secret for several renditions",
    );
  }
  if (options.token === undefined && options.secret === undefined) {
    throw new PublishError(ExitCode.USAGE, "a push token or the push secret is required");
  }
  await checkFfmpeg(options.ffmpeg);
  const encode = await decideEncoding(options, renditions);
  // Renditions share sequence numbers: fragment n of each starts at the same keyframe.
  const firstSeq = Math.floor(Date.now() / 100);
  const lanes = renditions.map((rendition) => makeLane(options, rendition, firstSeq, signal));
  const closeAll = () => Promise.all(lanes.map((lane) => lane.publisher.close()));
  const anyFatal = Promise.race(lanes.map((lane) => lane.fatal));
  try {
    // Connect first, so that the first fragment is not held (or dropped) while connecting.
    for (const lane of lanes) lane.publisher.start();
    const started = await Promise.race([
      Promise.all(lanes.map((lane) => lane.publisher.ready())).then(
        () => "ready" as const,
        () => "failed" as const,
      ),
      anyFatal.then(() => "failed" as const),
      aborted(signal),
    ]);
    if (started === "aborted") {
      await closeAll();
      return { reason: "stopped", streams: lanes.map(summarize), copied: !encode };
    }
    if (started === "failed") {
      const event = await anyFatal;
      throw new PublishError(
        exitCodeForPublisherError(event.code),
        describeRefusal(event),
        event.code,
      );
    }
    return await run(options, lanes, encode, anyFatal, signal);
  } finally {
    await closeAll();
  }
}

async function run(
  options: PublishOptions,
  lanes: Lane[],
  encode: boolean,
  anyFatal: Promise<PublisherErrorEvent>,
  signal: AbortSignal | undefined,
): Promise<PublishSummary> {
  const { listeners, urls } = tcpOutputs(lanes.length - 1);
  const input = options.input;
  const args = ffmpegArgs({
    input: input.kind === "test" && lanes.length > 1 && input.size === undefined
      ? { ...input, size: lanes[0].rendition.size }
      : input,
    renditions: lanes.map((lane) => lane.rendition),
    encode,
    fragmentDuration: options.fragmentDuration ?? 2,
    outputs: ["pipe:1", ...urls],
    preset: options.preset,
    audioBitrate: options.audioBitrate,
  });
  if (input.kind === "listen") options.onLog?.(`waiting for an encoder to connect to ${input.url}`);
  let ffmpeg: FfmpegProcess;
  try {
    ffmpeg = new FfmpegProcess(args, options.ffmpeg);
  } catch (error) {
    for (const listener of listeners) listener.close();
    throw error;
  }
  const pumps = lanes.map(async (lane, index) => {
    if (index === 0) return await lane.pump.run(ffmpeg.stdout);
    const listener = listeners[index - 1];
    const connection = await Promise.race([listener.accept(), ffmpeg.status.then(() => null)]);
    listener.close();
    if (connection !== null) await lane.pump.run(connection.readable);
  });
  const finished = Promise.all(pumps).then(() => "ended" as const);
  const outcome = await Promise.race([finished, aborted(signal), anyFatal]);
  if (outcome !== "ended") {
    // Stop: ffmpeg finishes its outputs, the pumps complete their last fragment.
    await ffmpeg.stop();
    await finished.catch(() => {});
  }
  const status = await ffmpeg.status;
  for (const listener of listeners) {
    try {
      listener.close();
    } catch { /* closed */ }
  }
  if (typeof outcome === "object") {
    throw new PublishError(
      exitCodeForPublisherError(outcome.code),
      describeRefusal(outcome),
      outcome.code,
    );
  }
  const stopped = outcome === "aborted" ||
    (await Promise.race([aborted(signal), delay(200)])) === "aborted";
  const fragments = lanes.reduce((sum, lane) => sum + lane.pump.stats.fragments, 0);
  if (!status.success && !stopped) {
    const reason = lastLine(ffmpeg.stderr) || `ffmpeg exited with code ${status.code}`;
    if (fragments === 0) {
      throw new PublishError(
        ExitCode.INPUT_UNREADABLE,
        `cannot read input ${describeInput(input)}: ${reason}`,
      );
    }
    throw new PublishError(ExitCode.FFMPEG_FAILED, `ffmpeg failed: ${reason}`);
  }
  if (fragments === 0 && !stopped) {
    const reason = lastLine(ffmpeg.stderr) || "it produced no video keyframe";
    throw new PublishError(
      ExitCode.INPUT_UNREADABLE,
      `nothing to publish from ${describeInput(input)}: ${reason}`,
    );
  }
  return { reason: stopped ? "stopped" : "ended", streams: lanes.map(summarize), copied: !encode };
}

function summarize(lane: Lane): PublishedStream {
  const pumped = lane.pump.stats;
  const published = lane.publisher.stats;
  return {
    streamId: lane.rendition.streamId,
    fragments: pumped.fragments,
    parts: pumped.parts,
    bytesFromFfmpeg: pumped.bytesIn,
    bytesCut: pumped.bytesOut,
    mediaSeconds: Math.round(pumped.mediaSeconds * 1e6) / 1e6,
    droppedFragments: published.fragmentsDropped,
    reconnects: published.reconnects,
  };
}

function describeInput(input: PublishInput): string {
  switch (input.kind) {
    case "file":
      return input.path;
    case "test":
      return "the test pattern";
    default:
      return input.url;
  }
}

function delay(ms: number): Promise<"timeout"> {
  return new Promise((resolve) => setTimeout(() => resolve("timeout"), ms));
}

/** The command: arguments, signals, status line, exit code. */
async function main(): Promise<number> {
  const { parsePublishArgs, PUBLISH_USAGE } = await import("./publish_args.ts");
  const { StatusLine } = await import("./status.ts");
  const encoder = new TextEncoder();
  const write = (text: string) => Deno.stderr.writeSync(encoder.encode(text));
  let options: PublishOptions | null;
  try {
    options = parsePublishArgs(Deno.args, Deno.env.toObject());
  } catch (error) {
    write(`error: ${error instanceof Error ? error.message : error}\n`);
    return error instanceof PublishError ? error.exitCode : ExitCode.INTERNAL;
  }
  if (options === null) {
    write(PUBLISH_USAGE);
    return ExitCode.OK;
  }
  const status = new StatusLine({ tty: Deno.stderr.isTerminal(), write });
  const controller = new AbortController();
  const stop = () => controller.abort();
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  try {
    const summary = await publish({
      ...options,
      onStatus: (item) => status.update(item),
      onLog: (line) => status.log(line),
    }, controller.signal);
    status.done();
    for (const stream of summary.streams) {
      write(
        `${stream.streamId}: ${summary.reason}, ${stream.fragments} fragments (${stream.mediaSeconds} s), ` +
          `${stream.parts} parts, ${stream.bytesFromFfmpeg} bytes from ffmpeg, ${stream.bytesCut} bytes sent` +
          `${stream.droppedFragments > 0 ? `, ${stream.droppedFragments} dropped` : ""}` +
          `${stream.reconnects > 0 ? `, ${stream.reconnects} reconnections` : ""}\n`,
      );
    }
    return ExitCode.OK;
  } catch (error) {
    status.clear();
    if (error instanceof PublishError) {
      write(`error: ${error.message}\n`);
      return error.exitCode;
    }
    write(`error: unexpected failure: ${error instanceof Error ? error.stack : error}\n`);
    return ExitCode.INTERNAL;
  } finally {
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
  }
}

if (import.meta.main) Deno.exit(await main());
