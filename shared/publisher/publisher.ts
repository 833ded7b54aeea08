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
 * It is a thin layer over the shared protocol session (`shared/session/`), which opens the
 * connection, waits for `OK`, sends heartbeats and drops a silent node; the retry policy is the
 * shared one too (`Reconnection`, with `startTimeoutMs` as its limit until the first `OK`).
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

import { CLIENT_CAPABILITIES } from "../capabilities.ts";
import { ErrorCode, isRetriable } from "../errors.ts";
import {
  ProtocolSession,
  type SessionEnd,
  type SessionRefused,
} from "../session/protocol_session.ts";
import { Reconnection } from "../session/reconnection.ts";
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
  #state: PublisherState = "idle";
  #session: ProtocolSession | null = null;
  /** Cancels the session being opened. */
  #opening: AbortController | null = null;
  #outbox: PublisherOutbox;
  #retry: Reconnection;
  #nodeParts = false;
  #everReady = false;
  #startedAt = 0;
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
    this.#retry = new Reconnection({
      backoff: options.backoff,
      limitMs: options.startTimeoutMs ?? Infinity,
    });
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
    this.#retry.lost(); // until the first OK, `startTimeoutMs` runs
    this.#tick = setInterval(() => this.#check(), 1000);
    this.#connect();
  }

  /**
   * Resolves when the publisher is (or next becomes) ready; rejects when it closes first (with the
   * fatal error, named by its code, when there was one).
   */
  ready(): Promise<void> {
    if (this.#state === "ready") return Promise.resolve();
    if (this.#state === "closed") {
      return Promise.reject(this.#lastError ?? new Error("the publisher is closed"));
    }
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
    const session = this.#session;
    this.#session = null;
    this.#stop();
    const closed = session?.finish() ?? Promise.resolve();
    this.#closed = closed;
    this.#setState("closed");
    return closed;
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
    const opening = new AbortController();
    this.#opening = opening;
    const options = this.#options;
    ProtocolSession.open({
      url: options.url,
      hello: {
        type: "PUSH",
        stream: options.streamId,
        auth,
        parts: options.parts !== false || undefined,
        caps: [...CLIENT_CAPABILITIES],
      },
      openMs: this.#openTimeoutMs,
      heartbeatMs: options.heartbeatMs ?? 30000,
      idleMs: options.idleTimeoutMs ?? 75000,
      WebSocket: options.WebSocket,
      signal: opening.signal,
    }, { onEnd: (end) => this.#onEnd(end) }).then((session) => {
      if (this.#opening !== opening) return session.close();
      this.#opening = null;
      this.#session = session;
      this.#onReady(session);
    }, (refusal: SessionRefused) => {
      if (this.#opening !== opening) return;
      this.#opening = null;
      this.#refused(refusal);
    });
  }

  get #openTimeoutMs(): number {
    return this.#options.openTimeoutMs ?? 10000;
  }

  /** The node did not accept the push (yet). */
  #refused(refusal: SessionRefused): void {
    const url = this.#options.url;
    switch (refusal.kind) {
      case "cancelled":
        return;
      case "url":
        return this.#fatal("CONNECTION_FAILED", `bad node URL: ${refusal.message}`);
      case "error":
        return this.#onError(refusal.code!, refusal.message);
      case "timeout":
        return this.#failAttempt(
          ErrorCode.TIMEOUT,
          `no answer from ${url} within ${this.#openTimeoutMs / 1000} s`,
        );
      default:
        return this.#failAttempt(
          "CONNECTION_FAILED",
          refusal.kind === "connect" && !refusal.opened
            ? `cannot connect to ${url}`
            : `${url}: ${refusal.message}`,
        );
    }
  }

  /** An `E` from the node: the end for codes that will not pass, a retry for the others. */
  #onError(code: string, message: string): void {
    if (FATAL_CODES.has(code)) this.#fatal(code, message || code);
    else this.#failAttempt(code, message || code);
  }

  #onReady(session: ProtocolSession): void {
    if (this.#everReady) this.#stats.reconnects++;
    this.#everReady = true;
    this.#retry.progress();
    this.#retry.limitMs = Infinity; // once it has published, it never gives up on its own
    this.#nodeParts = session.accepted.parts === true && this.#options.parts !== false;
    this.#setState("ready");
    const maxBuffered = this.#options.maxBufferedBytes ?? 16 * 1024 * 1024;
    const sink: OutboxSink = {
      send: (message, data) => session.sendMedia(message, data),
      get congested() {
        return session.bufferedAmount > maxBuffered;
      },
    };
    this.#outbox.attach(sink, this.#nodeParts);
  }

  #onEnd(end: SessionEnd): void {
    if (this.#session === null) return; // dropped or closed here
    this.#session = null;
    if (end.kind === "error") this.#onError(end.code, end.message);
    else {
      const why = end.kind === "closed" ? "the node ended the stream (CLOSE)" : end.reason;
      this.#failAttempt("CONNECTION_LOST", `the connection to the node was lost: ${why}`);
    }
  }

  /** Drops the session of a failed attempt or lost connection and schedules the next attempt. */
  #failAttempt(code: PublisherErrorCode, message: string): void {
    if (this.#isClosed) return;
    this.#dropSession();
    this.#retry.lost();
    if (this.#retry.expired()) {
      this.#fatal("UNREACHABLE", `${this.#unreachable()} (${message})`);
      return;
    }
    this.#lastError = errorOf(code, message);
    this.dispatchEvent(new PublisherErrorEvent(code, message, false));
    if (this.#isClosed) return;
    this.#setState(this.#everReady ? "reconnecting" : "connecting");
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => this.#connect(), this.#retry.nextDelay() ?? 0);
  }

  #fatal(code: PublisherErrorCode, message: string): void {
    if (this.#isClosed) return;
    this.#lastError = errorOf(code, message);
    this.#dropSession();
    this.#stop();
    this.#closed = Promise.resolve();
    this.dispatchEvent(new PublisherErrorEvent(code, message, true));
    this.#setState("closed");
  }

  #dropSession(): void {
    this.#outbox.attach(null, false);
    const session = this.#session;
    this.#session = null;
    session?.close("reconnecting");
  }

  /** Stops timers and any session being opened (an open session is the caller's). */
  #stop(): void {
    clearTimeout(this.#retryTimer);
    clearInterval(this.#tick);
    this.#opening?.abort();
    this.#opening = null;
    this.#outbox.attach(null, false);
  }

  #unreachable(): string {
    const seconds = Math.round((performance.now() - this.#startedAt) / 100) / 10;
    return `no connection to ${this.#options.url} within ${seconds} s`;
  }

  /** Once a second: the start timeout (heartbeats and the idle limit are the session's). */
  #check(): void {
    if (this.#everReady || !this.#retry.expired()) return;
    const last = this.#lastError === undefined ? "" : ` (${this.#lastError.message})`;
    this.#fatal("UNREACHABLE", `${this.#unreachable()}${last}`);
  }
}

function errorOf(code: string, message: string): Error {
  const error = new Error(message);
  error.name = code;
  return error;
}
