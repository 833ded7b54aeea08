/**
 * The player's connection to a node: one WebSocket at a time that pulls a stream, pairs each `F`
 * or `P` message with its binary frame, answers heartbeats, and reconnects with back-off and jitter
 * after a loss, resuming after the last complete fragment (`after=`) where the node knows it.
 *
 * It gives up only when no media came for `timeoutMs` in spite of retries, or when the node
 * refuses for good (a code that `isRetriable` rejects, like `AUTH_FAILED`). Runs in browsers and
 * in Deno (tests drive it against real nodes).
 *
 * @example
 * ```ts ignore
 * const connection = new PullConnection({ url, streamId: "a", authToken: token }, {
 *   media: (chunk) => console.log(chunk.kind, chunk.seq, chunk.data.byteLength),
 *   ended: () => console.log("CLOSE"),
 *   failed: (error) => console.error(error),
 * });
 * connection.start();
 * ```
 * @module
 */

import { CLIENT_CAPABILITIES } from "../shared/capabilities.ts";
import { isRetriable } from "../shared/errors.ts";
import {
  type FragmentMessage,
  parseMessage,
  type PartMessage,
  writeMessage,
} from "../shared/protocol.ts";
import { Backoff } from "../shared/backoff.ts";
import type { ReconnectInfo } from "./events.ts";
import { PlayerError } from "./events.ts";

/** A fragment or part as received. */
export interface MediaChunk {
  /** `fragment` (`F`) or `part` (`P`). */
  kind: "fragment" | "part";
  /** Fragment sequence number (absent from older nodes). */
  seq?: number;
  /** Part index (parts only). */
  part?: number;
  /** Publisher's wall clock of the first frame, ms since the epoch, when given. */
  time?: number;
  /** Duration in seconds (fragments, and the last part of a fragment). */
  duration?: number;
  /** Fragments were skipped before this one. */
  jump: boolean;
  /** Timestamps may not continue from the previous fragment. */
  discontinuity: boolean;
  /** Starts a fragment (an `F`, or part 0): begins with tables and a keyframe. */
  starts: boolean;
  /** Starts with a keyframe. */
  independent: boolean;
  /** Ends a fragment (an `F`, or the last part). */
  ends: boolean;
  /** The first chunk of a new connection (after a loss). */
  resumed: boolean;
  /** MPEG-TS bytes. */
  data: Uint8Array;
  /** `performance.now()` when the bytes arrived. */
  receivedAt: number;
}

/** How to connect. */
export interface PullConnectionOptions {
  /** Node WebSocket URL. */
  url: string;
  /** Stream id. */
  streamId: string;
  /** Pull token. */
  authToken: string;
  /** Ask for parts. @default true */
  parts?: boolean;
  /** `max_initial_fragments`. @default undefined (the node's default) */
  maxInitialFragments?: number;
  /** Give up after this long without media, in ms. @default 30000 */
  timeoutMs?: number;
  /** Send `H` after this long without sending, in ms. @default 30000 */
  heartbeatMs?: number;
  /** Drop a connection that received nothing for this long, in ms. @default 60000 */
  idleMs?: number;
  /** Reconnection delays. @default a Backoff of 250 ms to 5 s */
  backoff?: Backoff;
  /** Debug log. */
  log?: (message: string) => void;
}

/** What the connection reports. */
export interface PullConnectionHandlers {
  /** A fragment or part arrived. */
  media(chunk: MediaChunk): void;
  /** The stream ended cleanly (`CLOSE`). */
  ended(): void;
  /** The connection gave up. */
  failed(error: PlayerError): void;
  /** A connection is being (re)opened. */
  connecting?(): void;
  /** The node accepted the pull; `parts` tells whether it will send parts. */
  accepted?(parts: boolean): void;
  /** The connection was lost and will be retried. */
  reconnect?(info: ReconnectInfo): void;
}

/** Counters of a connection. */
export interface ConnectionCounters {
  /** Media bytes received. */
  bytes: number;
  /** Fragments and parts received. */
  chunks: number;
  /** Reconnections made. */
  reconnects: number;
  /** Whether the node agreed to send parts. */
  parts: boolean;
  /** Sequence number of the last complete fragment, if known. */
  lastSeq: number | undefined;
}

/** Pulls one stream from a node, across reconnections. */
export class PullConnection {
  #options: PullConnectionOptions;
  #handlers: PullConnectionHandlers;
  #backoff: Backoff;
  #socket: WebSocket | null = null;
  #pending: FragmentMessage | PartMessage | null = null;
  #counters: ConnectionCounters = {
    bytes: 0,
    chunks: 0,
    reconnects: 0,
    parts: false,
    lastSeq: undefined,
  };
  #lastSent = 0;
  #lastReceived = 0;
  #waitingSince: number | null = null;
  #freshConnection = false;
  #ticker: ReturnType<typeof setInterval> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #done = false;
  #lastReason = "";

  /** Creates the connection; nothing happens until `start()`. */
  constructor(options: PullConnectionOptions, handlers: PullConnectionHandlers) {
    this.#options = options;
    this.#handlers = handlers;
    this.#backoff = options.backoff ?? new Backoff({ initialMs: 250, maxMs: 5000, jitter: 0.5 });
  }

  /** Counters so far. */
  get counters(): Readonly<ConnectionCounters> {
    return this.#counters;
  }

  /** Whether a socket is open or opening. */
  get connected(): boolean {
    return this.#socket !== null;
  }

  /** Connects and pulls. */
  start(): void {
    if (this.#done || this.#socket !== null || this.#ticker !== undefined) return;
    this.#waitingSince = performance.now();
    this.#ticker = setInterval(() => this.#tick(), 1000);
    this.#connect();
  }

  /** Closes the socket and stops every timer. Idempotent. */
  destroy(): void {
    this.#done = true;
    clearInterval(this.#ticker);
    clearTimeout(this.#retryTimer);
    this.#ticker = undefined;
    this.#dropSocket();
  }

  #log(message: string): void {
    this.#options.log?.(message);
  }

  #connect(): void {
    if (this.#done) return;
    this.#handlers.connecting?.();
    let socket: WebSocket;
    try {
      socket = new WebSocket(this.#options.url);
    } catch (error) {
      this.#fail(new PlayerError("INVALID_URL", `cannot open ${this.#options.url}: ${error}`));
      return;
    }
    socket.binaryType = "arraybuffer";
    this.#socket = socket;
    this.#pending = null;
    this.#freshConnection = true;
    const now = performance.now();
    this.#lastReceived = now;
    socket.onopen = () => {
      const after = this.#counters.lastSeq;
      this.#send(writeMessage({
        type: "PULL",
        stream: this.#options.streamId,
        auth: this.#options.authToken,
        parts: this.#options.parts !== false || undefined,
        maxInitialFragments: this.#options.maxInitialFragments,
        after,
        caps: [...CLIENT_CAPABILITIES],
      }));
      this.#log(
        `connected to ${this.#options.url}; PULL${after !== undefined ? ` after ${after}` : ""}`,
      );
    };
    socket.onmessage = (event) => {
      if (socket !== this.#socket) return;
      this.#lastReceived = performance.now();
      if (typeof event.data === "string") this.#onText(event.data);
      else this.#onBinary(new Uint8Array(event.data as ArrayBuffer));
    };
    socket.onclose = (event) => {
      if (socket !== this.#socket) return;
      this.#socket = null;
      this.#lost(`connection closed (code ${event.code}${event.reason ? ` ${event.reason}` : ""})`);
    };
    socket.onerror = () => {};
  }

  #send(text: string): void {
    if (this.#socket?.readyState !== WebSocket.OPEN) return;
    this.#socket.send(text);
    this.#lastSent = performance.now();
  }

  #onText(text: string): void {
    let message;
    try {
      message = parseMessage(text);
    } catch (error) {
      this.#lost(
        `unreadable message from the node: ${error instanceof Error ? error.message : error}`,
      );
      return;
    }
    switch (message.type) {
      case "OK":
        this.#counters.parts = message.parts === true;
        this.#handlers.accepted?.(this.#counters.parts);
        return;
      case "F":
      case "P":
        this.#pending = message;
        return;
      case "CLOSE":
        this.#log("stream ended (CLOSE)");
        this.#done = true;
        this.#dropSocket();
        this.destroy();
        this.#handlers.ended();
        return;
      case "E":
        if (isRetriable(message.code)) {
          this.#lost(`${message.code}: ${message.message}`);
        } else {
          this.#fail(new PlayerError(message.code, message.message || message.code));
        }
        return;
    }
  }

  #onBinary(data: Uint8Array): void {
    const header = this.#pending;
    this.#pending = null;
    if (header === null) {
      this.#lost("binary frame without F or P");
      return;
    }
    const isPart = header.type === "P";
    const starts = !isPart || header.part === 0;
    const ends = !isPart || header.last === true;
    if (ends && header.seq !== undefined) this.#counters.lastSeq = header.seq;
    this.#counters.bytes += data.byteLength;
    this.#counters.chunks++;
    this.#waitingSince = null;
    this.#backoff.reset();
    const resumed = this.#freshConnection && this.#counters.reconnects > 0;
    this.#freshConnection = false;
    this.#handlers.media({
      kind: isPart ? "part" : "fragment",
      seq: header.seq,
      part: isPart ? header.part : undefined,
      time: header.time,
      duration: header.duration,
      jump: header.jump === true,
      discontinuity: header.discontinuity === true,
      starts,
      independent: starts || (isPart && header.independent === true),
      ends,
      resumed,
      data,
      receivedAt: performance.now(),
    });
  }

  #dropSocket(): void {
    const socket = this.#socket;
    this.#socket = null;
    if (socket === null) return;
    socket.onopen = socket.onmessage = socket.onclose = null;
    if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) {
      try {
        socket.close(1000, "bye");
      } catch { /* closing anyway */ }
    }
  }

  /** The connection was lost or refused for now: retry after a back-off, unless it is time to give up. */
  #lost(reason: string): void {
    if (this.#done) return;
    this.#dropSocket();
    this.#lastReason = reason;
    this.#waitingSince ??= performance.now();
    if (this.#givingUp()) return;
    const delayMs = this.#backoff.next();
    this.#counters.reconnects++;
    this.#log(`${reason}; reconnecting in ${delayMs} ms`);
    this.#handlers.reconnect?.({ attempt: this.#backoff.attempts, delayMs, reason });
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => this.#connect(), delayMs);
  }

  #givingUp(): boolean {
    const timeout = this.#options.timeoutMs ?? 30000;
    if (this.#waitingSince === null || performance.now() - this.#waitingSince < timeout) {
      return false;
    }
    const last = this.#lastReason ? ` (last: ${this.#lastReason})` : "";
    this.#fail(new PlayerError("TIMEOUT", `no media from the node within ${timeout} ms${last}`));
    return true;
  }

  #fail(error: PlayerError): void {
    if (this.#done) return;
    this.#log(`giving up: ${error.code}: ${error.message}`);
    this.destroy();
    this.#handlers.failed(error);
  }

  #tick(): void {
    if (this.#done) return;
    const now = performance.now();
    if (this.#givingUp()) return;
    if (this.#socket === null) return;
    if (now - this.#lastReceived > (this.#options.idleMs ?? 60000)) {
      this.#lost("nothing received for too long");
      return;
    }
    if (now - this.#lastSent >= (this.#options.heartbeatMs ?? 30000)) this.#send("H");
  }
}
