/**
 * Rules for stream ids: any string of 1 to 255 characters (Unicode code points).
 *
 * This module runs in browsers and in Deno alike.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isValidStreamId } from "./stream_id.ts";
 * assert(isValidStreamId("room/stream/1280x720-30~2500"));
 * assert(!isValidStreamId(""));
 * ```
 * @module
 */

import { ErrorCode, ProtocolError } from "./errors.ts";

/** The longest stream id, in characters. */
export const MAX_STREAM_ID_LENGTH = 255;

/**
 * Number of characters (Unicode code points, so an emoji counts once) in a string.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { characterCount } from "./stream_id.ts";
 * assert(characterCount("a😀") === 2);
 * ```
 */
export function characterCount(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/**
 * Whether a string is a valid stream id.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isValidStreamId } from "./stream_id.ts";
 * assert(isValidStreamId("a".repeat(255)));
 * assert(!isValidStreamId("a".repeat(256)));
 * ```
 */
export function isValidStreamId(id: string): boolean {
  return id.length > 0 && characterCount(id) <= MAX_STREAM_ID_LENGTH;
}

/**
 * Throws `INVALID_STREAM_ID` (saying why) when a string is not a valid stream id. Ids may hold any
 * character, control characters included (the original protocol allows them): escape them
 * wherever they are shown (`quote.ts`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkStreamId } from "./stream_id.ts";
 * checkStreamId("room/a");
 * assert.throws(() => checkStreamId(""), /empty/);
 * ```
 */
export function checkStreamId(id: string): void {
  if (!isValidStreamId(id)) {
    throw new ProtocolError(
      ErrorCode.INVALID_STREAM_ID,
      id === ""
        ? "the stream id is empty"
        : `the stream id is longer than ${MAX_STREAM_ID_LENGTH} characters`,
    );
  }
}
