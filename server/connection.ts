/**
 * One WebSocket connection: the state machine of the protocol (first message, auth, heartbeats,
 * idle timeout, frame order) in front of its role, a {@linkcode Publisher} or a
 * {@linkcode Spectator}. Every close the node decides goes through `#end`, which asks
 * {@linkcode farewell} what to say first: the precise `E` for new clients and publishers, only what
 * the original server sent for old spectators.
 *
 * What a connection may make the node hold is bounded at every step: until `OK` no frame larger
 * than the largest valid first message is read ({@linkcode CONTROL_FRAME_MAX_BYTES}: a `PUSH` or
 * `PULL` of 8192 characters), and what arrives while a `PUSH`/`PULL` is checked is held up to 64
 * messages and 64 KiB. A publisher may send frames up to `MAX_BINARY_MESSAGE_SIZE` once it has
 * `OK`; a spectator, who only ever sends text, never may. Messages the node ignores are charged
 * to a {@linkcode MessageBudget}.
 *
 * @example
 * ```ts ignore
 * const connection = new Connection(socket, request, context); // from RequestHandler.onSocket
 * connection.tick(performance.now());                          // once a second, from the node
 * ```
 * @module
 */

import { grantCapabilities } from "../shared/capabilities.ts";
import { ErrorCode, ProtocolError } from "../shared/errors.ts";
import {
  MAX_TEXT_MESSAGE_LENGTH,
  type Message,
  parseMessage,
  type PullMessage,
  type PushMessage,
  writeMessage,
} from "../shared/protocol.ts";
import { quote } from "../shared/quote.ts";
import { checkStreamId } from "../shared/stream_id.ts";
import type { TokenVerifier } from "./token_verifier.ts";
import type { NodeConfig } from "./config.ts";
import { farewell, type Peer } from "./farewell.ts";
import { HeldMessages } from "./held_messages.ts";
import { MessageBudget } from "./limits/message_budget.ts";
import { extendRelayPath } from "./sources/relay/relay_path.ts";
import type { Logger } from "./log.ts";
import type { Metrics } from "./metrics.ts";
import { Publisher } from "./publisher_feed.ts";
import type { SourceChain } from "./sources/chain.ts";
import type { LocalPublications } from "./sources/local.ts";
import { type SlowSpectatorPolicy, Spectator } from "./spectator.ts";
import type { Stream } from "./stream.ts";
import type { StreamEnd } from "./stream_end.ts";
import { type ServerSocket, TextFrame, type UpgradeRequest } from "./transport/transport.ts";

/** What a connection needs from its node. */
export interface ConnectionContext {
  /** Node configuration. */
  config: NodeConfig;
  /** Node log. */
  log: Logger;
  /** Token checks. */
  verifier: TokenVerifier;
  /** Streams published here. */
  publications: LocalPublications;
  /** Where pulled streams come from. */
  sources: SourceChain;
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
/** How long a closing handshake may take before the socket is dropped. */
const CLOSE_GRACE_MS = 5000;

const HEARTBEAT = new TextFrame(writeMessage({ type: "H" }));

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
  #openedAt = performance.now();
  #lastReceived = this.#openedAt;
  #lastSent = this.#openedAt;
  #closingSince = 0;
  #spectatorSent = 0;
  /** Messages that arrived while the first message was being checked. */
  #held = new HeldMessages({
    maxMessages: MAX_MESSAGES_WHILE_STARTING,
    maxBytes: MAX_BYTES_WHILE_STARTING,
  });
  #maxMessageSize = CONTROL_FRAME_MAX_BYTES;
  #budget = new MessageBudget();
  /** Cancels the source lookup of a starting PULL when the connection closes. */
  #abort: AbortController | undefined;
  #publisher: Publisher | undefined;
  #spectator: Spectator | undefined;
  #stream: Stream | undefined;
  /** What the client is, for what it is told when the connection ends. */
  #peer: Peer = { role: "unknown", accepted: false, caps: false };

  /** Takes over an accepted socket. */
  constructor(socket: ServerSocket, request: UpgradeRequest, context: ConnectionContext) {
    this.#socket = socket;
    this.#context = context;
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
    return this.#publisher ? "publisher" : this.#spectator ? "spectator" : "pending";
  }

  /** The stream this connection publishes or pulls, once started. */
  get streamId(): string | undefined {
    return this.#stream?.id;
  }

  #onText(text: string): void {
    this.#received();
    this.#log.trace(() => `<<< ${withoutToken(text.slice(0, 300))}`);
    let message: Message;
    try {
      message = parseMessage(text);
    } catch (error) {
      this.#handleError(error);
      return;
    }
    this.#dispatch(() => this.#handleMessage(message), text.length);
  }

  #onBinary(data: Uint8Array): void {
    this.#received();
    this.#log.trace(() => `<<< [binary ${data.byteLength} bytes]`);
    this.#dispatch(() => this.#handleBinary(data), data.byteLength);
  }

  #received(): void {
    this.#lastReceived = performance.now();
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
        if (message.type === "PUSH") this.#start(() => this.#startPush(message));
        else this.#start((signal) => this.#startPull(message, signal));
        return;
      case "publishing":
        this.#budget.spend(message);
        this.#publisher!.handleText(message);
        return;
      case "pulling":
        this.#budget.spend(message);
        this.#handleSpectatorMessage(message);
        return;
    }
  }

  #handleSpectatorMessage(message: Message): void {
    switch (message.type) {
      case "H":
      case "OK":
      case "UNKNOWN":
        return;
      case "CLOSE":
        this.#log.debug("spectator sent CLOSE");
        this.#closeSocket(1000, "bye");
        return;
      case "E":
        this.#log.debug(`spectator sent E ${quote(message.code)}: ${quote(message.message, 200)}`);
        this.#closeSocket(1000, "bye");
        return;
      default:
        throw new ProtocolError(
          ErrorCode.PROTOCOL_ERROR,
          `${message.type} is not allowed while pulling`,
        );
    }
  }

  #handleBinary(data: Uint8Array): void {
    switch (this.#state) {
      case "new":
        throw new ProtocolError(
          ErrorCode.PROTOCOL_ERROR,
          "the first message must be PUSH or PULL, got a binary frame",
        );
      case "publishing":
        this.#publisher!.handleBinary(data);
        return;
      case "pulling":
        throw new ProtocolError(ErrorCode.PROTOCOL_ERROR, "spectators may not send binary frames");
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
    const { config, verifier, publications, metrics } = this.#context;
    if (!config.auth.pushAllowed) {
      throw new ProtocolError(ErrorCode.PUSH_NOT_ALLOWED, "this node does not accept publishers");
    }
    checkStreamId(message.stream);
    await verifier.verify("PUSH", message.stream, message.auth);
    if (this.#state !== "starting") return;
    this.#publisher = new Publisher({
      streamId: message.stream,
      publications,
      fail: (code, text) => this.fail(code, text),
      done: () => this.#closeSocket(1000, "stream ended"),
    });
    this.#stream = this.#publisher.stream;
    this.#log = this.#log.child(`stream ${message.stream}`);
    // Media may come now, up to the node's limit (before OK it is refused unread).
    this.#maxMessageSize = config.maxBinaryMessageSize;
    this.#socket.setMaxMessageSize(this.#maxMessageSize);
    this.#accept(message);
    this.#state = "publishing";
    metrics.connections.dec({ role: "pending" });
    metrics.connections.inc({ role: "publisher" });
    this.#log.info(`publishing${message.parts ? " (parts)" : ""}`);
  }

  async #startPull(message: PullMessage, signal: AbortSignal): Promise<void> {
    const { config, verifier, sources, metrics } = this.#context;
    checkStreamId(message.stream);
    await verifier.verify("PULL", message.stream, message.auth);
    const via = message.via ?? [];
    const stream = await sources.find(
      {
        stream: message.stream,
        onlySource: message.onlySource === true,
        via: extendRelayPath(via, config.nodeId),
      },
      signal,
    );
    if (this.#state !== "starting") return;
    this.#stream = stream;
    this.#log = this.#log.child(`stream ${message.stream}`);
    this.#accept(message);
    this.#state = "pulling";
    metrics.connections.dec({ role: "pending" });
    metrics.connections.inc({ role: "spectator" });
    const spectator = new Spectator(this.#socket, {
      parts: message.parts === true,
      policy: this.#context.spectatorPolicy,
      metrics,
      finish: (end) => this.#end(end),
    });
    this.#spectator = spectator;
    this.#log.info(
      `pulling${message.parts ? " (parts)" : ""}${via.length ? ` for ${via.join(" > ")}` : ""}`,
    );
    stream.attach(spectator, {
      maxInitialFragments: message.maxInitialFragments,
      after: message.after,
    });
  }

  /** `OK`, with the parts and capabilities granted to a client that asked for them. */
  #accept(message: PushMessage | PullMessage): void {
    this.#send(writeMessage({
      type: "OK",
      parts: message.parts || undefined,
      caps: grantCapabilities(message.caps),
    }));
    this.#peer.accepted = true;
  }

  #handleError(error: unknown): void {
    if (error instanceof ProtocolError) {
      this.#publisher?.protocolBroken(error.message);
      this.fail(error.code, error.message);
      return;
    }
    if (!this.#open) return;
    this.#log.error(
      `unexpected failure: ${error instanceof Error ? error.stack ?? error.message : error}`,
    );
    this.#publisher?.protocolBroken("internal error");
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
    this.#lastSent = performance.now();
  }

  #closeSocket(code: number, reason: string): void {
    if (!this.#open) return;
    this.#state = "closing";
    this.#closingSince = performance.now();
    this.#abort?.abort();
    this.#socket.close(code, reason);
  }

  /** Once a second: first-message and idle timeouts, heartbeats, the slow-spectator check. */
  tick(now: number): void {
    const { timeouts } = this.#context.config;
    if (this.#state === "closed") return;
    if (this.#state === "closing") {
      if (now - this.#closingSince > CLOSE_GRACE_MS) this.#socket.terminate();
      return;
    }
    if (this.#state === "new" && now - this.#openedAt > timeouts.firstMessageSeconds * 1000) {
      this.fail(ErrorCode.TIMEOUT, `no PUSH or PULL within ${timeouts.firstMessageSeconds} s`);
      return;
    }
    if (now - this.#lastReceived > timeouts.idleSeconds * 1000) {
      this.fail(ErrorCode.TIMEOUT, `nothing received for ${timeouts.idleSeconds} s`);
      return;
    }
    const spectator = this.#spectator;
    if (spectator !== undefined) {
      if (spectator.sentBytes !== this.#spectatorSent) {
        this.#spectatorSent = spectator.sentBytes;
        this.#lastSent = now;
      }
      spectator.check(now);
    }
    if (this.#open && now - this.#lastSent >= timeouts.heartbeatSeconds * 1000) {
      this.#socket.sendText(HEARTBEAT);
      this.#lastSent = now;
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
    this.#publisher?.connectionClosed(
      `connection closed, code ${code}${reason ? ` ${reason}` : ""}`,
    );
    if (this.#spectator !== undefined) this.#stream?.detach(this.#spectator);
    this.#context.metrics.connections.dec({ role });
    this.#log.request(`disconnected (code ${code})`);
    this.#context.forget(this);
  }
}

/** A message's text with the value of its `auth` parameter (a token) left out, for the trace log. */
function withoutToken(text: string): string {
  return text.replace(/(^[^:]*:(?:.*&)?auth=)[^&]*/, (_, head: string) => `${head}(hidden)`);
}
