/**
 * How a stream ends: cleanly (`CLOSE`), or with an error code that its subscribers are told as
 * `farewell.ts` decides.
 *
 * @module
 */

import type { ErrorCode } from "../shared/errors.ts";

/** How a stream ended: cleanly (`CLOSE`) or not (`E` with a code). */
export type StreamEnd =
  | { kind: "closed" }
  | { kind: "failed"; code: ErrorCode; message: string };
