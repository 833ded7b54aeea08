/**
 * The options of `publish()` and of `deno task publish` (parsed by `publish_args.ts`): where to
 * publish, what, and how.
 *
 * @module
 */

import type { BackoffOptions } from "../shared/backoff.ts";
import type { TsPart } from "../shared/mpegts/cutter.ts";
import type { PublishInput, Rendition } from "./ffmpeg.ts";
import type { StreamStatus } from "./status.ts";

/** Options of `publish()`. */
export interface PublishOptions {
  /** WebSocket URL of the node. */
  url: string;
  /** The stream id (one rendition). Either this or `renditions`. */
  streamId?: string;
  /** Several renditions of the input, each its own stream id, keyframes aligned (needs encoding). */
  renditions?: Rendition[];
  /** A push token (for one stream id; with renditions, use `secret`). */
  token?: string;
  /** The push secret: tokens are signed here and renewed. */
  secret?: string;
  /** What to publish. */
  input: PublishInput;
  /** Target fragment duration in seconds. @default 2 */
  fragmentDuration?: number;
  /** Target part duration in seconds, or `"frame"`: a part per video frame. @default "frame" */
  partDuration?: number | "frame";
  /** Send parts to nodes that accept them. @default true */
  parts?: boolean;
  /** `auto` copies H.264/AAC files and live listeners and encodes the rest; `copy`; `encode`. @default "auto" */
  encode?: "auto" | "copy" | "encode";
  /** Video bitrate when encoding one rendition. @default "2500k" */
  videoBitrate?: string;
  /** AAC bitrate when encoding. @default "128k" */
  audioBitrate?: string;
  /** x264 preset. @default "veryfast" */
  preset?: string;
  /** ffmpeg program. @default "ffmpeg" */
  ffmpeg?: string;
  /** ffprobe program. @default "ffprobe" */
  ffprobe?: string;
  /** Give up when the node has not accepted the stream within this many ms. @default 10000 */
  startTimeoutMs?: number;
  /** Reconnection delays. @default the publisher's */
  backoff?: BackoffOptions;
  /** Called with new numbers for a stream (for a status line). */
  onStatus?: (status: StreamStatus) => void;
  /** Called with readable log lines (state changes, errors that are retried). */
  onLog?: (line: string) => void;
  /** Called with every part cut, before it is sent (for measurements). */
  onPart?: (streamId: string, part: TsPart) => void;
}
