/**
 * The role of a connection that pulls a rendition group (`PULL:stream=<group>&group=1`, with the
 * `abr` capability): a {@linkcode GroupSpectator} sends the media; the client may send what a
 * spectator may (`H`, `CLOSE`, `E`, unknown messages), receive reports (`R`) and pins (`PIN`).
 *
 * @example
 * ```ts ignore
 * const role = new GroupRole(socket, found, { parts: true, policy, metrics, log, finish, close });
 * role.begin({ maxInitialFragments: 0 });
 * ```
 * @module
 */

import { ErrorCode, ProtocolError } from "../../shared/errors.ts";
import type { Message } from "../../shared/protocol.ts";
import { quote } from "../../shared/quote.ts";
import type { ConnectionRole } from "../connection_role.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import type { SlowSpectatorPolicy } from "../spectator.ts";
import type { Stream } from "../stream.ts";
import type { StreamEnd } from "../stream_end.ts";
import type { AttachOptions } from "../stream_subscriber.ts";
import type { ServerSocket } from "../transport/transport.ts";
import type { FoundGroup } from "./group_pull.ts";
import { GroupSpectator, type GroupSpectatorState } from "./group_spectator.ts";
import type { SwitchPolicyOptions } from "./switch_policy.ts";

/** How a group role is set up. */
export interface GroupRoleOptions {
  /** The client asked for parts. */
  parts: boolean;
  /** The client was granted `clock`: media carries the origin's `at`. @default false */
  clock?: boolean;
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
  /** Switch thresholds. */
  switching?: SwitchPolicyOptions;
}

/** A group-pulling connection's role. */
export class GroupRole implements ConnectionRole {
  /** Always `spectator`. */
  readonly kind = "spectator";
  #found: FoundGroup;
  #group: GroupSpectator;
  #options: GroupRoleOptions;
  #stream: Stream;

  /** Creates the role for a group found by `findGroup`; nothing is sent until `begin`. */
  constructor(socket: ServerSocket, found: FoundGroup, options: GroupRoleOptions) {
    this.#found = found;
    this.#options = options;
    this.#stream = found.stream;
    this.#group = new GroupSpectator(socket, {
      renditions: found.renditions,
      open: found.open,
      parts: options.parts,
      clock: options.clock,
      policy: options.policy,
      metrics: options.metrics,
      log: options.log,
      finish: options.finish,
      switching: options.switching,
    });
  }

  /** The stream of the rendition the viewer started on. */
  get stream(): Stream {
    return this.#stream;
  }

  /** The group pulled. */
  get group(): string {
    return this.#found.group;
  }

  /** Where the viewer stands (rendition, target, last reason, link estimate). */
  get state(): GroupSpectatorState {
    return this.#group.state;
  }

  /** Joins the starting rendition (after `OK`). */
  begin(options: AttachOptions): void {
    this.#group.begin(this.#found.index, this.#found.stream, options);
  }

  /** Bytes sent to the client so far. */
  get sentBytes(): number {
    return this.#group.sentBytes;
  }

  /** Heartbeats and unknown messages change nothing; `R` and `PIN` steer the choice. */
  handleText(message: Message): void {
    switch (message.type) {
      case "H":
      case "OK":
      case "UNKNOWN":
        return;
      case "R":
        this.#group.report(message);
        return;
      case "PIN":
        if (!this.#group.pin(message.rendition)) {
          this.#options.log.debug(`PIN for ${quote(message.rendition ?? "")}, not in the group`);
        }
        return;
      case "CLOSE":
      case "E":
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

  /** The slow-spectator check and a switch decision. */
  check(now: number): void {
    this.#group.check(now);
  }

  /** Nothing to undo: the connection closes. */
  protocolBroken(): void {}

  /** Leaves every rendition stream. */
  connectionClosed(): void {
    this.#group.close();
  }
}
