/**
 * Test support: a {@linkcode StreamSubscriber} that records what a stream hands it, standing in
 * for a spectator at the stream's seam.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RecordingSubscriber } from "./recording_subscriber.ts";
 * const subscriber = new RecordingSubscriber();
 * subscriber.end({ kind: "closed" });
 * assert.deepEqual(subscriber.ends, [{ kind: "closed" }]);
 * ```
 * @module
 */

import type { Fragment, Part } from "../fragment.ts";
import type { StreamEnd } from "../stream_end.ts";
import type { StreamSubscriber } from "../stream_subscriber.ts";

/** Records every call a stream makes. */
export class RecordingSubscriber implements StreamSubscriber {
  /** Whether it takes parts. */
  readonly wantsParts: boolean;
  /** What it got on attaching. */
  initial: { fragments: readonly Fragment[]; parts: readonly Part[]; jump: boolean } | null = null;
  /** Live fragments. */
  readonly fragments: Fragment[] = [];
  /** Live parts. */
  readonly parts: Part[] = [];
  /** Fragments abandoned mid-way. */
  readonly aborted: number[] = [];
  /** How the stream ended. */
  readonly ends: StreamEnd[] = [];

  /** A subscriber of parts (or of whole fragments only). */
  constructor(wantsParts = true) {
    this.wantsParts = wantsParts;
  }

  /** Records the initial media. */
  sendInitial(fragments: readonly Fragment[], parts: readonly Part[], jump: boolean): void {
    this.initial = { fragments, parts, jump };
  }

  /** Records a fragment. */
  offerFragment(fragment: Fragment): void {
    this.fragments.push(fragment);
  }

  /** Records a part. */
  offerPart(part: Part): void {
    this.parts.push(part);
  }

  /** Records an abandoned fragment. */
  abortFragment(seq: number): void {
    this.aborted.push(seq);
  }

  /** Records the end. */
  end(end: StreamEnd): void {
    this.ends.push(end);
  }
}
