/**
 * How `publish` fails: one error type with a readable message and the exit code the command ends
 * with. The codes are documented in `documentation/publishing.md`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ExitCode, PublishError } from "./publish_error.ts";
 * const error = new PublishError(ExitCode.FFMPEG_NOT_FOUND, "ffmpeg was not found");
 * assert(error.exitCode === 3);
 * ```
 * @module
 */

/** Exit codes of `deno task publish` (and `exitCode` of {@linkcode PublishError}). */
export const ExitCode = {
  /** The stream ended: the input ended, or Ctrl-C / SIGTERM; `CLOSE` was sent. */
  OK: 0,
  /** An unexpected failure (a bug). */
  INTERNAL: 1,
  /** Bad arguments. */
  USAGE: 2,
  /** ffmpeg (or ffprobe) cannot be run. */
  FFMPEG_NOT_FOUND: 3,
  /** The input cannot be read (missing file, not media, nothing came from ffmpeg). */
  INPUT_UNREADABLE: 4,
  /** The node refused the token (`AUTH_FAILED`). */
  AUTH_FAILED: 5,
  /** The node could not be reached in time. */
  NODE_UNREACHABLE: 6,
  /** The node refused the stream for another reason (`PUSH_NOT_ALLOWED`, `INVALID_STREAM_ID`...). */
  PUSH_REFUSED: 7,
  /** Another publisher took the stream over (`PUBLISHER_REPLACED`). */
  REPLACED: 8,
  /** ffmpeg failed after media had flowed. */
  FFMPEG_FAILED: 9,
} as const;

/** One of the values of {@linkcode ExitCode}. */
export type ExitCode = typeof ExitCode[keyof typeof ExitCode];

/** A failure of `publish`, with the message to print and the exit code. */
export class PublishError extends Error {
  /** What the command exits with. */
  readonly exitCode: ExitCode;
  /** The node's error code, when the node refused. */
  readonly code: string | undefined;

  /** Creates the error. */
  constructor(exitCode: ExitCode, message: string, code?: string) {
    super(message);
    this.name = "PublishError";
    this.exitCode = exitCode;
    this.code = code;
  }
}

/** The exit code for a fatal publisher error code. */
export function exitCodeForPublisherError(code: string): ExitCode {
  switch (code) {
    case "AUTH_FAILED":
      return ExitCode.AUTH_FAILED;
    case "UNREACHABLE":
      return ExitCode.NODE_UNREACHABLE;
    case "PUBLISHER_REPLACED":
      return ExitCode.REPLACED;
    default:
      return ExitCode.PUSH_REFUSED;
  }
}
