/**
 * Numbers of one player's run in the ABR benchmark, from what the page saw: every presented frame
 * with the capture clock read from its picture (`latency_timecode.ts`) and the picture size
 * changes (`tests/browser/helpers/frame_tracker.ts`), against the link schedule (fast, limited
 * from `dropAt`, fast again from `liftAt`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { abrNumbers } from "./abr_report.ts";
 * const frames = Array.from({ length: 300 }, (_, i) => ({ shown: i * 100, code: i * 100 - 200, frame: i }));
 * const sizes = [{ size: "1280x720", width: 1280, at: 0 }, { size: "640x360", width: 640, at: 12000 },
 *   { size: "1280x720", width: 1280, at: 25000 }];
 * const numbers = abrNumbers({ start: 0, dropAt: 10000, liftAt: 20000, end: 30000, frames, sizes });
 * assert(numbers.downMs === 2000 && numbers.upMs === 5000 && numbers.delay.beforeDrop === 200);
 * ```
 * @module
 */

import type { SizeChange } from "../browser/helpers/frame_tracker.ts";
import { percentile } from "./latency_report.ts";
import type { CodedFrame } from "./latency_timecode.ts";

/** A pause between presented frames longer than this is a stall, ms. */
export const STALL_MS = 200;
/** "During a switch": from the change of the link to this long after the new picture, ms. */
export const DURING_MS = 2000;
/** "After": the median over the last this many ms of a phase. */
export const AFTER_MS = 5000;

/** What one run saw (times in ms since the epoch). */
export interface AbrRun {
  /** The schedule: start (fast), the drop, the lift, the end. */
  start: number;
  dropAt: number;
  liftAt: number;
  end: number;
  /** Presented frames from `start` on. */
  frames: CodedFrame[];
  /** Picture size changes (all of them; the one in effect at `start` included). */
  sizes: SizeChange[];
}

/** Glass-to-glass delays, ms (NaN where no frame was readable). */
export interface AbrDelays {
  /** Median over the last {@linkcode AFTER_MS} before the drop. */
  beforeDrop: number;
  /** Largest from the drop to {@linkcode DURING_MS} after the first low picture (or the lift). */
  duringDown: number;
  /** Median over the last {@linkcode AFTER_MS} of the limited phase. */
  endOfLimited: number;
  /** Largest from the lift to {@linkcode DURING_MS} after the first top picture (or the end). */
  duringUp: number;
  /** Median over the last {@linkcode AFTER_MS} of the run. */
  afterUp: number;
}

/** The numbers of one run. */
export interface AbrNumbers {
  /** Pauses longer than {@linkcode STALL_MS} between presented frames. */
  stalls: number;
  /** The longest pause between presented frames, ms. */
  longestGapMs: number;
  /** Seconds on screen per picture size (`1280x720`...) from `start` to `end`, not frozen. */
  secondsIn: Record<string, number>;
  /** Seconds of pauses longer than {@linkcode STALL_MS} from `start` to `end`. */
  frozenSeconds: number;
  /** The drop to the first picture of a smaller width, ms; null if none came before the lift. */
  downMs: number | null;
  /** The lift to the first picture of the top width, ms; null if none came before the end. */
  upMs: number | null;
  /** Switches up (to a wider picture) between the switch down and the lift: still limited. */
  upWhileLimited: number;
  /** Glass-to-glass delays. */
  delay: AbrDelays;
  /** Frames presented, and of those unreadable. */
  frames: number;
  unreadable: number;
}

function delays(frames: CodedFrame[], from: number, to: number): number[] {
  return frames.filter((frame) => frame.code !== null && frame.shown >= from && frame.shown < to)
    .map((frame) => frame.shown - frame.code!);
}

function median(values: number[]): number {
  return percentile(values, 0.5);
}

function largest(values: number[]): number {
  return values.length === 0 ? NaN : Math.max(...values);
}

/** Computes the numbers of one run. */
export function abrNumbers(run: AbrRun): AbrNumbers {
  const { start, dropAt, liftAt, end, frames, sizes } = run;
  let stalls = 0;
  let longestGapMs = 0;
  for (let index = 1; index < frames.length; index++) {
    const gap = frames[index].shown - frames[index - 1].shown;
    if (gap > STALL_MS) stalls++;
    longestGapMs = Math.max(longestGapMs, gap);
  }
  if (frames.length > 0) longestGapMs = Math.max(longestGapMs, end - frames.at(-1)!.shown);
  const secondsIn: Record<string, number> = {};
  for (const [index, change] of sizes.entries()) {
    const from = Math.max(start, change.at);
    const to = Math.min(end, sizes[index + 1]?.at ?? end);
    if (to > from) secondsIn[change.size] = (secondsIn[change.size] ?? 0) + (to - from) / 1000;
  }
  // A frozen picture is not time in its rendition: the pauses over STALL_MS are taken out.
  let frozenSeconds = 0;
  const frozen = (from: number, to: number) => {
    from = Math.max(start, from);
    to = Math.min(end, to);
    if (to <= from || to - from <= STALL_MS) return;
    const size = [...sizes].reverse().find((change) => change.at <= from)?.size;
    frozenSeconds += (to - from) / 1000;
    if (size !== undefined) secondsIn[size] -= (to - from) / 1000;
  };
  for (let index = 1; index < frames.length; index++) {
    frozen(frames[index - 1].shown, frames[index].shown);
  }
  if (frames.length > 0) frozen(frames.at(-1)!.shown, end);
  const topWidth = Math.max(...sizes.map((change) => change.width));
  const down = sizes.find((change) =>
    change.at >= dropAt && change.at < liftAt && change.width < topWidth
  );
  const up = sizes.find((change) => change.at >= liftAt && change.width === topWidth);
  let upWhileLimited = 0;
  if (down !== undefined) {
    for (let index = sizes.indexOf(down) + 1; index < sizes.length; index++) {
      if (sizes[index].at >= liftAt) break;
      if (sizes[index].width > sizes[index - 1].width) upWhileLimited++;
    }
  }
  return {
    stalls,
    longestGapMs,
    secondsIn,
    frozenSeconds,
    downMs: down ? down.at - dropAt : null,
    upMs: up ? up.at - liftAt : null,
    upWhileLimited,
    delay: {
      beforeDrop: median(delays(frames, dropAt - AFTER_MS, dropAt)),
      duringDown: largest(
        delays(frames, dropAt, down ? Math.min(liftAt, down.at + DURING_MS) : liftAt),
      ),
      endOfLimited: median(delays(frames, liftAt - AFTER_MS, liftAt)),
      duringUp: largest(delays(frames, liftAt, up ? Math.min(end, up.at + DURING_MS) : end)),
      afterUp: median(delays(frames, end - AFTER_MS, end)),
    },
    frames: frames.length,
    unreadable: frames.filter((frame) => frame.code === null).length,
  };
}
