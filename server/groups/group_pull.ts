/**
 * Starting a group pull: `PULL:stream=<group>&group=1` from a client that lists the `abr`
 * capability. The token must be for the group (`sub` = `PULL:<group>`); a token for one rendition
 * admits only that rendition, pulled by its own id. The group's renditions are the streams
 * published on this node whose ids parse as its renditions, or, for a group published elsewhere,
 * what the node's {@linkcode GroupDirectory} finds (the registry, then the upstream:
 * `directory_chain.ts`). The viewer starts on the best
 * rendition a source has. A client without `abr` that sends `group=1` is served as before: the
 * parameter is unknown to it, `stream` is a plain stream id.
 *
 * {@linkcode verifyPull} is the token check of every `PULL`: a token for a group also admits each
 * of its renditions pulled by id.
 *
 * @example
 * ```ts ignore
 * if (isGroupPull(message)) {
 *   const found = await findGroup(message, context, signal); // before OK
 *   const role = new GroupRole(socket, found, options);
 * }
 * ```
 * @module
 */

import { Capability } from "../../shared/capabilities.ts";
import { ErrorCode, ProtocolError } from "../../shared/errors.ts";
import type { PullMessage } from "../../shared/protocol.ts";
import { quote } from "../../shared/quote.ts";
import { parseRenditionId, type RenditionId } from "../../shared/rendition.ts";
import { checkStreamId } from "../../shared/stream_id.ts";
import { tokenSubject } from "../../shared/token.ts";
import { decodeJwt } from "jose";
import type { NodeConfig } from "../config.ts";
import type { SourceChain } from "../sources/chain.ts";
import { extendRelayPath } from "../sources/relay/relay_path.ts";
import type { Stream } from "../stream.ts";
import type { TokenVerifier } from "../token_verifier.ts";
import { groupMembers } from "./rendition_group.ts";

/** Where the ids of a group's renditions come from when none is published here. */
export interface GroupDirectory {
  /** Rendition ids of `group` known elsewhere (the registry, upstream), or an empty list. */
  list(group: string, via: readonly string[], signal: AbortSignal): Promise<string[]>;
}

/** What a group pull needs from the node. */
export interface GroupPullContext {
  /** `NODE_ID`. */
  config: Pick<NodeConfig, "nodeId">;
  /** Token checks. */
  verifier: Pick<TokenVerifier, "verify">;
  /** Where rendition streams come from. */
  sources: Pick<SourceChain, "find">;
  /** Stream ids published on this node. */
  publications: { readonly streamIds: string[] };
  /** The group directory for groups published elsewhere. */
  directory?: GroupDirectory;
}

/** A group ready to be pulled. */
export interface FoundGroup {
  /** The group id. */
  group: string;
  /** Its renditions, best first. */
  renditions: RenditionId[];
  /** Index of the rendition the viewer starts on. */
  index: number;
  /** Its stream. */
  stream: Stream;
  /** Finds another rendition's stream (same relay path and `only_source` as the pull). */
  open(streamId: string, signal: AbortSignal): Promise<Stream>;
}

/** Whether a `PULL` asks for a group: `group=1` from a client with the `abr` capability. */
export function isGroupPull(message: PullMessage): boolean {
  return message.group === true && (message.caps?.includes(Capability.ABR) ?? false);
}

/** Checks a group pull and finds its starting rendition (before `OK`). */
export async function findGroup(
  message: PullMessage,
  context: GroupPullContext,
  signal: AbortSignal,
): Promise<FoundGroup> {
  const group = message.stream;
  checkStreamId(group);
  await context.verifier.verify("PULL", group, message.auth);
  const via = extendRelayPath(message.via ?? [], context.config.nodeId);
  const onlySource = message.onlySource === true;
  let renditions = groupMembers(group, context.publications.streamIds);
  if (renditions.length === 0 && !onlySource && context.directory !== undefined) {
    renditions = groupMembers(group, await context.directory.list(group, via, signal));
  }
  if (renditions.length === 0) {
    throw new ProtocolError(
      ErrorCode.STREAM_NOT_FOUND,
      `no renditions of group ${quote(group)} are available`,
    );
  }
  const open = (stream: string, signal: AbortSignal) =>
    context.sources.find({ stream, onlySource, via }, signal);
  let last: unknown;
  for (const [index, rendition] of renditions.entries()) {
    try {
      return { group, renditions, index, stream: await open(rendition.streamId, signal), open };
    } catch (error) {
      signal.throwIfAborted();
      last = error;
    }
  }
  throw last;
}

/**
 * The token check of a `PULL` of `stream`: a token for the stream, or, when `stream` is a
 * rendition id, a token for its group.
 */
export async function verifyPull(
  verifier: Pick<TokenVerifier, "verify">,
  stream: string,
  token: string,
): Promise<void> {
  try {
    await verifier.verify("PULL", stream, token);
  } catch (error) {
    const group = parseRenditionId(stream)?.group;
    if (
      !(error instanceof ProtocolError) || !group ||
      subjectOf(token) !== tokenSubject("PULL", group)
    ) {
      throw error;
    }
    await verifier.verify("PULL", group, token);
  }
}

function subjectOf(token: string): string | undefined {
  try {
    return decodeJwt(token).sub;
  } catch {
    return undefined;
  }
}
