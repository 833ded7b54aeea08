/**
 * When a group spectator changes rendition: down quickly when delivery falls behind, up only
 * after sustained headroom, never back and forth on a steady link.
 *
 * - **Down**: the lag (`link_estimate.ts`) is over {@linkcode SwitchPolicyOptions.downLagMs}. The
 *   target is the best rendition that fits in `fit` × the measured capacity (the next lower one
 *   when capacity is unknown). After a down switch the queue still holds the old rendition's
 *   bytes, so the lag stays high a while: for `downHoldMs` a further down switch needs the
 *   capacity to say the new rendition does not fit either. The start holds the same way for
 *   `startHoldMs`: the start's burst (buffered media sent at once) crosses the link late, and a
 *   page busy starting its decoders reports late, so lag alone moves no viewer down then; a
 *   capacity that says the rendition does not fit does, at once.
 * - **Up**: the lag stays under `upLagMs` and the capacity at least `headroom` × the next better
 *   rendition's bitrate, for `upHoldMs` in a row; then one step up. The capacity comes from the
 *   bursts the current rendition already sends (its keyframes cross the link at link rate), so
 *   probing costs no extra bytes. An up switch followed by a down switch within `failedUpMs` was a
 *   failed probe: the hold before the next try doubles (up to `maxUpHoldMs`), and a long steady
 *   time resets it.
 * - **Pin**: a pinned rendition wins over everything.
 *
 * Decisions only name a target; the group spectator moves at the next keyframe.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SwitchPolicy } from "./switch_policy.ts";
 * const policy = new SwitchPolicy();
 * const bitrates = [3_000_000, 1_100_000];
 * const slow = { lagMs: 900, capacityBps: 1_200_000, bitrates, current: 0 };
 * assert.deepEqual(policy.decide(0, slow), { target: 1, reason: "down" });
 * ```
 * @module
 */

/** Thresholds of the policy (ms, ratios). */
export interface SwitchPolicyOptions {
  /** Lag above which the spectator moves down. @default 300 */
  downLagMs?: number;
  /** After a down switch, ms during which only the capacity may move it further down. @default 3000 */
  downHoldMs?: number;
  /** After the start (`started`), ms during which only the capacity may move it down. @default 3000 */
  startHoldMs?: number;
  /** A rendition fits when its bitrate is at most this share of the capacity. @default 0.85 */
  fit?: number;
  /** Lag below which the link counts as keeping up. @default 200 */
  upLagMs?: number;
  /** Capacity needed to move up, as a multiple of the better rendition's bitrate. @default 1.4 */
  headroom?: number;
  /** Ms of sustained headroom before the first move up. @default 3000 */
  upHoldMs?: number;
  /** Longest hold after failed probes. @default 60000 */
  maxUpHoldMs?: number;
  /** A down switch this soon after an up switch makes the up switch a failed probe. @default 10000 */
  failedUpMs?: number;
}

/** What the policy looks at. */
export interface LinkState {
  /** Age of the oldest undelivered byte, ms. */
  lagMs: number;
  /** Measured capacity, bit/s, when known. */
  capacityBps: number | undefined;
  /** Bitrates of the renditions, best first (bit/s). */
  bitrates: readonly number[];
  /** Index of the rendition sent now (or the one being moved to). */
  current: number;
  /** Index of the pinned rendition, if any. */
  pinned?: number;
}

/** Why a switch happens. */
export type SwitchReason = "down" | "up" | "pin";

/** A decision: move to `target`. */
export interface SwitchDecision {
  /** Index of the rendition to move to. */
  target: number;
  /** Why. */
  reason: SwitchReason;
}

/** The per-viewer switch policy (state: holds and probe back-off). */
export class SwitchPolicy {
  #options: Required<SwitchPolicyOptions>;
  #upHoldMs: number;
  #headroomSince: number | null = null;
  #lastDownAt = -Infinity;
  #lastUpAt = -Infinity;
  #startedAt = -Infinity;

  /** A policy with the given thresholds. */
  constructor(options: SwitchPolicyOptions = {}) {
    this.#options = {
      downLagMs: 300,
      downHoldMs: 3000,
      startHoldMs: 3000,
      fit: 0.85,
      upLagMs: 200,
      headroom: 1.4,
      upHoldMs: 3000,
      maxUpHoldMs: 60000,
      failedUpMs: 10000,
      ...options,
    };
    this.#upHoldMs = this.#options.upHoldMs;
  }

  /** The viewer started at `now` (ms): for `startHoldMs` only the capacity moves it down. */
  started(now: number): void {
    this.#startedAt = now;
  }

  /** The current hold before moving up, ms (it grows after failed probes). */
  get upHoldMs(): number {
    return this.#upHoldMs;
  }

  /** Where to move now, or null to stay. Call often (every part); `now` in ms. */
  decide(now: number, link: LinkState): SwitchDecision | null {
    const o = this.#options;
    const { bitrates, current } = link;
    if (link.pinned !== undefined) {
      this.#headroomSince = null;
      return link.pinned === current ? null : { target: link.pinned, reason: "pin" };
    }
    const lowest = bitrates.length - 1;
    if (link.lagMs > o.downLagMs && current < lowest) {
      this.#headroomSince = null;
      const fitting = link.capacityBps === undefined
        ? undefined
        : bitrates.findIndex((bps) => bps <= o.fit * link.capacityBps!);
      const byCapacity = fitting === undefined ? undefined : fitting === -1 ? lowest : fitting;
      const holding = now - this.#lastDownAt < o.downHoldMs ||
        now - this.#startedAt < o.startHoldMs;
      const target = holding
        ? (byCapacity !== undefined && byCapacity > current ? byCapacity : null)
        : Math.max(current + 1, byCapacity ?? current + 1);
      if (target === null) return null;
      if (now - this.#lastUpAt < o.failedUpMs) {
        this.#upHoldMs = Math.min(this.#upHoldMs * 2, o.maxUpHoldMs);
      }
      this.#lastDownAt = now;
      return { target, reason: "down" };
    }
    if (now - Math.max(this.#lastDownAt, this.#lastUpAt) > 4 * o.maxUpHoldMs) {
      this.#upHoldMs = o.upHoldMs; // a long steady time: forget failed probes
    }
    const better = current - 1;
    const headroom = better >= 0 && link.lagMs < o.upLagMs && link.capacityBps !== undefined &&
      link.capacityBps >= o.headroom * bitrates[better];
    if (!headroom) {
      this.#headroomSince = null;
      return null;
    }
    this.#headroomSince ??= now;
    if (now - this.#headroomSince < this.#upHoldMs) return null;
    this.#headroomSince = null;
    this.#lastUpAt = now;
    return { target: better, reason: "up" };
  }
}
