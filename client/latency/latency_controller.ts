/**
 * Holds the delay behind live on a media path. On a node that granted `clock` (and once the
 * node's clock offset and `at` stamps are known) live is on the node's clock: the frame due on
 * screen is the one whose `at` is `delay` ago (`clock_target.ts`), the same frame for every viewer
 * of the stream; `delay` is the page's, else the node's `OK:delay`, raised to what the measured
 * arrival jitter needs. A path with its own playhead (WebCodecs) then follows that time frame by
 * frame; an MSE path is steered to it by rate, as below. Otherwise (an older node), four times a
 * second it estimates where live is
 * (the newest media received, moved forward by the time since it came), raises the target when
 * the stream's delivery needs more (the largest recent gap between arrivals plus a margin), and
 * applies {@linkcode decide}: a seek, and a faster or slower rate on a path that catches up by
 * rate, or dropped frames on one that catches up by dropping. It also reports the latency, from
 * the publisher's clock when the stream carries one.
 *
 * It talks only to the {@linkcode PlaybackPath} interface: it learns of arrivals from the path's
 * `appended` events and reads `position()` and `buffered()`.
 *
 * @example
 * ```ts ignore
 * const controller = new LatencyController(path, { delay: 0.5, maxRate: 1.1 });
 * controller.addEventListener("latency", (event) => console.log(event.detail.delay));
 * controller.setDelay(1, 3);            // while playing
 * controller.destroy();
 * ```
 * @module
 */

import type { LatencyInfo } from "../events.ts";
import type { AppendedChunk, PlaybackPath, PlaybackPosition } from "../media/playback_path.ts";
import { DEFAULT_MAX_DELAY_MARGIN } from "../options.ts";
import { type DetailEvents, TypedEventTarget } from "../../shared/typed_event_target.ts";
import { type ControlDecision, decide } from "./latency_control.ts";
import { ClockTarget } from "./clock_target.ts";
import { WallClock } from "./wall_clock.ts";

/** How the controller is set up. */
export interface LatencyControllerOptions {
  /** Wanted delay behind live, seconds. */
  delay: number;
  /** Jump beyond this delay (seconds). @default target + DEFAULT_MAX_DELAY_MARGIN */
  maxDelay?: number;
  /** Fastest catch-up rate. */
  maxRate: number;
  /** Tick period in ms; 0 for none (the owner calls `tick()`). @default 250 */
  intervalMs?: number;
  /** Whether the node sends parts (else whole fragments set the floor of the delay). */
  nodeSendsParts?: () => boolean;
  /** The clock, in ms. @default performance.now */
  now?: () => number;
  /**
   * The node's clock now (ms since the epoch), when the node granted `clock` and its offset is
   * known: the controller then holds the delay behind the node's clock (`at` + delay).
   */
  nodeNow?: () => number | undefined;
  /** The node's default target delay (`OK:delay`), seconds, used when the page set none. */
  nodeDelay?: () => number | undefined;
  /** Whether the page set `delay` (it then overrides the node's). @default true */
  delayGiven?: boolean;
}

/** Why the controller moved the playhead. */
export type SeekReason = ControlDecision["reason"];

/** What the controller reports. */
export type LatencyControllerEventMap = DetailEvents<{
  /** A measurement, each tick once media plays. */
  latency: LatencyInfo;
  /** The controller moved the playhead (`start`, `jump`, `gap`, `stuck`). */
  seeked: SeekReason;
  /** Playback ran out of media. */
  stalled: undefined;
}>;

/** Safety margin over the largest recent arrival gap: this many seconds plus a tenth of the gap. */
const FLOOR_MARGIN = 0.15;
/**
 * On the node's clock, a path without its own playhead (MSE: the element plays what is buffered,
 * steered by `playbackRate`) holds at least this delay, seconds: the element's buffering and the
 * transmuxing of each part take about 0.1 s there, so a shorter target only makes it stall.
 */
const ELEMENT_CLOCK_FLOOR = 0.15;
/** Arrival gaps remembered to set the floor. */
const GAP_HISTORY = 24;
/** How long an early decision waits after the last append of a burst, in ms. */
const BURST_MS = 10;
/** `maxDelay` stays at least this far above the target, in seconds. */
const MIN_MAX_DELAY_MARGIN = 0.5;

/** Keeps a media path at a delay behind live. */
export class LatencyController extends TypedEventTarget<LatencyControllerEventMap> {
  #wallClock = new WallClock();
  #path: PlaybackPath;
  #options: LatencyControllerOptions;
  #now: () => number;
  #timer: ReturnType<typeof setInterval> | undefined;
  #soon: ReturnType<typeof setTimeout> | undefined;
  #lastArrival: { at: number; end: number } | null = null;
  #gaps: number[] = [];
  #wholeFragmentSeconds = 0;
  #lastTime = -1;
  #lastMoveAt: number;
  #stalled = false;
  #latest: LatencyInfo | null = null;
  #clockTarget = new ClockTarget();
  /** Clock mode: the delay the jitter buffer needs (seconds), updated each tick. */
  #needed = 0;
  /** Clock mode: node clock minus `timeOrigin + now`, ms, and the target, as of the last tick. */
  #follow: { offsetMs: number; target: number } | null = null;
  #onAppended = (event: CustomEvent<AppendedChunk>) => this.#appended(event.detail);

  /** Follows `path`'s arrivals and starts ticking. */
  constructor(path: PlaybackPath, options: LatencyControllerOptions) {
    super();
    this.#path = path;
    this.#options = { ...options };
    this.#now = options.now ?? (() => performance.now());
    this.#lastMoveAt = this.#now();
    path.addEventListener("appended", this.#onAppended);
    const intervalMs = options.intervalMs ?? 250;
    if (intervalMs > 0) this.#timer = setInterval(() => this.tick(), intervalMs);
  }

  /** The last measurement. */
  get latest(): LatencyInfo | null {
    return this.#latest;
  }

  /** Whether the delay is held on the node's clock (`clock` granted, its offset and `at` known). */
  get onNodeClock(): boolean {
    return this.#clockTarget.known && this.#options.nodeNow?.() !== undefined;
  }

  /** The delay held now: the wanted one, raised to what the delivery needs. */
  get targetDelay(): number {
    if (this.onNodeClock) {
      const options = this.#options;
      const wanted = options.delayGiven === false
        ? options.nodeDelay?.() ?? options.delay
        : options.delay;
      const floor = this.#path.follow === undefined ? ELEMENT_CLOCK_FLOOR : 0;
      return Math.max(wanted, this.#needed, floor);
    }
    const gap = Math.max(0, this.#wholeFragmentSeconds, ...this.#gaps);
    const floor = gap === 0 ? 0 : gap * 1.1 + FLOOR_MARGIN;
    return Math.max(this.#options.delay, floor);
  }

  /** The delay beyond which the controller jumps. */
  get maxDelay(): number {
    const target = this.targetDelay;
    const wanted = this.#options.maxDelay;
    return wanted === undefined
      ? target + DEFAULT_MAX_DELAY_MARGIN
      : Math.max(wanted, target + MIN_MAX_DELAY_MARGIN);
  }

  /** Changes the wanted delay (and maximum) while playing. */
  setDelay(delay: number, maxDelay?: number): void {
    this.#options.delay = delay;
    this.#options.delayGiven = true;
    this.#options.maxDelay = maxDelay;
  }

  /** A chunk reached the buffers: anchor the publisher's clock, and note the arrival. */
  #appended({ chunk, start, newTimeline }: AppendedChunk): void {
    if (start !== undefined && chunk.time !== undefined) this.#wallClock.add(start, chunk.time);
    if (newTimeline) this.#clockTarget.clear();
    const nodeNow = this.#options.nodeNow?.();
    if (start !== undefined && chunk.at !== undefined && nodeNow !== undefined) {
      this.#clockTarget.anchor(start, chunk.at, nodeNow);
    }
    // Whole fragments (the node sends no parts): the delay must cover one fragment from the
    // start, before any gap between arrivals was measured.
    const parts = this.#options.nodeSendsParts?.() ?? false;
    this.#wholeFragmentSeconds = !parts && chunk.kind === "fragment" ? chunk.duration ?? 0 : 0;
    const buffered = this.#path.buffered();
    const bufferedEnd = buffered.length > 0 ? buffered[buffered.length - 1][1] : 0;
    this.#arrived(bufferedEnd, this.#path.pending > 0);
  }

  /**
   * Media was appended; `bufferedEnd` is the new end of the buffer. `more` says that chunks
   * already received are still on their way to the buffer (a burst: the newest fragment and the
   * parts made so far), so a start position is not chosen yet.
   */
  #arrived(bufferedEnd: number, more: boolean): void {
    const now = this.#now();
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
    if (!more && !this.#path.position().hasFrame && this.#soon === undefined) {
      this.#soon = setTimeout(() => {
        this.#soon = undefined;
        this.tick();
      }, BURST_MS);
    }
  }

  #typicalGap(): number {
    if (this.#gaps.length === 0) return 0;
    const sorted = [...this.#gaps].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
  }

  /** Decides once, now (the controller's timer does this every `intervalMs`). */
  tick(): void {
    const path = this.#path;
    const arrival = this.#lastArrival;
    if (arrival === null) return;
    const now = this.#now();
    const position = path.position();
    const currentTime = position.currentTime;
    if (Math.abs(currentTime - this.#lastTime) > 0.001 || position.paused || position.seeking) {
      this.#lastTime = currentTime;
      this.#lastMoveAt = now;
    }
    const buffered = path.buffered();
    const nodeNow = this.#options.nodeNow?.();
    const clockEdge = nodeNow === undefined ? undefined : this.#clockTarget.liveEdge(nodeNow);
    if (clockEdge !== undefined) this.#needed = this.#clockTarget.needed(nodeNow!);
    const since = Math.min((now - arrival.at) / 1000, this.#typicalGap());
    const liveEdge = clockEdge ?? arrival.end + since;
    const target = this.targetDelay;
    const stuckMs = position.canPlay ? now - this.#lastMoveAt : 0;
    if (clockEdge !== undefined && path.follow !== undefined) {
      // The path keeps its own playhead: it follows the node's clock, frame by frame.
      const offsetMs = nodeNow! - (performance.timeOrigin + performance.now());
      const following = this.#follow !== null;
      this.#follow = { offsetMs, target };
      if (!following) {
        path.follow((at) => {
          const follow = this.#follow!;
          const edge = this.#clockTarget.liveEdge(performance.timeOrigin + at + follow.offsetMs);
          return (edge ?? 0) - follow.target;
        });
        this.emit("seeked", "start");
      }
      this.#report(position, buffered, liveEdge, target);
      return;
    }
    if (this.#follow !== null) {
      // The path reads the followed clock one last time to keep its playhead where it is, so the
      // follow state goes only after the path has let go of it.
      path.follow?.(null);
      this.#follow = null;
    }
    const decision = decide({
      currentTime,
      paused: position.paused && currentTime > 0,
      stuckMs,
      buffered,
      liveEdge,
      target,
      maxDelay: this.maxDelay,
      maxRate: this.#options.maxRate,
    });
    if (decision.seekTo !== undefined && Math.abs(decision.seekTo - currentTime) > 0.01) {
      path.seek(decision.seekTo);
      this.#lastMoveAt = now;
      this.emit("seeked", decision.reason);
    }
    if (path.catchUp === "rate") {
      if (Math.abs(position.rate - decision.rate) > 0.005) path.setRate(decision.rate);
    } else if (decision.reason === "catch-up") {
      path.dropUntil(liveEdge - target);
    }
    this.#report(path.position(), buffered, liveEdge, target);
  }

  /** Stall detection and the `latency` event. */
  #report(
    position: PlaybackPosition,
    buffered: Array<[number, number]>,
    liveEdge: number,
    target: number,
  ): void {
    const currentTime = position.currentTime;
    const ahead = buffered.find(([start, end]) => currentTime >= start && currentTime <= end);
    const bufferLength = ahead ? ahead[1] - currentTime : 0;
    const starving = !position.paused && !position.canPlay && bufferLength < 0.1 &&
      currentTime > 0;
    if (starving && !this.#stalled) this.emit("stalled");
    this.#stalled = starving;
    const wall = this.#wallClock.wallAt(currentTime);
    this.#latest = {
      latency: wall === undefined || currentTime === 0 ? null : (Date.now() - wall) / 1000,
      delay: Math.max(0, liveEdge - currentTime),
      targetDelay: target,
      bufferLength,
      playbackRate: position.rate,
    };
    this.#wallClock.trim(currentTime - 10);
    this.emit("latency", this.#latest);
  }

  /** Stops ticking, stops following the path, and puts the rate back to 1. */
  destroy(): void {
    clearInterval(this.#timer);
    clearTimeout(this.#soon);
    this.#path.removeEventListener("appended", this.#onAppended);
    try {
      if (this.#path.catchUp === "rate" && this.#path.position().rate !== 1) this.#path.setRate(1);
    } catch { /* element gone */ }
  }
}
