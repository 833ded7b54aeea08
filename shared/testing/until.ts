/**
 * Test support: waiting for a condition that fakes reach in a few tasks (their operations finish
 * in later tasks, as the real ones do), checked after every task, with a deadline.
 *
 * @example
 * ```ts
 * import { until } from "./until.ts";
 * let done = false;
 * setTimeout(() => done = true, 0);
 * await until(() => done, "done");
 * ```
 * @module
 */

/** Resolves once `condition()` is true; throws naming `what` after `timeoutMs`. */
export async function until(
  condition: () => boolean,
  what: string,
  timeoutMs = 2000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}
