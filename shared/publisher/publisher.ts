/**
 * The publisher client: pushes one stream to a node over a WebSocket, in whole fragments or in
 * parts, and keeps doing so across node restarts and network failures.
 *
 * It connects, sends `PUSH` (asking for parts), and once the node says `OK` sends each fragment
 * the moment it is given: as `P` parts when the node accepts them, as `F` whole fragments
 * otherwise (an older node). Every fragment carries `seq` (increasing, from a clock-derived start
 * so that it keeps increasing across publisher restarts) and `time` (the wall-clock time of its
 * first frame). When the node goes away, or answers an `E` that may pass (see `isRetriable`), it
 * reconnects with exponential back-off and jitter, pushes again, and goes on with the newest
 * fragment; meanwhile it holds at most the newest complete fragment and the one in progress. `E`
 * codes that will not pass (`AUTH_FAILED`, `PUBLISHER_REPLACED`, `PUSH_NOT_ALLOWED`,
 * `INVALID_STREAM_ID`...) stop it with a fatal `error` event. `close()` sends `CLOSE`.
 *
 * Given the push secret instead of a token, it signs its own short-lived tokens and signs a new
 * one for any connection made when less than half of the current one's lifetime is left.
 *
 * This module runs in browsers and in Deno alike (Web WebSocket only).
 *
 * @example
 * ```ts ignore
 * import { Publisher } from "./publisher.ts";
 * const publisher = new Publisher({ url: "ws://127.0.0.1:8080/", streamId: "room/a", secret: "push-secret" });
 * publisher.addEventListener("error", (event) => console.error(event.code, event.message));
 * publisher.start();
 * await publisher.ready();
 * publisher.sendPart({ data: part0, time: Date.now() });                 // part 0: PAT, PMT, keyframe
 * publisher.sendPart({ data: part1, last: true, duration: 2 });          // closes the fragment
 * publisher.sendFragment({ data: fragment, duration: 2 });               // or whole fragments
 * await publisher.close();                                               // CLOSE
 * ```
 * @module
 */

import { Backoff } from "../backoff.ts";
import { CLIENT_CAPABILITIES } from "../capabilities.ts";
import { ErrorCode, isRetriable } from "../errors.ts";
import { type KnownMessage, type Message, parseMessage, writeMessage } from "../protocol.ts";
import {
  type PublisherErrorCode,
  PublisherErrorEvent,
  type PublisherEventMap,
  PublisherSentEvent,
  type PublisherState,
  PublisherStateEvent,
} from "./events.ts";
import {
  type OutboxResult,
  type OutboxSink,
  type OutgoingFragment,
  type OutgoingPart,
  PublisherOutbox,
} from "./outbox.ts";
import type { PublisherOptions, PublisherStats } from "./options.ts";
import { PushTokenSource } from "./push_token.ts";
import { TypedEventTarget } from "../typed_event_target.ts";

export * from "./events.ts";
export type { PublisherOptions, PublisherStats } from "./options.ts";
export type { OutboxResult, OutgoingFragment, OutgoingPart } from "./outbox.ts";

/** Codes that stop the publisher whatever `isRetriable` says of codes it does not know. */
const FATAL_CODES: ReadonlySet<string> = new Set(
  Object.values(ErrorCode).filter((code) => !isRetriable(code)),
);

/** A client that publishes one stream (see the module documentation). */
export class Publisher extends TypedEventTarget<PublisherEventMap> {
  #options: PublisherOptions;
  #WebSocket: typeof WebSocket;
  #state: PublisherState = "idle";
  #socket: WebSocket | null = null;
  #outbox: PublisherOutbox;
  #backoff: Backoff;
  #nodeParts = false;
  #everReady = false;
  #startedAt = 0;
  #lastSent = 0;
  #lastReceived = 0;
  #openTimer: ReturnType<typeof setTimeout> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #tick: ReturnType<typeof setInterval> | undefined;
  #tokens: PushTokenSource;
  #closed: Promise<void> | null = null;
  #lastError: Error | undefined;
  #stats: PublisherStats = {
    fragmentsSent: 0,
    partsSent: 0,
    bytesSent: 0,
    fragmentsDropped: 0,
    reconnects: 0,
    heldBytes: 0,
  };

  /** Creates a publisher; nothing happens until `start()`. */
  constructor(options: PublisherOptions) {
    super();
    this.#tokens = new PushTokenSource({
      streamId: options.streamId,
      token: options.token,
      secret: options.secret,
      lifetimeSeconds: options.tokenLifetimeSeconds,
    });
    this.#options = options;
    this.#WebSocket = options.WebSocket ?? globalThis.WebSocket;
    this.#backoff = new Backoff(options.backoff);
    this.#outbox = new PublisherOutbox({
      firstSeq: options.firstSeq ?? Math.floor(Date.now() / 100),
      onSent: (kind, seq, bytes, complete, part) => {
        if (kind === "dropped") this.#stats.fragmentsDropped++;
        else {
          this.#stats.bytesSent += bytes;
          if (kind === "part") this.#stats.partsSent++;
          if (complete) this.#stats.fragmentsSent++;
        }
        this.dispatchEvent(new PublisherSentEvent(kind, seq, bytes, complete, part));
      },
    });
    options.signal?.addEventListener("abort", () => this.close(), { once: true });
  }

  /** Where the publisher is (see {@linkcode PublisherState}). */
  get state(): PublisherState {
    return this.#state;
  }

  /** Whether the connected node accepts parts (false while not connected). */
  get nodeAcceptsParts(): boolean {
    return this.#state === "ready" && this.#nodeParts;
  }

  /** Counters so far (a copy). */
  get stats(): PublisherStats {
    return { ...this.#stats, heldBytes: this.#outbox.heldBytes };
  }

  /** Sequence number the next fragment gets. */
  get nextSeq(): number {
    return this.#outbox.nextSeq;
  }

  /** Connects (once; later calls do nothing). */
  start(): void {
    if (this.#state !== "idle") return;
    this.#startedAt = performance.now();
    this.#tick = setInterval(() => this.#check(), 1000);
    this.#connect();
  }

  /** Resolves when the publisher is (or next becomes) ready; rejects when it closes first. */
  ready(): Promise<void> {
    if (this.#state === "ready") return Promise.resolve();
    if (this.#state === "closed") return Promise.reject(new Error("the publisher is closed"));
    return new Promise((resolve, reject) => {
      const onState = (event: PublisherStateEvent) => {
        if (event.state === "ready") resolve();
        else if (event.state === "closed") {
          reject(this.#lastError ?? new Error("the publisher closed"));
        } else return;
        this.removeEventListener("state", onState);
      };
      this.addEventListener("state", onState);
    });
  }

  /** Sends a whole fragment (or holds it while disconnected). Throws while parts of a fragment are in progress. */
  sendFragment(fragment: OutgoingFragment): OutboxResult {
    this.#assertOpen();
    return this.#outbox.addFragment(fragment);
  }

  /** Sends the next part of the fragment in progress; the first part after a `last` one starts a new fragment. */
  sendPart(part: OutgoingPart): OutboxResult {
    this.#assertOpen();
    return this.#outbox.addPart(part);
  }

  /**
   * Ends the stream: sends `CLOSE` if connected (a fragment still in progress is dropped), stops
   * reconnecting, and resolves once the socket has closed (or after 3 s).
   */
  close(): Promise<void> {
    if (this.#closed !== null) return this.#closed;
    this.#outbox.abortFragment();
    const socket = this.#socket;
    const wasReady = this.#state === "ready";
    this.#stop();
    this.#closed = new Promise<void>((resolve) => {
      if (socket === null || socket.readyState === this.#WebSocket.CLOSED) return resolve();
      const timer = setTimeout(resolve, 3000);
      socket.onclose = () => {
        clearTimeout(timer);
        resolve();
      };
      if (wasReady) this.#write(socket, { type: "CLOSE" });
      closeQuietly(socket, 1000, "stream ended");
    });
    this.#setState("closed");
    return this.#closed;
  }

  /** Whether the publisher has stopped (a getter, so checks after awaits are not narrowed away). */
  get #isClosed(): boolean {
    return this.#state === "closed";
  }

  #assertOpen(): void {
    if (this.#state === "idle") throw new Error("start() the publisher first");
  }

  #setState(state: PublisherState): void {
    const previous = this.#state;
    if (previous === state) return;
    this.#state = state;
    this.dispatchEvent(new PublisherStateEvent(state, previous));
  }

  async #connect(): Promise<void> {
    if (this.#isClosed) return;
    this.#setState(this.#everReady ? "reconnecting" : "connecting");
    let auth: string;
    try {
      auth = await this.#tokens.get();
    } catch (error) {
      this.#failAttempt(
        "TOKEN_FAILED",
        `no token: ${error instanceof Error ? error.message : error}`,
      );
      return;
    }
    if (this.#isClosed) return;
    let socket: WebSocket;
    try {
      socket = new this.#WebSocket(this.#options.url);
    } catch (error) {
      this.#fatal(
        "CONNECTION_FAILED",
        `bad node URL ${this.#options.url}: ${error instanceof Error ? error.message : error}`,
      );
      return;
    }
    this.#socket = socket;
    socket.binaryType = "arraybuffer";
    this.#openTimer = setTimeout(() => {
      this.#failAttempt(
        ErrorCode.TIMEOUT,
        `no answer from ${this.#options.url} within ${this.#openTimeoutMs / 1000} s`,
      );
    }, this.#openTimeoutMs);
    let opened = false;
    socket.onopen = () => {
      opened = true;
      this.#lastReceived = performance.now();
      this.#write(socket, {
        type: "PUSH",
        stream: this.#options.streamId,
        auth,
        parts: this.#options.parts !== false || undefined,
        caps: [...CLIENT_CAPABILITIES],
      });
    };
    socket.onmessage = (event) => {
      if (socket !== this.#socket) return;
      this.#lastReceived = performance.now();
      if (typeof event.data === "string") this.#onText(event.data);
    };
    socket.onerror = () => {};
    socket.onclose = (event) => {
      if (socket !== this.#socket) return;
      const reason = `code ${event.code}${event.reason ? `, ${event.reason}` : ""}`;
      if (this.#state === "ready") {
        this.#failAttempt("CONNECTION_LOST", `the connection to the node was lost (${reason})`);
      } else if (opened) {
        this.#failAttempt(
          "CONNECTION_FAILED",
          `${this.#options.url} closed the connection (${reason})`,
        );
      } else this.#failAttempt("CONNECTION_FAILED", `cannot connect to ${this.#options.url}`);
    };
  }

  get #openTimeoutMs(): number {
    return this.#options.openTimeoutMs ?? 10000;
  }

  #onText(text: string): void {
    let message: Message;
    try {
      message = parseMessage(text);
    } catch {
      return;
    }
    if (message.type === "OK" && this.#state !== "ready") this.#onReady(message.parts === true);
    else if (message.type === "E") {
      const text = message.message || message.code;
      if (FATAL_CODES.has(message.code)) this.#fatal(message.code, text);
      else this.#failAttempt(message.code, text);
    }
  }

  #onReady(nodeParts: boolean): void {
    clearTimeout(this.#openTimer);
    if (this.#everReady) this.#stats.reconnects++;
    this.#everReady = true;
    this.#backoff.reset();
    this.#nodeParts = nodeParts && this.#options.parts !== false;
    this.#lastSent = performance.now();
    this.#setState("ready");
    const socket = this.#socket!;
    const maxBuffered = this.#options.maxBufferedBytes ?? 16 * 1024 * 1024;
    const sink: OutboxSink = {
      send: (message, data) => {
        this.#write(socket, message);
        socket.send(data as Uint8Array<ArrayBuffer>);
      },
      get congested() {
        return socket.bufferedAmount > maxBuffered;
      },
    };
    this.#outbox.attach(sink, this.#nodeParts);
  }

  #write(socket: WebSocket, message: KnownMessage): void {
    socket.send(writeMessage(message));
    this.#lastSent = performance.now();
  }

  /** Drops the socket of a failed attempt or lost connection and schedules the next attempt. */
  #failAttempt(code: PublisherErrorCode, message: string): void {
    if (this.#isClosed) return;
    this.#dropSocket();
    if (
      !this.#everReady &&
      performance.now() - this.#startedAt >= (this.#options.startTimeoutMs ?? Infinity)
    ) {
      this.#fatal("UNREACHABLE", `${this.#unreachable()} (${message})`);
      return;
    }
    this.#lastError = errorOf(code, message);
    this.dispatchEvent(new PublisherErrorEvent(code, message, false));
    if (this.#isClosed) return;
    this.#setState(this.#everReady ? "reconnecting" : "connecting");
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => this.#connect(), this.#backoff.next());
  }

  #fatal(code: PublisherErrorCode, message: string): void {
    if (this.#isClosed) return;
    this.#lastError = errorOf(code, message);
    this.#dropSocket();
    this.#stop();
    this.#closed = Promise.resolve();
    this.dispatchEvent(new PublisherErrorEvent(code, message, true));
    this.#setState("closed");
  }

  #dropSocket(): void {
    clearTimeout(this.#openTimer);
    this.#outbox.attach(null, false);
    const socket = this.#socket;
    this.#socket = null;
    if (socket !== null) {
      socket.onopen = socket.onmessage = socket.onclose = null;
      closeQuietly(socket, 1000, "reconnecting");
    }
  }

  /** Stops timers (the socket is the caller's). */
  #stop(): void {
    clearTimeout(this.#openTimer);
    clearTimeout(this.#retryTimer);
    clearInterval(this.#tick);
    this.#outbox.attach(null, false);
    const socket = this.#socket;
    this.#socket = null;
    if (socket !== null) socket.onopen = socket.onmessage = null;
  }

  #unreachable(): string {
    const seconds = Math.round((performance.now() - this.#startedAt) / 100) / 10;
    return `no connection to ${this.#options.url} within ${seconds} s`;
  }

  /** Once a second: heartbeat, idle timeout, start timeout. */
  #check(): void {
    const now = performance.now();
    const socket = this.#socket;
    if (this.#state === "ready" && socket !== null) {
      if (now - this.#lastReceived > (this.#options.idleTimeoutMs ?? 75000)) {
        this.#failAttempt(ErrorCode.TIMEOUT, "nothing received from the node for too long");
        return;
      }
      if (now - this.#lastSent >= (this.#options.heartbeatMs ?? 30000)) {
        this.#write(socket, { type: "H" });
      }
    } else if (
      !this.#everReady && now - this.#startedAt >= (this.#options.startTimeoutMs ?? Infinity)
    ) {
      const last = this.#lastError === undefined ? "" : ` (${this.#lastError.message})`;
      this.#fatal("UNREACHABLE", `${this.#unreachable()}${last}`);
    }
  }
}

function errorOf(code: string, message: string): Error {
  const error = new Error(message);
  error.name = code;
  return error;
}

function closeQuietly(socket: WebSocket, code: number, reason: string): void {
  try {
    socket.close(code, reason);
  } catch { /* already closing */ }
}
