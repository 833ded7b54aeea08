/**
 * What a connection's first message must pass before `OK`: for `PUSH`, a node that accepts
 * publishers, a valid stream id and a push token for it; for `PULL`, a valid id, a pull token for
 * it, and a source that has the stream (asked with this node added to the relay path). Each check
 * that fails throws the `ProtocolError` the client is told.
 *
 * @example
 * ```ts ignore
 * await checkPush(message, context);                   // then the connection publishes
 * const stream = await findPulled(message, context, signal);
 * ```
 * @module
 */

import { ErrorCode, ProtocolError } from "../shared/errors.ts";
import type { PullMessage, PushMessage } from "../shared/protocol.ts";
import { checkStreamId } from "../shared/stream_id.ts";
import type { NodeConfig } from "./config.ts";
import { verifyPull } from "./groups/group_pull.ts";
import type { SourceChain } from "./sources/chain.ts";
import { extendRelayPath } from "./sources/relay/relay_path.ts";
import type { Stream } from "./stream.ts";
import type { TokenVerifier } from "./token_verifier.ts";

/** What the checks need from the node. */
export interface FirstMessageContext {
  /** Node configuration (`PUSH_ALLOWED`, `NODE_ID`). */
  config: Pick<NodeConfig, "auth" | "nodeId">;
  /** Token checks. */
  verifier: Pick<TokenVerifier, "verify">;
  /** Where pulled streams come from. */
  sources: Pick<SourceChain, "find">;
}

/** A `PUSH` may start: pushing is allowed, the stream id is valid, the token is for it. */
export async function checkPush(message: PushMessage, context: FirstMessageContext): Promise<void> {
  if (!context.config.auth.pushAllowed) {
    throw new ProtocolError(ErrorCode.PUSH_NOT_ALLOWED, "this node does not accept publishers");
  }
  checkStreamId(message.stream);
  await context.verifier.verify("PUSH", message.stream, message.auth);
}

/** A `PULL` may start: the stream id is valid, the token is for it; the stream from a source. */
export async function findPulled(
  message: PullMessage,
  context: FirstMessageContext,
  signal: AbortSignal,
): Promise<Stream> {
  checkStreamId(message.stream);
  await verifyPull(context.verifier, message.stream, message.auth);
  return await context.sources.find(
    {
      stream: message.stream,
      onlySource: message.onlySource === true,
      via: extendRelayPath(message.via ?? [], context.config.nodeId),
    },
    signal,
  );
}
