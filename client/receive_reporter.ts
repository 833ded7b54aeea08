/**
 * Receive reports (`R`, capability `abr`): what a spectator of a rendition group received, and
 * when, so that the node can see the viewer's link past the kernel's socket buffer. The reporter
 * counts every binary frame and sends one report per frame, but at most one every `minMs` (100 ms:
 * the protocol asks for at most ~10 a second): a frame that comes sooner is reported later, with
 * the next one, or by a timer once `minMs` has passed (so the last frame before a pause is
 * reported too). A frame of `SAMPLE_BYTES` or more is reported at once: it is one of the node's
 * capacity samples, which only count frames that large. Each report names the last frame: its
 * `seq`/`part`, its size, when it arrived (`t`, the page's monotonic clock) and how long it took
 * from its `F`/`P` text to its last byte (`span`, a capacity sample for the node).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReceiveReporter } from "./receive_reporter.ts";
 * const sent: unknown[] = [];
 * const reporter = new ReceiveReporter((message) => sent.push(message), 100);
 * reporter.received({ type: "P", seq: 7, part: 0 }, 1000, 100, 90);
 * reporter.received({ type: "P", seq: 7, part: 1 }, 500, 150, 140); // too soon: held
 * assert.deepEqual(sent, [{ type: "R", bytes: 1000, t: 100, seq: 7, part: 0, size: 1000, span: 10 }]);
 * reporter.stop();
 * ```
 * @module
 */

import type { MediaHeader } from "../shared/media_pairing.ts";
import type { ReceiveReportMessage } from "../shared/protocol.ts";

/** Frames this large are reported at once (the node takes capacity samples from frames of 8 KiB and more). */
export const SAMPLE_BYTES = 8 * 1024;

/** Sends `R` reports at most every `minMs`, always about the newest frame received. */
export class ReceiveReporter {
  #send: (message: ReceiveReportMessage) => void;
  #minMs: number;
  #bytes = 0;
  #pending: ReceiveReportMessage | null = null;
  #lastSentAt = -Infinity;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  /** Reports through `send`, at most one every `minMs` milliseconds. */
  constructor(send: (message: ReceiveReportMessage) => void, minMs = 100) {
    this.#send = send;
    this.#minMs = minMs;
  }

  /** Media bytes counted so far (since the session's `OK`). */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * A binary frame of `size` bytes for `header` arrived at `at` (`performance.now()`); its text
   * came at `headerAt`.
   */
  received(
    header: Pick<MediaHeader, "type" | "seq"> & { part?: number },
    size: number,
    at: number,
    headerAt?: number,
  ): void {
    if (this.#stopped) return;
    this.#bytes += size;
    const report: ReceiveReportMessage = { type: "R", bytes: this.#bytes, t: round(at) };
    if (header.seq !== undefined) report.seq = header.seq;
    if (header.type === "P" && header.part !== undefined) report.part = header.part;
    report.size = size;
    if (headerAt !== undefined && headerAt > 0 && headerAt <= at) {
      report.span = round(at - headerAt);
    }
    this.#pending = report;
    const wait = this.#lastSentAt + this.#minMs - at;
    if (wait <= 0 || size >= SAMPLE_BYTES) this.#flush(at);
    else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#flush(performance.now());
      }, wait);
    }
  }

  #flush(now: number): void {
    const report = this.#pending;
    if (report === null || this.#stopped) return;
    this.#pending = null;
    this.#lastSentAt = now;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    try {
      this.#send(report);
    } catch {
      // The socket closed under us: the session reports the loss.
    }
  }

  /** Sends nothing more. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending = null;
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
