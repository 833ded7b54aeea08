/**
 * The two live sources of the ABR benchmark, the same encode for both players: the `publish`
 * command's test pattern at 1280x720 30 fps with a time code in the picture drawn before the
 * split into the two renditions of the ABR tests (`tests/helpers/publish_command.ts`: 1280x720
 * ~2500 and 640x360 ~800, x264 as `tools/ffmpeg.ts` sets it, 1 s keyframes), so every rendition
 * carries the same strip, scaled with its picture.
 *
 * - {@linkcode OurAbrSource}: the renditions pushed to a node as `publish` does (one publisher per
 *   rendition, frame parts, shared sequence numbers): the group `room/live`.
 * - {@linkcode HlsAbrSource}: ffmpeg's HLS muxer writing a master playlist (`master.m3u8`) with
 *   one variant per rendition (`v0.m3u8`, `v1.m3u8`), 1 s segments, into a folder.
 *
 * @example
 * ```ts ignore
 * const ours = await OurAbrSource.start(node.wsUrl, TEST_SECRETS.PUSH_SECRET);
 * const hls = HlsAbrSource.start(dir); // writes dir/master.m3u8
 * ```
 * @module
 */

import { ffmpegArgs, FfmpegProcess, renditionFromStreamId } from "../../tools/ffmpeg.ts";
import { type Lane, makeLane } from "../../tools/publish_lane.ts";
import { LOW_RENDITION, TOP_RENDITION } from "../helpers/publish_command.ts";
import { withTimeCodeBeforeSplit } from "./latency_timecode.ts";

/** The renditions, best first. */
export const RENDITIONS = [TOP_RENDITION, LOW_RENDITION];
/** The master playlist's name in the HLS folder. */
export const MASTER_PLAYLIST = "master.m3u8";
/** Fragment and segment duration, s. */
const FRAGMENT_SECONDS = 1;

/** The encode of both renditions with the time code, to `outputs` (MPEG-TS each). */
function encodeArgs(outputs: string[]): string[] {
  const args = ffmpegArgs({
    input: { kind: "test", size: "1280x720", fps: 30 },
    renditions: RENDITIONS.map(renditionFromStreamId),
    encode: true,
    fragmentDuration: FRAGMENT_SECONDS,
    outputs,
  });
  return withTimeCodeBeforeSplit(args, 1280);
}

/** Options of one output of `ffmpegArgs` that apply to audio (the rest are the video's). */
const AUDIO_OPTIONS = new Set(["-c:a", "-b:a", "-ar"]);

/**
 * The same encode (`encodeArgs`) into ONE HLS output with a variant per rendition: each output's
 * codec options get the rendition's stream specifier (`-b:v` → `-b:v:1`, `-preset` →
 * `-preset:v:1`), the MPEG-TS muxer options and outputs give way to the HLS muxer's.
 */
export function hlsArgs(dir: string): string[] {
  const placeholders = RENDITIONS.map((_, index) => `out${index}`);
  const args = encodeArgs(placeholders);
  const firstMap = args.indexOf("-map");
  const head = args.slice(0, firstMap);
  const maps: string[] = [];
  const codecs: string[] = [];
  let index = -1;
  let streamIndex = 0;
  for (let at = firstMap; at < args.length; at++) {
    const arg = args[at];
    if (arg === "-map") {
      const target = args[++at];
      if (target.startsWith("[v")) index = streamIndex++;
      maps.push("-map", target);
    } else if (arg === "-f") {
      // `-f mpegts -pes_payload_size 0 -flush_packets 1 outN`: the MPEG-TS output, dropped.
      while (!placeholders.includes(args[at])) at++;
    } else if (arg.startsWith("-")) {
      const name = AUDIO_OPTIONS.has(arg)
        ? `${arg}${arg.endsWith(":a") ? "" : ":a"}:${index}`
        : `${arg}${arg.endsWith(":v") ? "" : ":v"}:${index}`;
      codecs.push(name, args[++at]);
    } else {
      throw new Error(`unexpected ffmpeg argument ${arg}`);
    }
  }
  return [
    ...head,
    ...maps,
    ...codecs,
    "-f",
    "hls",
    "-hls_time",
    String(FRAGMENT_SECONDS),
    "-hls_list_size",
    "6",
    "-hls_flags",
    "program_date_time+independent_segments+delete_segments",
    "-master_pl_name",
    MASTER_PLAYLIST,
    "-var_stream_map",
    RENDITIONS.map((_, index) => `v:${index},a:${index}`).join(" "),
    "-hls_segment_filename",
    `${dir}/v%v_%05d.ts`,
    `${dir}/v%v.m3u8`,
  ];
}

/** ffmpeg writing the HLS folder. */
export class HlsAbrSource {
  readonly #ffmpeg: FfmpegProcess;

  private constructor(ffmpeg: FfmpegProcess) {
    this.#ffmpeg = ffmpeg;
  }

  /** Starts ffmpeg writing `dir` (which must exist). */
  static start(dir: string): HlsAbrSource {
    return new HlsAbrSource(new FfmpegProcess(hlsArgs(dir)));
  }

  /** What ffmpeg wrote to stderr. */
  get errors(): string {
    return this.#ffmpeg.stderr;
  }

  /** Stops ffmpeg. */
  async stop(): Promise<void> {
    await this.#ffmpeg.stop();
  }
}

/** The renditions published to a node, as the `publish` command does. */
export class OurAbrSource {
  readonly #ffmpeg: FfmpegProcess;
  readonly #lanes: Lane[];
  readonly #pumping: Promise<unknown>;

  private constructor(ffmpeg: FfmpegProcess, lanes: Lane[], listener: Deno.Listener) {
    this.#ffmpeg = ffmpeg;
    this.#lanes = lanes;
    const second = (async () => {
      const connection = await Promise.race([listener.accept(), ffmpeg.status.then(() => null)]);
      listener.close();
      if (connection !== null) await lanes[1].pump.run(connection.readable);
    })();
    this.#pumping = Promise.all([lanes[0].pump.run(ffmpeg.stdout), second]).catch(() => {});
  }

  /** Connects a publisher per rendition to the node at `url`, then starts ffmpeg. */
  static async start(url: string, secret: string): Promise<OurAbrSource> {
    const firstSeq = Math.floor(Date.now() / 100);
    const lanes = RENDITIONS.map((streamId) =>
      makeLane(
        { url, secret, input: { kind: "test" }, fragmentDuration: FRAGMENT_SECONDS },
        renditionFromStreamId(streamId),
        firstSeq,
      )
    );
    for (const lane of lanes) lane.publisher.start();
    await Promise.all(lanes.map((lane) => lane.publisher.ready()));
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const ffmpeg = new FfmpegProcess(
      encodeArgs(["pipe:1", `tcp://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`]),
    );
    return new OurAbrSource(ffmpeg, lanes, listener);
  }

  /** What ffmpeg wrote to stderr. */
  get errors(): string {
    return this.#ffmpeg.stderr;
  }

  /** Stops ffmpeg and closes the streams. */
  async stop(): Promise<void> {
    await this.#ffmpeg.stop();
    await this.#pumping;
    await Promise.all(this.#lanes.map((lane) => lane.publisher.close()));
  }
}
