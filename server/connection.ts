/**
 * One WebSocket connection: the state machine of the protocol in front of its role. A connection
 * is `new` until its first message, `starting` while that `PUSH`/`PULL` is checked
 * (`first_message.ts`; what arrives meanwhile is held, `held_messages.ts`), then `publishing` or
 * `pulling` with a role (`connection_role.ts`: a {@linkcode PublisherFeed} or a
 * {@linkcode SpectatorRole}) that takes what the client sends, and `closing`, then `closed`. Its
 * deadlines and heartbeats are a {@linkcode ConnectionClock}. Every close the node decides goes
 * through `#end`, which asks {@linkcode farewell} what to say first: the precise `E` for new
 * clients and publishers, only what the original server sent for old spectators.
 *
 * What a connection may make the node hold is bounded at every step: until `OK` no frame larger
 * than the largest valid first message is read ({@linkcode CONTROL_FRAME_MAX_BYTES}: a `PUSH` or
 * `PULL` of 8192 characters), and what arrives while a `PUSH`/`PULL` is checked is held up to 64
 * messages and 64 KiB. A publisher may send frames up to `MAX_BINARY_MESSAGE_SIZE` once it has
 * `OK`; a spectator, who only ever sends text, never may. Messages the node ignores are charged
 * to a {@linkcode MessageBudget}. A client granted `clock` may sample the node's clock with `T`,
 * answered at once and limited to {@linkcode TIME_SAMPLES_PER_SECOND} (the rest are ignored).
 *
 * @example
 * ```ts ignore
 * const connection = new Connection(socket, request, context); // from the node's onSocket
 * connection.tick(performance.now());                          // once a second, from the node
 * ```
 * @module
 */

import { Capability, grantCapabilities } from "../shared/capabilities.ts";
import { ErrorCode, ProtocolError } from "../shared/errors.ts";
import {
  MAX_TEXT_MESSAGE_LENGTH,
  type Message,
  parseMessage,
  type PullMessage,
  type PushMessage,
  type TimeMessage,
  writeMessage,
} from "../shared/protocol.ts";
import type { NodeConfig } from "./config.ts";
import { ConnectionClock } from "./connection_clock.ts";
import type { ConnectionRole } from "./connection_role.ts";
import { farewell, type Peer } from "./farewell.ts";
import { checkPush, findPulled } from "./first_message.ts";
import { GroupRole } from "./groups/group_role.ts";
import type { GroupViewerView } from "./groups/group_stats.ts";
import { findGroup, type GroupDirectory, isGroupPull } from "./groups/group_pull.ts";
import { HeldMessages } from "./held_messages.ts";
import { MessageBudget } from "./limits/message_budget.ts";
import type { Logger } from "./log.ts";
import type { Metrics } from "./metrics.ts";
import { PublisherFeed } from "./publisher_feed.ts";
import type { SourceChain } from "./sources/chain.ts";
import type { LocalPublications } from "./sources/local.ts";
import type { SlowSpectatorPolicy } from "./spectator.ts";
import { SpectatorRole } from "./spectator_role.ts";
import type { StreamEnd } from "./stream_end.ts";
import type { TokenVerifier } from "./token_verifier.ts";
import { type ServerSocket, TextFrame, type UpgradeRequest } from "./transport/transport.ts";

/** What a connection needs from its node. */
export interface ConnectionContext {
  /** Node configuration. */
  config: NodeConfig;
  /** Node log. */
  log: Logger;
  /** Token checks. */
  verifier: Pick<TokenVerifier, "verify">;
  /** Streams published here. */
  publications: LocalPublications;
  /** Where pulled streams come from. */
  sources: Pick<SourceChain, "find">;
  /** Where the renditions of a group published elsewhere are listed (`groups/`). */
  directory?: GroupDirectory;
  /** Counters. */
  metrics: Metrics;
  /** The slow-spectator policy, shared by every spectator. */
  spectatorPolicy: SlowSpectatorPolicy;
  /** Called once when the connection has closed. */
  forget(connection: Connection): void;
  /** Called when the connection's first message arrives (it is no longer waiting to speak). */
  spoke?(connection: Connection): void;
}

/**
 * The largest frame a connection may send before `OK`, and a spectator ever: a text message of
 * the longest length the protocol accepts (8192 UTF-16 code units, at most 3 UTF-8 bytes each).
 */
export const CONTROL_FRAME_MAX_BYTES = MAX_TEXT_MESSAGE_LENGTH * 3;

/** Messages held while a `PUSH`/`PULL` is being checked, and their bytes. */
const MAX_MESSAGES_WHILE_STARTING = 64;
const MAX_BYTES_WHILE_STARTING = 64 * 1024;

/** `T` clock samples a client granted `clock` may ask for per second (also the burst). */
export const TIME_SAMPLES_PER_SECOND = 20;

const HEARTBEAT = new TextFrame(writeMessage({ type: "H" }));

/** A `T` message's type, as a client not granted `clock` may send it (then it is unknown). */
const TIME_TYPE = /^t(?::|$)/i;

type State = "new" | "starting" | "publishing" | "pulling" | "closing" | "closed";

let lastConnectionId = 0;

/** One client, publisher or spectator. */
export class Connection {
  /** Number of this connection in logs. */
  readonly id: number = ++lastConnectionId;
  /** Peer address. */
  readonly remoteAddress: string;
  #socket: ServerSocket;
  #context: ConnectionContext;
  #log: Logger;
  #state: State = "new";
  #clock: ConnectionClock;
  /** What the role had sent at the last tick. */
  #roleSent = 0;
  /** Messages that arrived while the first message was being checked. */
  #held = new HeldMessages({
    maxMessages: MAX_MESSAGES_WHILE_STARTING,
    maxBytes: MAX_BYTES_WHILE_STARTING,
  });
  #maxMessageSize = CONTROL_FRAME_MAX_BYTES;
  #budget = new MessageBudget();
  /** The client was granted `clock`: `at` on media, `delay` on `OK`, answers to `T`. */
  #clockGranted = false;
  /** `T` samples answered, at most {@linkcode TIME_SAMPLES_PER_SECOND}. */
  #timeSamples = new MessageBudget({
    burst: TIME_SAMPLES_PER_SECOND,
    perSecond: TIME_SAMPLES_PER_SECOND,
  });
  /** Cancels the source lookup of a starting PULL when the connection closes. */
  #abort: AbortController | undefined;
  #role: ConnectionRole | undefined;
  /** What the client is, for what it is told when the connection ends. */
  #peer: Peer = { role: "unknown", accepted: false, caps: false };

  /** Takes over an accepted socket. */
  constructor(socket: ServerSocket, request: UpgradeRequest, context: ConnectionContext) {
    this.#socket = socket;
    this.#context = context;
    this.#clock = new ConnectionClock(context.config.timeouts);
    this.remoteAddress = request.remoteAddress;
    this.#log = context.log.child(`conn ${this.id}`);
    if (context.log.flags.requests) {
      this.#log.request(`connected from ${request.remoteAddress} (${request.url.pathname})`);
    }
    context.metrics.connectionsTotal.inc();
    context.metrics.connections.inc({ role: "pending" });
    socket.setMaxMessageSize(this.#maxMessageSize);
    socket.listen({
      onText: (text) => this.#onText(text),
      onBinary: (data) => this.#onBinary(data),
      onTooLarge: () =>
        this.#handleError(
          new ProtocolError(
            ErrorCode.MESSAGE_TOO_LARGE,
            `a message is larger than ${this.#maxMessageSize} bytes${
              this.#maxMessageSize < context.config.maxBinaryMessageSize
                ? " (media only after OK, and only from a publisher)"
                : ""
            }`,
          ),
        ),
      onClose: (code, reason) => this.#onClose(code, reason),
    });
  }

  /** Neither closing nor closed. */
  get #open(): boolean {
    return this.#state !== "closing" && this.#state !== "closed";
  }

  /** `pending`, `publisher` or `spectator`, for metrics. */
  get role(): "pending" | "publisher" | "spectator" {
    return this.#role?.kind ?? "pending";
  }

  /** The stream this connection publishes or pulls, once started. */
  get streamId(): string | undefined {
    return this.#role?.stream.id;
  }

  /** What `/stats` counts of a group viewer; undefined for every other connection. */
  get groupView(): GroupViewerView | undefined {
    const role = this.#role;
    if (!(role instanceof GroupRole)) return undefined;
    const state = role.state;
    return {
      group: role.group,
      rendition: state.rendition,
      pinned: state.pinned !== null,
      reason: state.reason,
    };
  }

  #onText(text: string): void {
    this.#received();
    this.#log.trace(() => `<<< ${withoutToken(text.slice(0, 300))}`);
    let message: Message;
    try {
      message = parseMessage(text);
    } catch (error) {
      if (this.#clockGranted || this.#state === "new" || !TIME_TYPE.test(text)) {
        this.#handleError(error);
        return;
      }
      message = { type: "UNKNOWN", name: "T" }; // as for a node that does not know `T`
    }
    this.#dispatch(() => this.#handleMessage(message), text.length);
  }

  #onBinary(data: Uint8Array): void {
    this.#received();
    this.#log.trace(() => `<<< [binary ${data.byteLength} bytes]`);
    this.#dispatch(() => this.#handleBinary(data), data.byteLength);
  }

  #received(): void {
    this.#clock.received(performance.now());
    if (this.#state === "new") this.#context.spoke?.(this);
  }

  /** Runs a handler now, or holds it (`size` bytes) while the first message is being checked. */
  #dispatch(handler: () => void, size = 0): void {
    if (this.#state === "starting") {
      if (!this.#held.hold(handler, size)) {
        this.fail(
          ErrorCode.PROTOCOL_ERROR,
          `more than ${MAX_MESSAGES_WHILE_STARTING} messages or ${MAX_BYTES_WHILE_STARTING} bytes before OK`,
        );
      }
      return;
    }
    try {
      handler();
    } catch (error) {
      this.#handleError(error);
    }
  }

  #handleMessage(message: Message): void {
    switch (this.#state) {
      case "new":
        if (message.type !== "PUSH" && message.type !== "PULL") {
          throw new ProtocolError(
            ErrorCode.PROTOCOL_ERROR,
            `the first message must be PUSH or PULL, got ${message.type}`,
          );
        }
        this.#peer.role = message.type === "PUSH" ? "publisher" : "spectator";
        this.#peer.caps = message.caps !== undefined;
        this.#clockGranted = grantCapabilities(message.caps)?.includes(Capability.CLOCK) ?? false;
        if (message.type === "PUSH") this.#start(() => this.#startPush(message));
        else this.#start((signal) => this.#startPull(message, signal));
        return;
      case "publishing":
      case "pulling": {
        if (message.type === "T" && this.#clockGranted) {
          this.#answerTime(message);
          return;
        }
        const known: Message = message.type === "T" ? { type: "UNKNOWN", name: "T" } : message;
        this.#budget.spend(known);
        this.#role!.handleText(known);
        return;
      }
    }
  }

  /** Answers a clock sample at once with the node's clock (past the limit: ignored). */
  #answerTime(message: TimeMessage): void {
    if (!this.#timeSamples.charge("T")) return;
    this.#send(writeMessage({ type: "T", id: message.id, now: Date.now() }));
  }

  #handleBinary(data: Uint8Array): void {
    switch (this.#state) {
      case "new":
        throw new ProtocolError(
          ErrorCode.PROTOCOL_ERROR,
          "the first message must be PUSH or PULL, got a binary frame",
        );
      case "publishing":
      case "pulling":
        this.#role!.handleBinary(data);
        return;
    }
  }

  #start(start: (signal: AbortSignal) => Promise<void>): void {
    this.#state = "starting";
    this.#abort = new AbortController();
    start(this.#abort.signal).then(
      () => {
        this.#abort = undefined;
        for (const handler of this.#held.release()) this.#dispatch(handler);
      },
      (error) => {
        this.#abort = undefined;
        this.#handleError(error);
      },
    );
  }

  async #startPush(message: PushMessage): Promise<void> {
    const { config, publications } = this.#context;
    await checkPush(message, this.#context);
    if (this.#state !== "starting") return;
    const feed = new PublisherFeed({
      streamId: message.stream,
      publications,
      fail: (code, text) => this.fail(code, text),
      done: () => this.#closeSocket(1000, "stream ended"),
    });
    this.#log = this.#log.child(`stream ${message.stream}`);
    // Media may come now, up to the node's limit (before OK it is refused unread).
    this.#maxMessageSize = config.maxBinaryMessageSize;
    this.#socket.setMaxMessageSize(this.#maxMessageSize);
    this.#begin(message, feed, "publishing");
    this.#log.info(`publishing${message.parts ? " (parts)" : ""}`);
  }

  async #startPull(message: PullMessage, signal: AbortSignal): Promise<void> {
    if (isGroupPull(message)) return await this.#startGroupPull(message, signal);
    const stream = await findPulled(message, this.#context, signal);
    if (this.#state !== "starting") return;
    this.#log = this.#log.child(`stream ${message.stream}`);
    const role = new SpectatorRole(this.#socket, stream, {
      parts: message.parts === true,
      clock: this.#clockGranted,
      policy: this.#context.spectatorPolicy,
      metrics: this.#context.metrics,
      log: this.#log,
      finish: (end) => this.#end(end),
      close: () => this.#closeSocket(1000, "bye"),
    });
    this.#begin(message, role, "pulling");
    const via = message.via ?? [];
    this.#log.info(
      `pulling${message.parts ? " (parts)" : ""}${via.length ? ` for ${via.join(" > ")}` : ""}`,
    );
    role.begin({ maxInitialFragments: message.maxInitialFragments, after: message.after });
  }

  /** A group pull (`groups/`): the node picks the rendition, per viewer. */
  async #startGroupPull(message: PullMessage, signal: AbortSignal): Promise<void> {
    const found = await findGroup(message, this.#context, signal);
    if (this.#state !== "starting") return;
    this.#log = this.#log.child(`group ${message.stream}`);
    const role = new GroupRole(this.#socket, found, {
      parts: message.parts === true,
      clock: this.#clockGranted,
      policy: this.#context.spectatorPolicy,
      metrics: this.#context.metrics,
      log: this.#log,
      finish: (end) => this.#end(end),
      close: () => this.#closeSocket(1000, "bye"),
    });
    this.#begin(message, role, "pulling", found.renditions.map((r) => r.streamId));
    this.#log.info(`pulling the group${message.parts ? " (parts)" : ""}`);
    role.begin({ maxInitialFragments: message.maxInitialFragments, after: message.after });
  }

  /**
   * `OK` (with the parts and capabilities granted to a client that asked, and for a `PULL` granted
   * `clock` the node's target delay), then the role.
   */
  #begin(
    message: PushMessage | PullMessage,
    role: ConnectionRole,
    state: "publishing" | "pulling",
    renditions?: string[],
  ): void {
    this.#send(writeMessage({
      type: "OK",
      parts: message.parts || undefined,
      caps: grantCapabilities(message.caps),
      delay: message.type === "PULL" && this.#clockGranted
        ? this.#context.config.playerTargetDelaySeconds
        : undefined,
      renditions,
    }));
    this.#peer.accepted = true;
    this.#role = role;
    this.#state = state;
    const { metrics } = this.#context;
    metrics.connections.dec({ role: "pending" });
    metrics.connections.inc({ role: role.kind });
  }

  #handleError(error: unknown): void {
    if (error instanceof ProtocolError) {
      this.#role?.protocolBroken(error.message);
      this.fail(error.code, error.message);
      return;
    }
    if (!this.#open) return;
    this.#log.error(
      `unexpected failure: ${error instanceof Error ? error.stack ?? error.message : error}`,
    );
    this.#role?.protocolBroken("internal error");
    this.fail(ErrorCode.INTERNAL_ERROR, "internal error");
  }

  /** Ends the connection for `code` (the client is told as {@linkcode farewell} decides). */
  fail(code: ErrorCode, message: string): void {
    this.#end({ kind: "failed", code, message });
  }

  /** The one way the node ends a connection: the farewell for this client, then close. */
  #end(end: StreamEnd): void {
    if (!this.#open) return;
    const last = farewell(end, this.#peer);
    if (end.kind === "failed") {
      this.#log.info(`closing with ${end.code}: ${end.message}`);
      this.#context.metrics.refusals.inc({ code: end.code });
      if (last.messages.length === 0 || last.messages[0].type !== "E") {
        this.#log.debug(
          `old client: told ${last.messages.map((m) => m.type).join(", ") || "nothing"}`,
        );
      }
    }
    for (const message of last.messages) this.#send(writeMessage(message));
    this.#closeSocket(last.closeCode, last.reason);
  }

  #send(text: string): void {
    this.#log.trace(() => `>>> ${text}`);
    this.#socket.sendText(new TextFrame(text));
    this.#clock.sent(performance.now());
  }

  #closeSocket(code: number, reason: string): void {
    if (!this.#open) return;
    this.#state = "closing";
    this.#clock.closing(performance.now());
    this.#abort?.abort();
    this.#socket.close(code, reason);
  }

  /** Once a second: first-message and idle timeouts, heartbeats, the role's check. */
  tick(now: number): void {
    const clock = this.#clock;
    if (this.#state === "closed") return;
    if (this.#state === "closing") {
      if (clock.closeOverdue(now)) this.#socket.terminate();
      return;
    }
    const timedOut = clock.timedOut(now, this.#state !== "new");
    if (timedOut !== null) {
      this.fail(ErrorCode.TIMEOUT, timedOut);
      return;
    }
    const role = this.#role;
    if (role !== undefined) {
      if (role.sentBytes !== this.#roleSent) {
        this.#roleSent = role.sentBytes;
        clock.sent(now);
      }
      role.check(now);
    }
    if (this.#open && clock.heartbeatDue(now)) {
      this.#socket.sendText(HEARTBEAT);
      clock.sent(now);
    }
  }

  /** Drops the connection at once, without a closing handshake (shutdown deadline passed). */
  terminate(): void {
    if (this.#state !== "closed") this.#socket.terminate();
  }

  /** The node is going away: tell the client to reconnect elsewhere. */
  shutdown(): void {
    this.fail(ErrorCode.SHUTTING_DOWN, "the node is shutting down; reconnect");
  }

  #onClose(code: number, reason: string): void {
    if (this.#state === "closed") return;
    const role = this.role;
    this.#state = "closed";
    this.#abort?.abort();
    this.#held.release();
    this.#role?.connectionClosed(`connection closed, code ${code}${reason ? ` ${reason}` : ""}`);
    this.#context.metrics.connections.dec({ role });
    this.#log.request(`disconnected (code ${code})`);
    this.#context.forget(this);
  }
}

/** A message's text with the value of its `auth` parameter (a token) left out, for the trace log. */
function withoutToken(text: string): string {
  return text.replace(/(^[^:]*:(?:.*&)?auth=)[^&]*/, (_, head: string) => `${head}(hidden)`);
}
