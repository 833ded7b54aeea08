/**
 * The pull side of one connection: the {@linkcode Spectator} that sends the stream to the socket,
 * what the client may say while it pulls (`H`, `CLOSE`, `E`, and messages the node does not know;
 * nothing else, and no binary frame), and leaving the stream when the connection closes.
 *
 * @example
 * ```ts ignore
 * const role = new SpectatorRole(socket, stream, { parts: true, policy, metrics, log, finish, close });
 * role.begin({ maxInitialFragments: 2 }); // after OK: the buffered fragments, then live ones
 * ```
 * @module
 */

import { ErrorCode, ProtocolError } from "../shared/errors.ts";
import type { Message } from "../shared/protocol.ts";
import { quote } from "../shared/quote.ts";
import type { ConnectionRole } from "./connection_role.ts";
import type { Logger } from "./log.ts";
import type { Metrics } from "./metrics.ts";
import { type SlowSpectatorPolicy, Spectator } from "./spectator.ts";
import type { Stream } from "./stream.ts";
import type { StreamEnd } from "./stream_end.ts";
import type { AttachOptions } from "./stream_subscriber.ts";
import type { ServerSocket } from "./transport/transport.ts";

/** How a spectator role is set up. */
export interface SpectatorRoleOptions {
  /** The client asked for parts. */
  parts: boolean;
  /** The client was granted `clock` (its media carries `at`). */
  clock: boolean;
  /** The slow-spectator policy. */
  policy: SlowSpectatorPolicy;
  /** Counters. */
  metrics: Metrics;
  /** The connection's log. */
  log: Logger;
  /** The stream ended for this spectator: the connection says goodbye and closes. */
  finish(end: StreamEnd): void;
  /** The client is done (`CLOSE` or `E`): the connection closes quietly. */
  close(): void;
}

/** A pulling connection's role. */
export class SpectatorRole implements ConnectionRole {
  /** Always `spectator`. */
  readonly kind = "spectator";
  /** The stream pulled. */
  readonly stream: Stream;
  #spectator: Spectator;
  #options: SpectatorRoleOptions;

  /** Creates the role; nothing is sent until `begin`. */
  constructor(socket: ServerSocket, stream: Stream, options: SpectatorRoleOptions) {
    this.stream = stream;
    this.#options = options;
    this.#spectator = new Spectator(socket, {
      parts: options.parts,
      clock: options.clock,
      policy: options.policy,
      metrics: options.metrics,
      finish: options.finish,
    });
  }

  /** Joins the stream (after `OK`): the buffered media asked for, then live media. */
  begin(options: AttachOptions): void {
    this.stream.attach(this.#spectator, options);
  }

  /** Bytes sent to the client so far. */
  get sentBytes(): number {
    return this.#spectator.sentBytes;
  }

  /** What a spectator may say: heartbeats and unknown messages change nothing; `CLOSE` or `E` ends it. */
  handleText(message: Message): void {
    switch (message.type) {
      case "H":
      case "OK":
      case "UNKNOWN":
      case "R": // receive reports and pins (abr) only steer group pulls
      case "PIN":
        return;
      case "CLOSE":
        this.#options.log.debug("spectator sent CLOSE");
        this.#options.close();
        return;
      case "E":
        this.#options.log.debug(
          `spectator sent E ${quote(message.code)}: ${quote(message.message, 200)}`,
        );
        this.#options.close();
        return;
      default:
        throw new ProtocolError(
          ErrorCode.PROTOCOL_ERROR,
          `${message.type} is not allowed while pulling`,
        );
    }
  }

  /** Spectators never send media. */
  handleBinary(): void {
    throw new ProtocolError(ErrorCode.PROTOCOL_ERROR, "spectators may not send binary frames");
  }

  /** The slow-spectator check. */
  check(now: number): void {
    this.#spectator.check(now);
  }

  /** Nothing to undo: the connection closes. */
  protocolBroken(): void {}

  /** Leaves the stream. */
  connectionClosed(): void {
    this.stream.detach(this.#spectator);
  }
}
