/**
 * The player's public events and errors: the map of every event to its handler, the payloads
 * (`LatencyInfo`, `ReconnectInfo`) and `PlayerError`.
 *
 * Handlers receive the payload itself, not an `Event`: `error` handlers get an `Error`, as pages
 * written for the existing player expect (`player.addEventListener("error", (error) => ...)`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PlayerError } from "./events.ts";
 * const error = new PlayerError("TIMEOUT", "no media");
 * assert(error instanceof Error && error.code === "TIMEOUT" && error.fatal);
 * ```
 * @module
 */

import type { Level, LevelSwitchedInfo } from "./levels.ts";
import type { PlayerState } from "./player_state.ts";
import type { PlayerStats } from "./stats.ts";

/** An error the player reports; `fatal` ones end playback. */
export class PlayerError extends Error {
  /** A stable code: an `E` code from the node (`AUTH_FAILED`...) or one of the player's own. */
  readonly code: string;
  /** Whether the player gave up. Only fatal errors reach the `error` event. */
  readonly fatal: boolean;

  /** Creates an error with a code. */
  constructor(code: string, message: string, fatal = true) {
    super(message);
    this.name = "PlayerError";
    this.code = code;
    this.fatal = fatal;
  }
}

/** The payload of `latency`, sent about four times a second while media plays. */
export interface LatencyInfo {
  /** End-to-end latency in seconds: now minus the publisher's clock of the frame on screen; null when the stream carries no clock. */
  latency: number | null;
  /** Seconds between the frame on screen and the newest media received (what the player controls). */
  delay: number;
  /** The delay the player is holding now, in seconds (the `delay` option, raised when the stream needs more). */
  targetDelay: number;
  /** Seconds of media buffered ahead of the frame on screen. */
  bufferLength: number;
  /** The playback rate in use (above 1 while catching up). */
  playbackRate: number;
}

/** The payload of `reconnect`. */
export interface ReconnectInfo {
  /** Attempt number since the last working connection, from 1. */
  attempt: number;
  /** Milliseconds until the attempt. */
  delayMs: number;
  /** Why the connection was lost. */
  reason: string;
}

/** Every event of {@linkcode HlsWebSocket} and its handler. */
export interface HlsWebSocketEventMap {
  /** The player gave up (fatal error). Same as the existing player. */
  error: (error: Error) => void;
  /** The connection closed for good (stream ended, fatal error or `destroy`). */
  close: () => void;
  /** No more fragments will come and the media source has ended. */
  ended: () => void;
  /** Extension: the player's state changed. */
  state: (state: PlayerState, previous: PlayerState) => void;
  /** Extension: latency measurements, about four times a second while playing. */
  latency: (info: LatencyInfo) => void;
  /** Extension: a stats snapshot, once a second. */
  stats: (stats: PlayerStats) => void;
  /** Extension: the connection was lost and will be retried. */
  reconnect: (info: ReconnectInfo) => void;
  /** Extension: the first frame was decoded; the argument is milliseconds since `start()`. */
  firstframe: (timeToFirstFrameMs: number) => void;
  /**
   * hls.js name (`group` pulls): another level arrives, from the first media of it on (the
   * picture follows after the delay). Fires at the start too (`reason` `start`, `previous` -1).
   */
  levelswitched: (info: LevelSwitchedInfo) => void;
  /** hls.js name (`group` pulls): the node listed the group's levels (`levels` is now set). */
  levelsupdated: (levels: readonly Level[]) => void;
}

/** Names of the player's events. */
export type HlsWebSocketEventName = keyof HlsWebSocketEventMap;
