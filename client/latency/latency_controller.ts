/**
 * Holds the delay behind live on a media element: four times a second it estimates where live is
 * (the newest media received, moved forward by the time since it came), raises the target when
 * the stream's delivery needs more (the largest recent gap between arrivals plus a margin), and
 * applies {@linkcode decide}: a slightly faster or slower rate, or a seek. It also reports the
 * latency, from the publisher's clock when the stream carries one.
 *
 * @example
 * ```ts ignore
 * const controller = new LatencyController(video, { delay: 0.5, maxRate: 1.1 }, { info, jumped, stalled });
 * controller.arrived(bufferedEnd);      // after each append
 * controller.setDelay(1, 3);            // while playing
 * controller.destroy();
 * ```
 * @module
 */

import type { LatencyInfo } from "../events.ts";
import { decide } from "./latency_control.ts";
import { WallClock } from "./wall_clock.ts";

/** How the controller is set up. */
export interface LatencyControllerOptions {
  /** Wanted delay behind live, seconds. */
  delay: number;
  /** Jump beyond this delay (seconds); default: target + 1.5. */
  maxDelay?: number;
  /** Fastest catch-up rate. */
  maxRate: number;
  /** Tick period in ms. @default 250 */
  intervalMs?: number;
}

/** What the controller reports. */
export interface LatencyControllerHandlers {
  /** A measurement, each tick once media plays. */
  info(info: LatencyInfo): void;
  /** The controller seeked (`start`, `jump`, `gap`, `stuck`). */
  seeked?(reason: string): void;
  /** Playback ran out of media. */
  stalled?(): void;
}

/** Safety margin over the largest recent arrival gap: this many seconds plus a tenth of the gap. */
const FLOOR_MARGIN = 0.15;
/** Arrival gaps remembered to set the floor. */
const GAP_HISTORY = 24;
/** How long an early decision waits after the last append of a burst, in ms. */
const BURST_MS = 10;

/** Keeps a media element at a delay behind live. */
export class LatencyController {
  /** The publisher's clock on the media timeline. */
  readonly wallClock: WallClock = new WallClock();
  #media: HTMLMediaElement;
  #options: LatencyControllerOptions;
  #handlers: LatencyControllerHandlers;
  #timer: ReturnType<typeof setInterval>;
  #soon: ReturnType<typeof setTimeout> | undefined;
  #lastArrival: { at: number; end: number } | null = null;
  #gaps: number[] = [];
  #wholeFragmentSeconds = 0;
  #lastTime = -1;
  #lastMoveAt = performance.now();
  #stalled = false;
  #latest: LatencyInfo | null = null;

  /** Starts ticking. */
  constructor(
    media: HTMLMediaElement,
    options: LatencyControllerOptions,
    handlers: LatencyControllerHandlers,
  ) {
    this.#media = media;
    this.#options = { ...options };
    this.#handlers = handlers;
    this.#timer = setInterval(() => this.#tick(), options.intervalMs ?? 250);
  }

  /** The last measurement. */
  get latest(): LatencyInfo | null {
    return this.#latest;
  }

  /** The delay held now: the wanted one, raised to what the delivery needs. */
  get targetDelay(): number {
    const gap = Math.max(0, this.#wholeFragmentSeconds, ...this.#gaps);
    const floor = gap === 0 ? 0 : gap * 1.1 + FLOOR_MARGIN;
    return Math.max(this.#options.delay, floor);
  }

  /** The delay beyond which the controller jumps. */
  get maxDelay(): number {
    const target = this.targetDelay;
    const wanted = this.#options.maxDelay;
    return wanted === undefined ? target + 1.5 : Math.max(wanted, target + 0.5);
  }

  /** Changes the wanted delay (and maximum) while playing. */
  setDelay(delay: number, maxDelay?: number): void {
    this.#options.delay = delay;
    this.#options.maxDelay = maxDelay;
  }

  /**
   * Media was appended; `bufferedEnd` is the new end of the buffer. `more` says that chunks
   * already received are still on their way to the buffer (a burst: the newest fragment and the
   * parts made so far), so a start position is not chosen yet.
   */
  arrived(bufferedEnd: number, more = false): void {
    const now = performance.now();
    const last = this.#lastArrival;
    if (last !== null && bufferedEnd > last.end + 0.001) {
      const gap = (now - last.at) / 1000;
      // Bursts (initial fragments, resends) come faster than real time: they say nothing of delivery.
      if (gap > 0.03) {
        this.#gaps.push(Math.min(gap, 10));
        if (this.#gaps.length > GAP_HISTORY) this.#gaps.shift();
      }
    }
    if (last === null || bufferedEnd > last.end + 0.001 || bufferedEnd < last.end - 1) {
      this.#lastArrival = { at: now, end: bufferedEnd };
    }
    // No frame at the playhead (not started, or run dry): decide as soon as the burst is in the
    // buffer, not at the next tick.
    if (!more && this.#media.readyState < 2 && this.#soon === undefined) {
      this.#soon = setTimeout(() => {
        this.#soon = undefined;
        this.#tick();
      }, BURST_MS);
    }
  }

  /**
   * Media comes in whole fragments of this many seconds (the node sends no parts): the delay must
   * cover one fragment from the start, before any gap between arrivals was measured. 0 for parts.
   */
  setWholeFragments(seconds: number): void {
    this.#wholeFragmentSeconds = seconds;
  }

  /** Forgets arrival history (after a new timeline or a reconnection). */
  resetArrivals(): void {
    this.#lastArrival = null;
  }

  #typicalGap(): number {
    if (this.#gaps.length === 0) return 0;
    const sorted = [...this.#gaps].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
  }

  #ranges(): Array<[number, number]> {
    const ranges = this.#media.buffered;
    const list: Array<[number, number]> = [];
    for (let index = 0; index < ranges.length; index++) {
      list.push([ranges.start(index), ranges.end(index)]);
    }
    return list;
  }

  #tick(): void {
    const media = this.#media;
    const arrival = this.#lastArrival;
    if (arrival === null) return;
    const now = performance.now();
    const currentTime = media.currentTime;
    if (Math.abs(currentTime - this.#lastTime) > 0.001 || media.paused || media.seeking) {
      this.#lastTime = currentTime;
      this.#lastMoveAt = now;
    }
    const buffered = this.#ranges();
    const since = Math.min((now - arrival.at) / 1000, this.#typicalGap());
    const liveEdge = arrival.end + since;
    const target = this.targetDelay;
    const stuckMs = media.readyState >= 3 ? now - this.#lastMoveAt : 0;
    const decision = decide({
      currentTime,
      paused: media.paused && currentTime > 0,
      stuckMs,
      buffered,
      liveEdge,
      target,
      maxDelay: this.maxDelay,
      maxRate: this.#options.maxRate,
    });
    if (decision.seekTo !== undefined && Math.abs(decision.seekTo - currentTime) > 0.01) {
      media.currentTime = decision.seekTo;
      this.#lastMoveAt = now;
      this.#handlers.seeked?.(decision.reason);
    }
    if (Math.abs(media.playbackRate - decision.rate) > 0.005) media.playbackRate = decision.rate;
    const ahead = buffered.find(([start, end]) => currentTime >= start && currentTime <= end);
    const bufferLength = ahead ? ahead[1] - currentTime : 0;
    const starving = !media.paused && media.readyState < 3 && bufferLength < 0.1 && currentTime > 0;
    if (starving && !this.#stalled) this.#handlers.stalled?.();
    this.#stalled = starving;
    const wall = this.wallClock.wallAt(currentTime);
    this.#latest = {
      latency: wall === undefined || currentTime === 0 ? null : (Date.now() - wall) / 1000,
      delay: Math.max(0, liveEdge - currentTime),
      targetDelay: target,
      bufferLength,
      playbackRate: media.playbackRate,
    };
    this.wallClock.trim(currentTime - 10);
    this.#handlers.info(this.#latest);
  }

  /** Stops ticking and puts the rate back to 1. */
  destroy(): void {
    clearInterval(this.#timer);
    clearTimeout(this.#soon);
    try {
      if (this.#media.playbackRate !== 1) this.#media.playbackRate = 1;
    } catch { /* element gone */ }
  }
}
