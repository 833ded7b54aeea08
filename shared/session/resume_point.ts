/**
 * Where a pull that reconnects resumes: the sequence number of the last complete fragment
 * received (a whole `F`, or a part with `last`), for `after=` on the next `PULL`, so the node sends
 * exactly what follows. A source that sends fragments without numbers (an older node) cannot be
 * resumed that way: `known` turns false, for good.
 *
 * This module runs in browsers and in Deno alike.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ResumePoint } from "./resume_point.ts";
 * const point = new ResumePoint();
 * point.note({ type: "P", seq: 7, part: 0 });
 * assert(point.lastSeq === undefined, "fragment 7 is not complete yet");
 * point.note({ type: "P", seq: 7, part: 1, last: true });
 * assert(point.lastSeq === 7 && point.known);
 * ```
 * @module
 */

import type { MediaHeader } from "../media_pairing.ts";

/** The last complete fragment of a pull, across its connections. */
export class ResumePoint {
  #lastSeq: number | undefined;
  #known = true;

  /** The number of the last complete fragment, when there is one and numbers are known. */
  get lastSeq(): number | undefined {
    return this.#known ? this.#lastSeq : undefined;
  }

  /** False once a fragment came without a number: `after=` cannot name a place. */
  get known(): boolean {
    return this.#known;
  }

  /** Whether anything was received to resume after. */
  get started(): boolean {
    return this.#lastSeq !== undefined || !this.#known;
  }

  /** Notes a fragment or part received. */
  note(header: MediaHeader): void {
    if (header.type === "F") {
      if (header.seq === undefined) this.#known = false;
      else this.#lastSeq = header.seq;
    } else if (header.last) {
      this.#lastSeq = header.seq;
    }
  }
}
