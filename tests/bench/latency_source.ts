/**
 * One live source for the latency benchmark: ONE ffmpeg encode of the `publish` command's test
 * pattern (same filters and x264 settings, through `ffmpegArgs`), written by ffmpeg's `tee` muxer
 * to two places at once:
 *
 * - MPEG-TS on stdout, cut and pushed to a node by the `publish` command's own lane (cutter, media
 *   clock, `Publisher`: parts with `time` stamps, exactly as `publish()` does);
 * - ffmpeg's HLS muxer writing a folder (2 s segments, `#EXT-X-PROGRAM-DATE-TIME`), for
 *   conventional HLS players.
 *
 * Both outputs carry the same frames with the same timestamps, so the HLS program date time of a
 * segment can be compared with our publisher's `time` stamp of the fragment that starts at the
 * same PTS ({@linkcode LatencySource.clockOffsets}).
 *
 * @example
 * ```ts ignore
 * await using source = await LatencySource.start({ url: node.wsUrl, streamId: "bench", secret, hlsDir });
 * console.log(await source.clockOffsets()); // HLS PDT minus our stamp, per segment (ms)
 * ```
 * @module
 */

import { ffmpegArgs, FfmpegProcess } from "../../tools/ffmpeg.ts";
import { type Lane, makeLane } from "../../tools/publish_lane.ts";
import { firstVideoPts, readPlaylist } from "./hls_playlist.ts";
import { withTimeCode } from "./latency_timecode.ts";

/** Options of {@linkcode LatencySource.start}. */
export interface LatencySourceOptions {
  /** WebSocket URL of the node to publish to. */
  url: string;
  /** Stream id. */
  streamId: string;
  /** Push secret of the node. */
  secret: string;
  /** Folder ffmpeg's HLS muxer writes `live.m3u8` and its segments to (must exist). */
  hlsDir: string;
  /** Picture size. @default "1280x720" */
  size?: string;
  /** Frames per second. @default 30 */
  fps?: number;
  /** Fragment and HLS segment duration in seconds. @default 2 */
  fragmentDuration?: number;
  /** Part duration in seconds, or `frame` (a part per frame). @default 0.2 */
  partDuration?: number | "frame";
  /** Draw a machine-readable time code into each picture (`latency_timecode.ts`). @default false */
  timeCode?: boolean;
}

/** The name of the playlist in the HLS folder. */
export const PLAYLIST = "live.m3u8";

/**
 * Replaces the single MPEG-TS output of `ffmpegArgs` (`-f mpegts ... pipe:1`) with a `tee` to the
 * same MPEG-TS on stdout and an HLS folder, so one encode feeds both.
 */
export function teeArgs(args: string[], hlsDir: string, segmentSeconds: number): string[] {
  const at = args.lastIndexOf("-f");
  if (at < 0 || args[at + 1] !== "mpegts" || args.at(-1) !== "pipe:1") {
    throw new Error(`unexpected ffmpeg arguments: ${args.slice(-8).join(" ")}`);
  }
  const mpegts = "[f=mpegts:pes_payload_size=0:flush_packets=1]pipe\\:1";
  const hls = `[f=hls:hls_time=${segmentSeconds}:hls_list_size=6` +
    ":hls_flags=program_date_time+independent_segments+delete_segments" +
    `:hls_segment_filename=${hlsDir}/segment%05d.ts]${hlsDir}/${PLAYLIST}`;
  return [...args.slice(0, at), "-f", "tee", `${mpegts}|${hls}`];
}

/** The running encode and the publisher fed by it. */
export class LatencySource {
  readonly #ffmpeg: FfmpegProcess;
  readonly #lane: Lane;
  readonly #pumping: Promise<void>;
  readonly #hlsDir: string;
  /** PTS (90 kHz, 33 bits) → `time` stamp (ms) of every fragment start cut. */
  readonly fragmentStamps: Map<number, number>;

  private constructor(
    ffmpeg: FfmpegProcess,
    lane: Lane,
    hlsDir: string,
    stamps: Map<number, number>,
  ) {
    this.fragmentStamps = stamps;
    this.#ffmpeg = ffmpeg;
    this.#lane = lane;
    this.#hlsDir = hlsDir;
    this.#pumping = lane.pump.run(ffmpeg.stdout).catch(() => {});
  }

  /** Connects the publisher, then starts ffmpeg (as `publish()` does). */
  static async start(options: LatencySourceOptions): Promise<LatencySource> {
    const fragmentDuration = options.fragmentDuration ?? 2;
    const stamps = new Map<number, number>();
    const lane = makeLane(
      {
        url: options.url,
        streamId: options.streamId,
        secret: options.secret,
        input: { kind: "test" },
        fragmentDuration,
        partDuration: options.partDuration ?? 0.2,
        onPart: (_, part) => {
          if (part.index === 0) stamps.set(part.pts % 2 ** 33, part.time);
        },
      },
      { streamId: options.streamId },
      Math.floor(Date.now() / 100),
    );
    lane.publisher.start();
    await lane.publisher.ready();
    const args = ffmpegArgs({
      input: { kind: "test", size: options.size ?? "1280x720", fps: options.fps ?? 30 },
      renditions: [{ streamId: options.streamId }],
      encode: true,
      fragmentDuration,
      outputs: ["pipe:1"],
    });
    const width = Number((options.size ?? "1280x720").split("x")[0]);
    const coded = options.timeCode ? withTimeCode(args, width) : args;
    const ffmpeg = new FfmpegProcess(teeArgs(coded, options.hlsDir, fragmentDuration));
    return new LatencySource(ffmpeg, lane, options.hlsDir, stamps);
  }

  /** What ffmpeg wrote to stderr (for errors). */
  get ffmpegErrors(): string {
    return this.#ffmpeg.stderr;
  }

  /** Whether the node takes parts from the publisher. */
  get parts(): boolean {
    return this.#lane.publisher.nodeAcceptsParts;
  }

  /**
   * For every segment in the current playlist whose first video PTS matches a fragment our
   * publisher sent: the HLS program date time minus our `time` stamp of the same frame (ms).
   * Positive means the HLS clock is later (HLS latency reads lower than it is, against ours).
   * Keyed by segment URI.
   */
  async clockOffsets(): Promise<Map<string, number>> {
    const playlist = await readPlaylist(`${this.#hlsDir}/${PLAYLIST}`);
    const offsets = new Map<string, number>();
    for (const segment of playlist.segments) {
      if (segment.programDateTime === undefined) continue;
      let bytes: Uint8Array;
      try {
        bytes = await Deno.readFile(`${this.#hlsDir}/${segment.uri}`);
      } catch {
        continue; // deleted meanwhile
      }
      const pts = firstVideoPts(bytes);
      const stamp = pts === undefined ? undefined : this.fragmentStamps.get(pts);
      if (stamp !== undefined) offsets.set(segment.uri, segment.programDateTime - stamp);
    }
    return offsets;
  }

  /** Stops ffmpeg and closes the stream (`CLOSE`). */
  async stop(): Promise<void> {
    await this.#ffmpeg.stop();
    await this.#pumping;
    await this.#lane.publisher.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
