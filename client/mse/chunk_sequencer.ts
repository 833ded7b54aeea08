/**
 * Chunks processed strictly one after another, in the order they came, with a bound: when more
 * than `maxChunks` wait, or a SourceBuffer queue holds `maxOperations`, the sequencer skips to the
 * next fragment start (media with a hole in it cannot be decoded) and asks for a new timeline
 * there (`resync`). Tasks (the set-up) take their turn in the same order without counting as
 * chunks. A failure goes to `fail`; later chunks still take their turn (the owner stops them).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ChunkSequencer } from "./chunk_sequencer.ts";
 * const done: number[] = [];
 * const sequencer = new ChunkSequencer<{ starts: boolean; n: number }>({
 *   process: async (chunk) => { done.push(chunk.n); },
 *   fail: () => {}, resync: () => {}, maxChunks: 8, maxOperations: 8, operations: () => 0,
 * });
 * sequencer.push({ starts: true, n: 1 });
 * sequencer.push({ starts: false, n: 2 });
 * await sequencer.idle();
 * assert.deepEqual(done, [1, 2]);
 * ```
 * @module
 */

/** How the sequencer runs. */
export interface ChunkSequencerOptions<C> {
  /** Processes one chunk; the next waits for it. */
  process(chunk: C): Promise<void>;
  /** A chunk or task failed. */
  fail(error: unknown): void;
  /** Chunks were skipped: the next one starts a new timeline. */
  resync(): void;
  /** Chunks waiting before the sequencer skips. */
  maxChunks: number;
  /** Operations in the longest SourceBuffer queue before the sequencer skips. */
  maxOperations: number;
  /** Operations in the longest SourceBuffer queue now. */
  operations(): number;
  /** Debug log. */
  log?: (message: string) => void;
}

/** Runs chunks in order, skipping to the next fragment start when they pile up. */
export class ChunkSequencer<C extends { starts: boolean }> {
  #options: ChunkSequencerOptions<C>;
  #chain: Promise<void> = Promise.resolve();
  #pending = 0;
  #skipping = false;

  /** A sequencer with nothing queued. */
  constructor(options: ChunkSequencerOptions<C>) {
    this.#options = options;
  }

  /** Chunks taken and not yet processed. */
  get pending(): number {
    return this.#pending;
  }

  /** Queues `chunk` after everything before it, or skips it (see the module's rule). */
  push(chunk: C): void {
    const options = this.#options;
    const operations = options.operations();
    if (this.#pending >= options.maxChunks || operations >= options.maxOperations) {
      if (!this.#skipping) {
        options.log?.(
          `media queue full (${this.#pending} chunks, ${operations} segments): skipping to the next fragment`,
        );
      }
      this.#skipping = true;
    }
    if (this.#skipping) {
      if (!chunk.starts || this.#pending > 0) return;
      this.#skipping = false;
      options.resync();
    }
    this.#pending++;
    this.#chain = this.#chain.then(() => options.process(chunk)).catch((error) =>
      options.fail(error)
    ).finally(() => this.#pending--);
  }

  /** Queues a task (not a chunk) in the same order. */
  run(task: () => Promise<void>): void {
    this.#chain = this.#chain.then(task).catch((error) => this.#options.fail(error));
  }

  /** Resolves once everything queued so far has been processed. */
  idle(): Promise<void> {
    return this.#chain;
  }
}
