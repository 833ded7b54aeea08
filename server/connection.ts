/**
 * One WebSocket connection: the state machine of the protocol (first message, auth, heartbeats,
 * idle timeout, frame order) in front of its role, a {@linkcode Publisher} or a
 * {@linkcode Spectator}. Every close the node decides goes through `#end`, which asks
 * {@linkcode farewell} what to say first: the precise `E` for new clients and publishers, only what
 * the original server sent for old spectators.
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
  type Message,
  parseMessage,
  type PullMessage,
  type PushMessage,
  writeMessage,
} from "../shared/protocol.ts";
import { isValidStreamId, MAX_STREAM_ID_LENGTH } from "../shared/stream_id.ts";
import type { TokenVerifier } from "./auth.ts";
import type { NodeConfig } from "./config.ts";
import { farewell, type Peer } from "./farewell.ts";
import type { Logger } from "./log.ts";
import type { Metrics } from "./metrics.ts";
import { Publisher } from "./publisher.ts";
import type { SourceChain } from "./sources/chain.ts";
import type { LocalPublications } from "./sources/local.ts";
import { type SlowSpectatorPolicy, Spectator } from "./spectator.ts";
import type { Stream, StreamEnd } from "./stream.ts";
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
}

/** Longest relay chain a pull may travel. */
export const MAX_RELAY_HOPS = 8;
/** Messages held while a `PUSH`/`PULL` is being checked. */
const MAX_MESSAGES_WHILE_STARTING = 64;
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
  /** Handlers of messages that arrived while the first message was being checked. */
  #held: Array<() => void> | undefined;
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
    socket.listen({
      onText: (text) => this.#onText(text),
      onBinary: (data) => this.#onBinary(data),
      onTooLarge: () =>
        this.#handleError(
          new ProtocolError(
            ErrorCode.MESSAGE_TOO_LARGE,
            `a message is larger than ${context.config.maxBinaryMessageSize} bytes`,
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
    this.#lastReceived = performance.now();
    this.#log.trace(() => `<<< ${text.slice(0, 300)}`);
    let message: Message;
    try {
      message = parseMessage(text);
    } catch (error) {
      this.#handleError(error);
      return;
    }
    this.#dispatch(() => this.#handleMessage(message));
  }

  #onBinary(data: Uint8Array): void {
    this.#lastReceived = performance.now();
    this.#log.trace(() => `<<< [binary ${data.byteLength} bytes]`);
    this.#dispatch(() => this.#handleBinary(data));
  }

  /** Runs a handler now, or holds it while the first message is being checked. */
  #dispatch(handler: () => void): void {
    if (this.#state === "starting") {
      this.#held ??= [];
      if (this.#held.length >= MAX_MESSAGES_WHILE_STARTING) {
        this.fail(ErrorCode.PROTOCOL_ERROR, "too many messages before OK");
        return;
      }
      this.#held.push(handler);
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
        this.#publisher!.handleText(message);
        return;
      case "pulling":
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
        this.#log.debug(`spectator sent E ${message.code}: ${message.message}`);
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
        const held = this.#held ?? [];
        this.#held = undefined;
        for (const handler of held) this.#dispatch(handler);
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
      maxFragmentBytes: config.maxBinaryMessageSize,
      fail: (code, text) => this.fail(code, text),
      done: () => this.#closeSocket(1000, "stream ended"),
    });
    this.#stream = this.#publisher.stream;
    this.#log = this.#log.child(`stream ${message.stream}`);
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
    if (via.includes(config.nodeId)) {
      throw new ProtocolError(
        ErrorCode.LOOP_DETECTED,
        `relay loop: this node (${config.nodeId}) is already in ${via.join(" > ")}`,
      );
    }
    if (via.length >= MAX_RELAY_HOPS) {
      throw new ProtocolError(
        ErrorCode.LOOP_DETECTED,
        `relay chain longer than ${MAX_RELAY_HOPS} nodes`,
      );
    }
    const stream = await sources.find(
      {
        stream: message.stream,
        onlySource: message.onlySource === true,
        via: [...via, config.nodeId],
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
    this.#held = undefined;
    this.#publisher?.connectionClosed(
      `connection closed, code ${code}${reason ? ` ${reason}` : ""}`,
    );
    if (this.#spectator !== undefined) this.#stream?.detach(this.#spectator);
    this.#context.metrics.connections.dec({ role });
    this.#log.request(`disconnected (code ${code})`);
    this.#context.forget(this);
  }
}

function checkStreamId(id: string): void {
  if (!isValidStreamId(id)) {
    throw new ProtocolError(
      ErrorCode.INVALID_STREAM_ID,
      id === ""
        ? "the stream id is empty"
        : `the stream id is longer than ${MAX_STREAM_ID_LENGTH} characters`,
    );
  }
}
