/**
 * Waiting in tests for a value read again and again to reach what is expected.
 *
 * @example
 * ```ts ignore
 * const took = await waitForValue(() => entry("room/a"), node.wsUrl, 3000);
 * ```
 * @module
 */

/** Polls `read` until it returns `expected` (or throws after `timeoutMs`), returning the time taken. */
export async function waitForValue<T>(
  read: () => Promise<T>,
  expected: T,
  timeoutMs: number,
): Promise<number> {
  const start = performance.now();
  let last: T | undefined;
  while (performance.now() - start < timeoutMs) {
    try {
      last = await read();
      if (last === expected) return performance.now() - start;
    } catch { /* not yet */ }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`expected ${JSON.stringify(expected)} within ${timeoutMs} ms, last ${last}`);
}
