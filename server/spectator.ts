/**
 * The spectator queue: what one pulling connection is sent, and the slow-spectator policy.
 *
 * Media goes straight to the socket, whose own buffer is the queue; the spectator watches it
 * (`bufferedAmount`, and the age of the oldest byte not yet written to the kernel). At every
 * fragment boundary it decides: send the whole fragment, or, when the queue is over
 * `maxQueueBytes` or older than `maxLagMs`, skip it. A fragment is never cut: once its first byte
 * (or first part) is sent, all of it is. The first fragment after a skip carries `jump=1`. A
 * spectator still behind after `stallTimeoutMs` is told `SLOW_SPECTATOR` and dropped. Nothing it
 * does delays the publisher or anyone else: every send returns at once.
 *
 * @example
 * ```ts ignore
 * const spectator = new Spectator(socket, { parts: true, policy, metrics, finish });
 * stream.attach(spectator, { maxInitialFragments: 3 });
 * ```
 * @module
 */

import { ErrorCode } from "../shared/errors.ts";
import type { Fragment, Part } from "./fragment.ts";
import type { Metrics } from "./metrics.ts";
import type { StreamEnd } from "./stream_end.ts";
import type { StreamSubscriber } from "./stream_subscriber.ts";
import type { MediaMessage, ServerSocket } from "./transport/transport.ts";

/** When a spectator counts as too slow. */
export interface SlowSpectatorPolicy {
  /** Unsent bytes above which fragments are skipped. */
  maxQueueBytes: number;
  /** Age in ms of the oldest unsent byte above which fragments are skipped. */
  maxLagMs: number;
  /** Ms a spectator may stay behind before it is closed. */
  stallTimeoutMs: number;
}

/** How a spectator is set up. */
export interface SpectatorOptions {
  /** The spectator asked for parts (`parts=1`). */
  parts: boolean;
  /** The spectator was granted `clock`: its `F` and `P` carry the origin's `at`. @default false */
  clock?: boolean;
  /** The slow-spectator policy. */
  policy: SlowSpectatorPolicy;
  /** Where bytes and jumps are counted. */
  metrics: Metrics;
  /** Called once when the spectator is done: the owner sends `CLOSE` or `E` and closes. */
  finish(end: StreamEnd): void;
}

/** A send that is not yet known to be written to the kernel. */
interface Mark {
  /** Total bytes sent once this send is flushed. */
  end: number;
  /** `performance.now()` when it was handed to the socket. */
  at: number;
}

/** The pull side of one connection: a {@linkcode StreamSubscriber} that writes to a socket. */
export class Spectator implements StreamSubscriber {
  /** Whether this spectator receives parts. */
  readonly wantsParts: boolean;
  #socket: ServerSocket;
  #options: SpectatorOptions;
  #clock: boolean;
  #sent = 0;
  #marks: Mark[] = [];
  #marksHead = 0;
  /** Seq of the fragment being sent part by part, or null between fragments. */
  #inFragment: number | null = null;
  /** Fragments were skipped since the last one sent: the next one carries `jump=1`. */
  #jumpPending = false;
  #behindSince: number | null = null;
  #done = false;

  /** Creates the spectator for a socket. */
  constructor(socket: ServerSocket, options: SpectatorOptions) {
    this.#socket = socket;
    this.#options = options;
    this.#clock = options.clock ?? false;
    this.wantsParts = options.parts;
  }

  /** Bytes handed to the socket so far (headers included). */
  get sentBytes(): number {
    return this.#sent;
  }

  /**
   * Sends what a new spectator gets before live media: buffered whole fragments, then (for a parts
   * spectator) the parts made so far of the fragment in progress. `jumpFirst` marks the first one.
   */
  sendInitial(fragments: readonly Fragment[], parts: readonly Part[], jumpFirst: boolean): void {
    let jump = jumpFirst;
    for (const fragment of fragments) {
      this.#send(fragment.message(jump, this.#clock), "fragment");
      jump = false;
    }
    if (this.wantsParts && parts.length > 0) {
      for (const part of parts) {
        this.#send(part.message(jump, this.#clock), "part");
        jump = false;
      }
      const last = parts[parts.length - 1].info;
      this.#inFragment = last.last ? null : last.seq;
    }
    this.#jumpPending = jump;
  }

  /** A live whole fragment. Parts spectators ignore fragments assembled from parts they had. */
  offerFragment(fragment: Fragment): void {
    if (this.#done || (this.wantsParts && fragment.info.assembled)) return;
    if (!this.#mayStartFragment()) return;
    this.#send(
      fragment.message(this.#jumpPending, this.#clock),
      "fragment",
      fragment.receivedAt,
    );
    this.#caughtUp();
  }

  /** A live part; only parts spectators get them. */
  offerPart(part: Part): void {
    if (this.#done || !this.wantsParts) return;
    const { seq, index, last } = part.info;
    if (index === 0) {
      if (!this.#mayStartFragment()) {
        this.#inFragment = null;
        return;
      }
      this.#send(part.message(this.#jumpPending, this.#clock), "part", part.receivedAt);
      this.#caughtUp();
      this.#inFragment = last ? null : seq;
      return;
    }
    if (this.#inFragment !== seq) return; // skipping this fragment, or joined after it began
    this.#send(part.message(false, this.#clock), "part", part.receivedAt);
    if (last) this.#inFragment = null;
  }

  /** The fragment `seq` was abandoned by its source: stop sending its parts. */
  abortFragment(seq: number): void {
    if (this.#inFragment === seq) this.#inFragment = null;
  }

  /** The stream ended: `CLOSE` for a clean end, `E` otherwise. */
  end(end: StreamEnd): void {
    if (this.#done) return;
    this.#done = true;
    this.#options.finish(end);
  }

  /** Periodic check: drops a spectator that has been behind for too long. */
  check(now = performance.now()): void {
    if (this.#done) return;
    if (this.#isBehind(now)) {
      this.#behindSince ??= now;
      if (now - this.#behindSince > this.#options.policy.stallTimeoutMs) {
        const seconds = Math.round(this.#options.policy.stallTimeoutMs / 1000);
        this.end({
          kind: "failed",
          code: ErrorCode.SLOW_SPECTATOR,
          message: `could not keep up with the stream for ${seconds} s`,
        });
      }
    } else {
      this.#behindSince = null;
    }
  }

  /** Bytes waiting in the socket, and the age in ms of the oldest of them. */
  backlog(now = performance.now()): { bytes: number; ageMs: number } {
    const bytes = this.#socket.bufferedAmount;
    const flushed = this.#sent - bytes;
    while (this.#marksHead < this.#marks.length && this.#marks[this.#marksHead].end <= flushed) {
      this.#marksHead++;
    }
    if (this.#marksHead > 64 && this.#marksHead * 2 > this.#marks.length) {
      this.#marks = this.#marks.slice(this.#marksHead);
      this.#marksHead = 0;
    }
    const oldest = this.#marks[this.#marksHead];
    return { bytes, ageMs: oldest === undefined || bytes === 0 ? 0 : now - oldest.at };
  }

  #isBehind(now: number): boolean {
    const { bytes, ageMs } = this.backlog(now);
    const policy = this.#options.policy;
    return bytes > policy.maxQueueBytes || ageMs > policy.maxLagMs;
  }

  /** At a fragment boundary: may the next fragment start now, or must it be skipped? */
  #mayStartFragment(): boolean {
    const now = performance.now();
    if (!this.#isBehind(now)) return true;
    if (!this.#jumpPending) {
      this.#jumpPending = true;
      this.#options.metrics.spectatorJumps.inc();
    }
    this.#behindSince ??= now;
    return false;
  }

  #caughtUp(): void {
    this.#jumpPending = false;
    this.#behindSince = null;
  }

  /** Hands one message to the socket; `receivedAt` (live media only) feeds the delay histogram. */
  #send(message: MediaMessage, kind: "fragment" | "part", receivedAt?: number): void {
    const now = performance.now();
    this.#socket.sendMedia(message);
    this.#sent += message.wireLength;
    this.#marks.push({ end: this.#sent, at: now });
    const metrics = this.#options.metrics;
    metrics.bytesOut.inc(message.data.byteLength);
    metrics.messagesOut.inc({ kind });
    if (receivedAt !== undefined) metrics.sendDelay.observe((now - receivedAt) / 1000);
  }
}
