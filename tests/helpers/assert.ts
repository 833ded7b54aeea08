/**
 * Small assertion helpers over `node:assert/strict` (JSR's `@std/assert` is not reachable here).
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "./assert.ts";
 * assertEquals({ a: 1 }, { a: 1 });
 * const error = assertThrows(() => { throw new RangeError("x"); }, RangeError);
 * assertEquals(error.message, "x");
 * ```
 * @module
 */
import assert from "node:assert/strict";

export { deepStrictEqual, ok as assert } from "node:assert/strict";

/** Asserts deep equality, with a message naming the case. */
export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  if (message === undefined) assert.deepStrictEqual(actual, expected);
  else assert.deepStrictEqual(actual, expected, message);
}

/** Asserts that `fn` throws an instance of `type`, and returns what it threw. */
export function assertThrows<E extends Error>(
  fn: () => unknown,
  // deno-lint-ignore no-explicit-any
  type: new (...args: any[]) => E,
): E {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof type, `expected ${type.name}, got ${error}`);
    return error;
  }
  throw new assert.AssertionError({ message: `expected ${type.name} to be thrown` });
}

/** Asserts that a promise rejects with an instance of `type`, and returns the error. */
export async function assertRejects<E extends Error>(
  promise: Promise<unknown>,
  // deno-lint-ignore no-explicit-any
  type: new (...args: any[]) => E,
): Promise<E> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof type, `expected ${type.name}, got ${error}`);
    return error;
  }
  throw new assert.AssertionError({ message: `expected ${type.name} to be rejected` });
}

/** Asserts `actual <= bound`, with both numbers in the message. */
export function assertAtMost(actual: number, bound: number, what: string): void {
  assert.ok(actual <= bound, `${what}: ${actual} > ${bound}`);
}

/** Asserts a string matches a pattern. */
export function assertMatch(actual: string, pattern: RegExp): void {
  assert.match(actual, pattern);
}
