/**
 * What a node can know of one viewer's link: how late delivery is, and how fast the link carries
 * bytes when it is busy.
 *
 * - **Lag**: the age of the oldest media byte sent but not yet reported received by the client
 *   (`R:bytes=`). The kernel's socket buffers hide megabytes from `bufferedAmount`; the receive
 *   report does not. Until a client reports, the lag is the age of the oldest byte still in the
 *   socket's own queue (what the spectator's backlog says).
 * - **Capacity**: samples from frames the client timed (`R:size=&span=`: the ms between a media
 *   message's text frame and the end of its binary frame, sent back to back, so the frame crossed
 *   the link at its rate). Only frames of at least {@linkcode MIN_SAMPLE_BYTES} count; the
 *   estimate is the median of the samples of the last {@linkcode CAPACITY_WINDOW_MS}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LinkEstimate } from "./link_estimate.ts";
 * const link = new LinkEstimate();
 * link.sent(100_000, 0);
 * assert(link.lagMs(500, 20) === 20, "until the client reports: the socket's own queue");
 * link.report({ type: "R", bytes: 40_000 }, 500);
 * assert(link.lagMs(500) === 500, "the first send is not all received");
 * for (let i = 1; i <= 3; i++) {
 *   link.sent(100_000, 600 * i);
 *   link.report({ type: "R", bytes: 100_000 * (i + 1), size: 100_000, span: 160 }, 600 * i + 160);
 * }
 * assert(link.lagMs(2000) === 0);
 * assert(link.capacityBps(2000) === 5_000_000);
 * ```
 * @module
 */

import type { ReceiveReportMessage } from "../../shared/protocol.ts";

/**
 * Smallest frame whose transfer time counts as a capacity sample. A link lets a burst through
 * faster than its rate (the shaper's bucket, the buffers along the way): frames that fit in such
 * a burst cross "instantly" and read as capacity the link does not have, which moved viewers up
 * while still limited. 8 KiB is past the bursts measured here (4 KiB at the test's shaper) and
 * still below the keyframes and the larger frames of every rendition worth switching to.
 */
export const MIN_SAMPLE_BYTES = 8 * 1024;
/** How far back capacity samples count, in ms. */
export const CAPACITY_WINDOW_MS = 4000;
/** Fewest samples for a capacity estimate. */
const MIN_SAMPLES = 3;
/** Most samples kept (a client that reports too often cannot make the estimate costly). */
const MAX_SAMPLES = 64;
/** Most sends remembered while the client has not reported them (about 10 min of parts). */
const MAX_MARKS = 4096;

interface Mark {
  /** Media bytes sent once this send is done. */
  end: number;
  /** When it was handed to the socket. */
  at: number;
}

/** The link estimate of one group spectator. */
export class LinkEstimate {
  #sent = 0;
  #received = 0;
  #reports = 0;
  #marks: Mark[] = [];
  #head = 0;
  #samples: { at: number; bps: number }[] = [];

  /** Media bytes sent so far. */
  get sentBytes(): number {
    return this.#sent;
  }

  /** Media bytes the client reported received. */
  get receivedBytes(): number {
    return this.#received;
  }

  /** Whether the client has sent receive reports. */
  get reporting(): boolean {
    return this.#reports > 0;
  }

  /** `bytes` of media were handed to the socket at `now`. */
  sent(bytes: number, now: number): void {
    this.#sent += bytes;
    this.#marks.push({ end: this.#sent, at: now });
    if (this.#marks.length - this.#head > MAX_MARKS) this.#head++; // a client that never reports
    if (this.#head > 256 && this.#head * 2 > this.#marks.length) {
      this.#marks = this.#marks.slice(this.#head);
      this.#head = 0;
    }
  }

  /** A receive report arrived at `now`. Reports beyond what was sent are capped. */
  report(report: ReceiveReportMessage, now: number): void {
    this.#reports++;
    this.#received = Math.max(this.#received, Math.min(report.bytes, this.#sent));
    while (this.#head < this.#marks.length && this.#marks[this.#head].end <= this.#received) {
      this.#head++;
    }
    const { size, span } = report;
    if (size !== undefined && span !== undefined && size >= MIN_SAMPLE_BYTES) {
      this.#samples.push({ at: now, bps: (size * 8) / (Math.max(span, 1) / 1000) });
      if (this.#samples.length > MAX_SAMPLES) this.#samples.shift();
    }
    this.#forget(now);
  }

  /**
   * Age in ms of the oldest media byte not yet known delivered; `socketAgeMs` (the age of the
   * oldest byte in the socket's queue) stands in until the client reports.
   */
  lagMs(now: number, socketAgeMs = 0): number {
    if (!this.reporting) return socketAgeMs;
    const oldest = this.#marks[this.#head];
    return Math.max(socketAgeMs, oldest === undefined ? 0 : now - oldest.at);
  }

  /** The link's capacity in bit/s (median of recent samples), or undefined without enough of them. */
  capacityBps(now: number): number | undefined {
    this.#forget(now);
    if (this.#samples.length < MIN_SAMPLES) return undefined;
    const sorted = this.#samples.map((sample) => sample.bps).sort((a, b) => a - b);
    return sorted[sorted.length >> 1];
  }

  #forget(now: number): void {
    let drop = 0;
    while (drop < this.#samples.length && now - this.#samples[drop].at > CAPACITY_WINDOW_MS) drop++;
    if (drop > 0) this.#samples.splice(0, drop);
  }
}
