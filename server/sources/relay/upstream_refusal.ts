/**
 * How a relay names what an upstream node said or did: for metric labels (a code of ours, or
 * `other`, never arbitrary text), for its spectators (the code if known, the text quoted and cut,
 * no URL) and for its decisions (the code of a refusal, `UPSTREAM_ERROR` where the upstream sent
 * none).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SessionRefused } from "../../../shared/session/protocol_session.ts";
 * import { refusalCode, refusalLabel } from "./upstream_refusal.ts";
 * const silent = new SessionRefused("timeout", "no answer within 10000 ms");
 * assert(refusalCode(silent) === "UPSTREAM_ERROR" && refusalLabel(silent) === "connect");
 * const refused = new SessionRefused("error", "made up", { code: "WHATEVER" });
 * assert(refusalCode(refused) === "WHATEVER" && refusalLabel(refused) === "other");
 * ```
 * @module
 */

import { ErrorCode, isErrorCode } from "../../../shared/errors.ts";
import { escapeControls, quote } from "../../../shared/quote.ts";
import type { SessionRefused } from "../../../shared/session/protocol_session.ts";

/** A code from an upstream as a metric label: one of ours, or `other` (never arbitrary text). */
export function codeLabel(code: string): string {
  return isErrorCode(code) ? code : "other";
}

/** The code of an upstream's refusal: its `E` code, or `UPSTREAM_ERROR` when it sent none. */
export function refusalCode(refusal: SessionRefused): string {
  return refusal.kind === "error" ? refusal.code! : ErrorCode.UPSTREAM_ERROR;
}

/** A refusal as a metric label: the upstream's code when it answered, else `connect`. */
export function refusalLabel(refusal: SessionRefused): string {
  return refusal.answered ? codeLabel(refusalCode(refusal)) : "connect";
}

/** What an upstream's refusal was, for a spectator: its code if known, its text quoted. No URL. */
export function describeRefusal(refusal: SessionRefused): string {
  const code = refusalCode(refusal);
  return `${isErrorCode(code) ? code : "an unknown code"} ${quote(refusal.message, 200)}`;
}

/** An upstream's own `E` text passed on to spectators: one line, of a readable length. */
export function passOn(message: string): string {
  return escapeControls(message).slice(0, 300);
}
