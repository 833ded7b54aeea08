/**
 * Error codes carried by the `E` message, and the one error type that the protocol code throws.
 *
 * This module runs in browsers and in Deno alike.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ErrorCode, isRetriable, ProtocolError } from "./errors.ts";
 *
 * const error = new ProtocolError(ErrorCode.STREAM_NOT_FOUND, "no such stream");
 * assert(error.code === "STREAM_NOT_FOUND");
 * assert(isRetriable(error.code));
 * ```
 * @module
 */

/** Every error code a node sends in an `E` message. Codes are stable; messages are for humans. */
export const ErrorCode = {
  /** A message arrived that is not allowed at this point (binary without `F`, a second `PULL`...). */
  PROTOCOL_ERROR: "PROTOCOL_ERROR",
  /** A text message could not be parsed, or a known parameter has a bad value. */
  INVALID_MESSAGE: "INVALID_MESSAGE",
  /** A text or binary message is larger than the node accepts. */
  MESSAGE_TOO_LARGE: "MESSAGE_TOO_LARGE",
  /** No first message in time, or nothing received for too long. */
  TIMEOUT: "TIMEOUT",
  /** The stream id is empty or longer than 255 characters. */
  INVALID_STREAM_ID: "INVALID_STREAM_ID",
  /** The token is missing, malformed, expired, badly signed, or for another action or stream. */
  AUTH_FAILED: "AUTH_FAILED",
  /** This node does not accept publishers. */
  PUSH_NOT_ALLOWED: "PUSH_NOT_ALLOWED",
  /** No source knows the stream. */
  STREAM_NOT_FOUND: "STREAM_NOT_FOUND",
  /** Another publisher took the stream over; this one is closed. */
  PUBLISHER_REPLACED: "PUBLISHER_REPLACED",
  /** The publisher (or the upstream node) went away without `CLOSE`. */
  PUBLISHER_LOST: "PUBLISHER_LOST",
  /** The stream's publisher now publishes on another node: pull again (this node relays it). */
  STREAM_MOVED: "STREAM_MOVED",
  /** The spectator could not keep up with the stream even after skipping fragments. */
  SLOW_SPECTATOR: "SLOW_SPECTATOR",
  /** A relay chain leads back to a node it already passed through, or is too long. */
  LOOP_DETECTED: "LOOP_DETECTED",
  /** The upstream node could not be reached or failed. */
  UPSTREAM_ERROR: "UPSTREAM_ERROR",
  /** Too many requests or connections from one address. */
  RATE_LIMITED: "RATE_LIMITED",
  /** The node has reached its connection cap. */
  SERVER_FULL: "SERVER_FULL",
  /** The page origin of a browser connection is not allowed. */
  ORIGIN_NOT_ALLOWED: "ORIGIN_NOT_ALLOWED",
  /** The node's fragment buffers are full. */
  BUFFER_MEMORY_LIMIT: "BUFFER_MEMORY_LIMIT",
  /** The node is shutting down; reconnect (to another node where there is one). */
  SHUTTING_DOWN: "SHUTTING_DOWN",
  /** An unexpected failure inside the node. */
  INTERNAL_ERROR: "INTERNAL_ERROR",
} as const;

/** One of the values of {@linkcode ErrorCode}. */
export type ErrorCode = typeof ErrorCode[keyof typeof ErrorCode];

const RETRIABLE: ReadonlySet<string> = new Set<string>([
  ErrorCode.TIMEOUT,
  ErrorCode.STREAM_NOT_FOUND,
  ErrorCode.PUBLISHER_LOST,
  ErrorCode.STREAM_MOVED,
  ErrorCode.SLOW_SPECTATOR,
  ErrorCode.UPSTREAM_ERROR,
  ErrorCode.RATE_LIMITED,
  ErrorCode.SERVER_FULL,
  ErrorCode.BUFFER_MEMORY_LIMIT,
  ErrorCode.SHUTTING_DOWN,
  ErrorCode.INTERNAL_ERROR,
]);

/**
 * Whether a client that received this code may try again later (with back-off).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isRetriable } from "./errors.ts";
 * assert(isRetriable("SHUTTING_DOWN"));
 * assert(!isRetriable("AUTH_FAILED"));
 * ```
 */
export function isRetriable(code: string): boolean {
  return RETRIABLE.has(code);
}

/** Codes that say the stream itself ended (as opposed to one connection to it). */
const STREAM_ENDS: ReadonlySet<string> = new Set<string>([
  ErrorCode.PUBLISHER_LOST,
  ErrorCode.STREAM_NOT_FOUND,
]);

/**
 * Whether a pulling connection that ended with this code was cut off from a stream that may still
 * be live: a retry may pick the stream up where it was (a relay resumes, an old player is simply
 * disconnected). False for the stream's own end (`PUBLISHER_LOST`, `STREAM_NOT_FOUND`) and for
 * refusals that will not pass.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isRecoverable } from "./errors.ts";
 * assert(isRecoverable("SHUTTING_DOWN") && isRecoverable("STREAM_MOVED"));
 * assert(!isRecoverable("PUBLISHER_LOST") && !isRecoverable("AUTH_FAILED"));
 * ```
 */
export function isRecoverable(code: string): boolean {
  return isRetriable(code) && !STREAM_ENDS.has(code);
}

/**
 * The error thrown by protocol code: it carries the code to send in an `E` message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ProtocolError } from "./errors.ts";
 * try {
 *   throw new ProtocolError("INVALID_MESSAGE", "bad duration");
 * } catch (error) {
 *   assert(error instanceof ProtocolError && error.code === "INVALID_MESSAGE");
 * }
 * ```
 */
export class ProtocolError extends Error {
  /** The code to send in the `E` message. */
  readonly code: ErrorCode;

  /** Creates an error with a code from {@linkcode ErrorCode} and a readable message. */
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = "ProtocolError";
    this.code = code;
  }
}

const KNOWN: ReadonlySet<string> = new Set<string>(Object.values(ErrorCode));

/**
 * Whether `code` is one of {@linkcode ErrorCode}. Codes from elsewhere (an upstream, an older
 * node) are arbitrary text: check before using one as a metric label or a decision.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isErrorCode } from "./errors.ts";
 * assert(isErrorCode("LOOP_DETECTED") && !isErrorCode("WHATEVER\n"));
 * ```
 */
export function isErrorCode(code: string): code is ErrorCode {
  return KNOWN.has(code);
}
