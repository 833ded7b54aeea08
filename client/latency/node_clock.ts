/**
 * The node's clock as seen from the player: round trips of `T` over the stream's own WebSocket
 * (capability `clock`, see `documentation/protocol.md`). The player sends `T:id=<n>` and notes
 * when; the node answers at once with `now`, its clock. With `sent` and `received` on this side's
 * clock, the node's clock was `now` about halfway: offset = now - (sent + received) / 2, wrong by
 * at most half the round trip. Of the recent samples the one with the smallest round trip is
 * kept. Five samples at the start, then one every few seconds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NodeClock } from "./node_clock.ts";
 * let local = 1000;
 * const sent: number[] = [];
 * const clock = new NodeClock({ send: (id) => sent.push(id), now: () => local, schedule: false });
 * clock.sample();
 * local = 1010; // a 10 ms round trip; the node's clock was 5000 halfway
 * clock.answer(sent[0], 5000);
 * assert(clock.offset === 5000 - 1005 && clock.rtt === 10);
 * ```
 * @module
 */

/** How the clock is set up. */
export interface NodeClockOptions {
  /** Sends `T:id=<id>`. */
  send(id: number): void;
  /** This side's clock, ms since the epoch. @default performance.timeOrigin + performance.now() */
  now?: () => number;
  /** Sample on a timer (five at the start, then every `periodMs`). @default true */
  schedule?: boolean;
  /** Between samples after the first five, ms. @default 3000 */
  periodMs?: number;
}

/** Samples at the start. */
const START_SAMPLES = 5;
/** Between the samples at the start, ms. */
const START_SPACING_MS = 40;
/** Samples remembered (the best round trip among them is used). */
const KEPT_SAMPLES = 8;
/** An answer later than this is not a sample, ms. */
const MAX_RTT_MS = 5000;

/** This side's clock in ms since the epoch (monotonic). */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

/** The offset from this side's clock to the node's. */
export class NodeClock {
  #options: NodeClockOptions;
  #now: () => number;
  #nextId = 1;
  #inFlight = new Map<number, number>();
  #samples: Array<{ offset: number; rtt: number }> = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #count = 0;
  #stopped = false;

  /** Starts sampling (unless `schedule` is false). */
  constructor(options: NodeClockOptions) {
    this.#options = options;
    this.#now = options.now ?? epochNow;
    if (options.schedule !== false) this.#tick();
  }

  /** Node clock minus this side's clock, ms; undefined before the first answer. */
  get offset(): number | undefined {
    return this.#best()?.offset;
  }

  /** Round trip of the sample in use, ms. */
  get rtt(): number | undefined {
    return this.#best()?.rtt;
  }

  /** The node's clock now (ms since the epoch), once known. */
  nodeNow(): number | undefined {
    const offset = this.offset;
    return offset === undefined ? undefined : this.#now() + offset;
  }

  #best(): { offset: number; rtt: number } | undefined {
    let best: { offset: number; rtt: number } | undefined;
    for (const sample of this.#samples) {
      if (best === undefined || sample.rtt < best.rtt) best = sample;
    }
    return best;
  }

  #tick(): void {
    if (this.#stopped) return;
    this.sample();
    this.#count++;
    const wait = this.#count < START_SAMPLES ? START_SPACING_MS : this.#options.periodMs ?? 3000;
    this.#timer = setTimeout(() => this.#tick(), wait);
  }

  /** Sends one `T` now. */
  sample(): void {
    const id = this.#nextId++;
    this.#inFlight.set(id, this.#now());
    if (this.#inFlight.size > 16) this.#inFlight.delete(this.#inFlight.keys().next().value!);
    this.#options.send(id);
  }

  /** The node's answer `T:id=&now=`. Unknown ids are ignored. */
  answer(id: number, now: number): void {
    const sent = this.#inFlight.get(id);
    if (sent === undefined) return;
    this.#inFlight.delete(id);
    const received = this.#now();
    const rtt = received - sent;
    if (rtt < 0 || rtt > MAX_RTT_MS) return;
    this.#samples.push({ offset: now - (sent + received) / 2, rtt });
    if (this.#samples.length > KEPT_SAMPLES) this.#samples.shift();
  }

  /** Stops sampling. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }
}
