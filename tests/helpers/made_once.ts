/**
 * Media made by ffmpeg once per set of options per test process: `madeOnce(make)` is `make`, with
 * each result kept under its options.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { madeOnce } from "./made_once.ts";
 * let runs = 0;
 * const square = madeOnce((options: { n: number }) => Promise.resolve(runs++ + options.n ** 2));
 * assert((await square({ n: 3 })) === (await square({ n: 3 })) && runs === 1);
 * ```
 * @module
 */

/** `make`, called once per distinct options (compared as JSON). */
export function madeOnce<O, R>(make: (options: O) => Promise<R>): (options: O) => Promise<R> {
  const made = new Map<string, Promise<R>>();
  return (options) => {
    const key = JSON.stringify(options);
    let result = made.get(key);
    if (result === undefined) {
      result = make(options);
      made.set(key, result);
    }
    return result;
  };
}
