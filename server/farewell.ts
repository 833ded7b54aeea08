/**
 * What the node says to a client whose connection it ends: the one place that decides, from why
 * the connection ends and what the client is, which messages go on the wire before the socket
 * closes.
 *
 * - A **new client** (it sent `caps`), a publisher, or a client that has not said what it is yet,
 *   gets the precise `E` code, as it always did (`STREAM_NOT_FOUND` included), or `CLOSE` when the
 *   stream ended cleanly.
 * - An **old spectator** (no `caps`) gets only what the original server sent, because old players
 *   read every `E` as a fatal authentication error. Once accepted, it never gets an `E`: the
 *   stream's real end (the publisher's `CLOSE`, `PUBLISHER_LOST`, a refusal that will not pass) is
 *   `CLOSE`; an end it can recover from by pulling again (shutdown, a relay that gave up, slow,
 *   idle, buffer limit, the stream moved) closes the socket without a word, which old players
 *   answer by reconnecting. Before it is accepted, a stream that does not exist is `OK` then
 *   `CLOSE` (what the original sent; old players retry), a refusal that may pass closes without a
 *   word, and one that will not (authentication, a bad stream id) stays an `E`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { farewell } from "./farewell.ts";
 * const lost = { kind: "failed", code: "PUBLISHER_LOST", message: "gone" } as const;
 * const old = { role: "spectator", accepted: true, caps: false } as const;
 * assert.deepEqual(farewell(lost, old).messages, [{ type: "CLOSE" }]);
 * assert.deepEqual(farewell(lost, { ...old, caps: true }).messages, [
 *   { type: "E", code: "PUBLISHER_LOST", message: "gone" },
 * ]);
 * ```
 * @module
 */

import { ErrorCode, isRecoverable, isRetriable } from "../shared/errors.ts";
import type { KnownMessage } from "../shared/protocol.ts";
import type { StreamEnd } from "./stream_end.ts";

/** What the node knows about the client whose connection ends. */
export interface Peer {
  /** What its first message asked for; `unknown` before one arrived. */
  role: "publisher" | "spectator" | "unknown";
  /** The node answered its `PUSH`/`PULL` with `OK`. */
  accepted: boolean;
  /** It sent `caps` (a new client). */
  caps: boolean;
}

/** The last words of a connection. */
export interface Farewell {
  /** Messages to send, in order, before closing (none: close without a word). */
  messages: KnownMessage[];
  /** WebSocket close code. */
  closeCode: number;
  /** WebSocket close reason (the error code, for logs on the other side). */
  reason: string;
}

const CLOSE: KnownMessage = { type: "CLOSE" };

/** 1001 (going away) at shutdown, 1011 for a bug, 1000 otherwise. */
function closeCode(end: StreamEnd): number {
  if (end.kind === "closed") return 1000;
  if (end.code === ErrorCode.SHUTTING_DOWN) return 1001;
  if (end.code === ErrorCode.INTERNAL_ERROR) return 1011;
  return 1000;
}

/** The messages for an old spectator (one that sent no `caps`). */
function forOldSpectator(
  end: Extract<StreamEnd, { kind: "failed" }>,
  accepted: boolean,
): KnownMessage[] {
  if (accepted) return isRecoverable(end.code) ? [] : [CLOSE];
  if (end.code === ErrorCode.STREAM_NOT_FOUND) return [{ type: "OK" }, CLOSE];
  if (isRetriable(end.code)) return [];
  return [{ type: "E", code: end.code, message: end.message }];
}

/** Decides what a client is told when its connection ends for `end`. */
export function farewell(end: StreamEnd, peer: Peer): Farewell {
  const reason = end.kind === "closed" ? "stream ended" : end.code;
  let messages: KnownMessage[];
  if (end.kind === "closed") messages = [CLOSE];
  else if (peer.role === "spectator" && !peer.caps) messages = forOldSpectator(end, peer.accepted);
  else messages = [{ type: "E", code: end.code, message: end.message }];
  return { messages, closeCode: closeCode(end), reason };
}
