/**
 * What a page can show about playback: one snapshot type, and the sliding-window counters behind
 * the rates in it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RateWindow } from "./stats.ts";
 * const window = new RateWindow(1000);
 * window.add(0, 1000);
 * window.add(500, 1000);
 * assert(window.perSecond(999) === 2000); // both samples are in the last second
 * assert(window.perSecond(1000) === 1000); // the one at 0 has left the window
 * ```
 * @module
 */

import type { PlayerState } from "./player_state.ts";

/** A snapshot of the player, from the `stats` getter and the `stats` event. */
export interface PlayerStats {
  /** What the player is doing. */
  state: PlayerState;
  /** End-to-end latency in seconds (publisher clock to screen), or null when unknown. */
  latency: number | null;
  /** Seconds behind the newest media received. */
  delay: number;
  /** The delay the player holds now, in seconds. */
  targetDelay: number;
  /** Whether the delay is held on the node's clock (`clock` granted; else behind the newest media). */
  clock: boolean;
  /** Seconds buffered ahead of the playhead. */
  bufferLength: number;
  /** Received media bitrate over the last five seconds, in bits per second. */
  bitrate: number;
  /** Media bytes received since `start()`. */
  bytesReceived: number;
  /** Frames decoded and never shown: dropped by the browser (MSE, `getVideoPlaybackQuality`), or late or skipped by a catch-up (WebCodecs). */
  droppedFrames: number;
  /** Frames decoded. */
  decodedFrames: number;
  /** Which media path plays: `webcodecs` or `mse`, once media is attached. */
  playback: "webcodecs" | "mse" | null;
  /** WebCodecs: frames decoded only to reach the live edge at a start or a jump (not counted as dropped). */
  skippedFrames: number;
  /** WebCodecs: audio frames played. */
  audioFrames: number;
  /** WebCodecs: seconds audio reached the element after video of the same media time (mean), or null. */
  avOffset: number | null;
  /** Reconnections since `start()`. */
  reconnects: number;
  /** Times playback ran out of media. */
  stalls: number;
  /** Jumps to live (latency too high, gaps, stalls). */
  jumps: number;
  /** Whether the node sends parts of fragments. */
  parts: boolean;
  /** MSE only: `transmux` or `direct`, once media arrived (null on WebCodecs). */
  mediaPath: "transmux" | "direct" | null;
  /** Whether transmuxing runs in a Web Worker. */
  worker: boolean;
  /** The codecs of the stream, as given to MSE. */
  codecs: string;
  /** Milliseconds from `start()` to the first decoded frame, once there was one. */
  timeToFirstFrame: number | null;
  /** Mean milliseconds from the arrival of a fragment or part to the end of its append, last five seconds. */
  appendLatency: number | null;
  /** Current playback rate. */
  playbackRate: number;
  /** `group` pulls: the rendition id arriving now, or null (not a group pull, or no media yet). */
  rendition: string | null;
  /** `group` pulls: the node's reason for the last switch (`start`, `down`, `up`, `pin`), or null. */
  switchReason: string | null;
  /** `group` pulls: rendition switches after the first rendition. */
  levelSwitches: number;
}

/** Sums values over a sliding window of time. */
export class RateWindow {
  #windowMs: number;
  #times: number[] = [];
  #values: number[] = [];
  #sum = 0;

  /** A window of `windowMs` milliseconds. */
  constructor(windowMs: number) {
    this.#windowMs = windowMs;
  }

  /** Adds a value observed at time `at` (ms). */
  add(at: number, value: number): void {
    this.#times.push(at);
    this.#values.push(value);
    this.#sum += value;
  }

  #expire(now: number): void {
    while (this.#times.length > 0 && this.#times[0] <= now - this.#windowMs) {
      this.#times.shift();
      this.#sum -= this.#values.shift()!;
    }
  }

  /** The sum over the window ending at `now`, per second. */
  perSecond(now: number): number {
    this.#expire(now);
    return this.#sum * 1000 / this.#windowMs;
  }

  /** The mean of the values in the window ending at `now`, or null when empty. */
  mean(now: number): number | null {
    this.#expire(now);
    return this.#values.length === 0 ? null : this.#sum / this.#values.length;
  }
}
