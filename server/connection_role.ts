/**
 * What a connection is once its `PUSH` or `PULL` is accepted: a role that takes what the client
 * sends and is told how the connection ended. The push side is a {@linkcode PublisherFeed}
 * (`publisher_feed.ts`); the pull side a `SpectatorRole` (`spectator_role.ts`). The connection's
 * state machine (`connection.ts`) knows only this interface.
 *
 * @module
 */

import type { Message } from "../shared/protocol.ts";
import type { Stream } from "./stream.ts";

/** The role of an accepted connection. */
export interface ConnectionRole {
  /** `publisher` or `spectator` (metrics, `/stats`). */
  readonly kind: "publisher" | "spectator";
  /** The stream it feeds or pulls. */
  readonly stream: Stream;
  /** Bytes the role itself sent the client so far (media), so heartbeats wait while it sends. */
  readonly sentBytes: number;
  /** A text message from the client; throws a `ProtocolError` for one its role may not send. */
  handleText(message: Message): void;
  /** A binary frame from the client; throws a `ProtocolError` where none may come. */
  handleBinary(data: Uint8Array): void;
  /** Once a second, from the connection's tick. */
  check(now: number): void;
  /** The client broke the protocol; the connection is closing with `E`. */
  protocolBroken(message: string): void;
  /** The connection has closed (for any reason). */
  connectionClosed(reason: string): void;
}
