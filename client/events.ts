/**
 * The player's events and the small typed emitter behind `addEventListener`.
 *
 * Handlers receive the payload itself, not an `Event`: `error` handlers get an `Error`, as pages
 * written for the existing player expect (`player.addEventListener("error", (error) => ...)`).
 * A handler that throws is reported to the console and does not stop the player.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Emitter } from "./events.ts";
 * const emitter = new Emitter<{ ping: (n: number) => void }>();
 * let got = 0;
 * emitter.add("ping", (n) => got = n);
 * emitter.emit("ping", 3);
 * assert(got === 3);
 * ```
 * @module
 */

import type { PlayerStats } from "./stats.ts";

/** What the player is doing. */
export type PlayerState =
  | "idle"
  | "connecting"
  | "buffering"
  | "playing"
  | "stalled"
  | "reconnecting"
  | "ended"
  | "failed"
  | "destroyed";

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
}

/** Names of the player's events. */
export type HlsWebSocketEventName = keyof HlsWebSocketEventMap;

// deno-lint-ignore no-explicit-any
type AnyHandler = (...args: any[]) => void;

/** A map of listener sets keyed by event name, calling handlers with the payload. */
export class Emitter<Map extends { [K in keyof Map]: AnyHandler }> {
  #listeners = new globalThis.Map<keyof Map, Set<AnyHandler>>();

  /** Adds a handler (once per handler, like `EventTarget`). */
  add<K extends keyof Map>(name: K, handler: Map[K]): void {
    if (typeof handler !== "function") return;
    let set = this.#listeners.get(name);
    if (set === undefined) this.#listeners.set(name, set = new Set());
    set.add(handler);
  }

  /** Removes a handler. */
  remove<K extends keyof Map>(name: K, handler: Map[K]): void {
    this.#listeners.get(name)?.delete(handler);
  }

  /** Whether anyone listens to `name`. */
  has(name: keyof Map): boolean {
    return (this.#listeners.get(name)?.size ?? 0) > 0;
  }

  /** Calls every handler of `name` with the payload; a throwing handler is logged and skipped. */
  emit<K extends keyof Map>(name: K, ...args: Parameters<Map[K]>): void {
    const set = this.#listeners.get(name);
    if (set === undefined) return;
    for (const handler of [...set]) {
      try {
        handler(...args);
      } catch (error) {
        console.error(`HlsWebSocket: a '${String(name)}' handler threw`, error);
      }
    }
  }

  /** Removes every handler. */
  clear(): void {
    this.#listeners.clear();
  }
}
