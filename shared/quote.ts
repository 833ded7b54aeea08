/**
 * Showing values that came from a client (stream ids, parameters, tokens, an upstream's error
 * text) in logs, error messages and pages without letting them forge anything: control
 * characters are escaped, so a value can neither start a new log line nor send a terminal escape
 * sequence, and a quoted value is cut to a readable length.
 *
 * What is escaped: the C0 controls (newline, carriage return, ESC, NUL...), DEL, the C1 controls,
 * the Unicode line and paragraph separators, and the bidirectional overrides and isolates (which
 * reorder what a reader sees). Everything else, any script and emoji, stays as it is.
 *
 * This module runs in browsers and in Deno alike.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { escapeControls, quote } from "./quote.ts";
 * assert(escapeControls("a\nb\x1b[31m") === "a\\x0ab\\x1b[31m");
 * assert(quote('say "hi"\n') === '"say \\"hi\\"\\x0a"');
 * assert(quote("x".repeat(100), 4) === '"xxxx…" (100 characters)');
 * ```
 * @module
 */

// deno-lint-ignore no-control-regex -- control characters are exactly what is looked for
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// deno-lint-ignore no-control-regex -- the same, and quotes and backslashes
const UNSAFE_OR_QUOTE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069"\\]/g;

/** The longest quoted value, in characters, unless a caller asks for another. */
export const QUOTE_MAX_LENGTH = 64;

function escapeOne(character: string): string {
  if (character === '"' || character === "\\") return `\\${character}`;
  const code = character.charCodeAt(0);
  return code < 0x100
    ? `\\x${code.toString(16).padStart(2, "0")}`
    : `\\u${code.toString(16).padStart(4, "0")}`;
}

/**
 * The text with every control character written as an escape (`\x0a`, `\x1b`, `\u202e`), so it
 * stays on one line and cannot drive a terminal. Backslashes are left alone (use
 * {@linkcode quote} for a value that must read back unambiguously).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { escapeControls } from "./quote.ts";
 * assert(escapeControls("room/a\u202e") === "room/a\\u202e");
 * ```
 */
export function escapeControls(text: string): string {
  return text.replace(UNSAFE, escapeOne);
}

/**
 * A client value in double quotes, with quotes, backslashes and control characters escaped, cut
 * to `maxLength` characters (Unicode code points) with `…` and the full length after it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { quote } from "./quote.ts";
 * assert(quote("room/a") === '"room/a"');
 * assert(quote("a\\b") === '"a\\\\b"');
 * ```
 */
export function quote(value: string, maxLength: number = QUOTE_MAX_LENGTH): string {
  const characters = Array.from(value);
  const kept = characters.length > maxLength ? characters.slice(0, maxLength).join("") : value;
  const text = `"${kept.replace(UNSAFE_OR_QUOTE, escapeOne)}"`;
  return characters.length > maxLength
    ? `${text.slice(0, -1)}…" (${characters.length} characters)`
    : text;
}
