/**
 * The command line of a `deno task` tool: `deno task NAME -- ARGS` passes the `--` on, every
 * option must be known, and nothing else may be given.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseTaskArgs } from "./task_args.ts";
 * const values = parseTaskArgs(["--", "--stream", "a"], { stream: { type: "string" } });
 * assert(values.stream === "a");
 * assert.throws(() => parseTaskArgs(["--nope"], { stream: { type: "string" } }));
 * ```
 * @module
 */

import { parseArgs, type ParseArgsOptionsConfig } from "node:util";

/** The options of a tool's arguments; throws (a `TypeError` naming it) for an unknown one. */
export function parseTaskArgs<const O extends ParseArgsOptionsConfig>(
  args: string[],
  options: O,
) {
  return parseArgs({
    args: args[0] === "--" ? args.slice(1) : args,
    strict: true,
    allowPositionals: false,
    options,
  }).values;
}
