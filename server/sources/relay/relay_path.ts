/**
 * The relay path of a pull (`via`): the node ids it passed through, oldest first. A node that
 * finds itself in it, or any node twice, or a path of `MAX_RELAY_HOPS` ids, answers
 * `LOOP_DETECTED`; a relay is never started with a path the next node would refuse as too long,
 * so a client's made-up path fails only its own pull. Ids were checked by the parser
 * (`isValidNodeId`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { extendRelayPath } from "./relay_path.ts";
 * assert.deepEqual(extendRelayPath(["edge-1"], "mid-1"), ["edge-1", "mid-1"]);
 * assert.throws(() => extendRelayPath(["mid-1"], "mid-1"), /relay loop/);
 * ```
 * @module
 */

import { ErrorCode, ProtocolError } from "../../../shared/errors.ts";
import { MAX_RELAY_HOPS } from "../../../shared/protocol.ts";

/** Throws `LOOP_DETECTED` when a path is too long to be relayed any further. */
export function checkRelayPathLength(path: readonly string[]): void {
  if (path.length >= MAX_RELAY_HOPS) {
    throw new ProtocolError(
      ErrorCode.LOOP_DETECTED,
      `relay chain longer than ${MAX_RELAY_HOPS} nodes`,
    );
  }
}

/** The path of a pull that reached `nodeId` with `via`, with `nodeId` added; throws on a loop. */
export function extendRelayPath(via: readonly string[], nodeId: string): string[] {
  if (via.includes(nodeId)) {
    throw new ProtocolError(
      ErrorCode.LOOP_DETECTED,
      `relay loop: this node (${nodeId}) is already in ${via.join(" > ")}`,
    );
  }
  if (new Set(via).size !== via.length) {
    throw new ProtocolError(ErrorCode.LOOP_DETECTED, `relay loop: ${via.join(" > ")}`);
  }
  checkRelayPathLength(via);
  return [...via, nodeId];
}
