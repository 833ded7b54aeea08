/**
 * The seam between a {@linkcode Stream} and whatever sends its media on: a subscriber gets the
 * buffered media it asked for when it attaches, then every live fragment and part, and the end.
 * A spectator (one pulling WebSocket connection, `spectator.ts`) is one; another output of the
 * node (an HTTP playlist, a recorder) is another implementation of the same interface.
 *
 * Calls come from the stream, in order, and must return at once: a subscriber never slows the
 * stream or the other subscribers down.
 *
 * @example
 * ```ts ignore
 * const recorder: StreamSubscriber = {
 *   wantsParts: false,
 *   sendInitial: (fragments) => fragments.forEach(save),
 *   offerFragment: save,
 *   offerPart: () => {},
 *   abortFragment: () => {},
 *   end: () => close(),
 * };
 * stream.attach(recorder);
 * ```
 * @module
 */

import type { Fragment, Part } from "./fragment.ts";
import type { StreamEnd } from "./stream_end.ts";

/** What a new subscriber asked for. */
export interface AttachOptions {
  /** At most this many buffered fragments (`max_initial_fragments`); all buffered when absent. */
  maxInitialFragments?: number;
  /** Resume after this sequence number (the last fragment the client has). */
  after?: number;
}

/** Something a stream hands its media to. */
export interface StreamSubscriber {
  /** Whether it takes parts as they arrive (otherwise whole fragments only). */
  readonly wantsParts: boolean;
  /**
   * What it gets on attaching, before live media: buffered whole fragments, then (when it wants
   * parts) the parts so far of the fragment in progress; `jumpFirst` marks a gap before them.
   */
  sendInitial(fragments: readonly Fragment[], parts: readonly Part[], jumpFirst: boolean): void;
  /** A live whole fragment (sent as `F`, or assembled from parts that parts subscribers had). */
  offerFragment(fragment: Fragment): void;
  /** A live part (only offered when `wantsParts`). */
  offerPart(part: Part): void;
  /** The fragment `seq` was abandoned by its source mid-way: no more of its parts come. */
  abortFragment(seq: number): void;
  /** The stream ended; nothing follows. */
  end(end: StreamEnd): void;
}
