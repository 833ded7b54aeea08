/**
 * One pull from another node: a Web `WebSocket` that sends `PULL`, waits for `OK` or `E` under a
 * deadline, then pairs every `F`/`P` with its binary frame and hands them on, sends `H` while it
 * has nothing else to say, and gives up on an upstream that stays silent too long. Exactly one
 * `onEnd` call ends every connection that was opened.
 *
 * @example
 * ```ts ignore
 * const upstream = await UpstreamConnection.open({
 *   url: "ws://10.0.0.7/", pull: { type: "PULL", stream: "room/a", auth: token, parts: true },
 *   timeoutMs: 10_000, heartbeatMs: 30_000, idleMs: 60_000,
 * }, { onFragment, onPart, onEnd });
 * upstream.close(); // onEnd({ kind: "lost", reason: "closed by this node" })
 * ```
 * @module
 */

import { ErrorCode, ProtocolError } from "../../../shared/errors.ts";
import { MediaPairing } from "../../../shared/media_pairing.ts";
import {
  type FragmentMessage,
  type Message,
  parseMessage,
  type PartMessage,
  type PullMessage,
  writeMessage,
} from "../../../shared/protocol.ts";
import { upstreamUrlProblem } from "./upstream_url.ts";

/** How an open upstream connection ended. */
export type UpstreamEnd =
  /** The stream ended cleanly (`CLOSE`). */
  | { kind: "closed" }
  /** The upstream sent `E`. */
  | { kind: "error"; code: string; message: string }
  /** The connection broke, went silent, broke the protocol, or was closed here. */
  | { kind: "lost"; reason: string };

/** Why a connection attempt did not reach `OK`. */
export class UpstreamRefused extends Error {
  /** The code of the upstream's `E`, or `UPSTREAM_ERROR` when it could not be reached. */
  readonly code: string;
  /** Whether the upstream answered at all (an `E`), as opposed to unreachable or silent. */
  readonly answered: boolean;

  /** Creates the error. */
  constructor(code: string, message: string, answered: boolean) {
    super(message);
    this.name = "UpstreamRefused";
    this.code = code;
    this.answered = answered;
  }
}

/** Where media from the upstream goes. */
export interface UpstreamHandler {
  /** A whole fragment. */
  onFragment(message: FragmentMessage, data: Uint8Array): void;
  /** A part of a fragment. */
  onPart(message: PartMessage, data: Uint8Array): void;
  /** Called once when an opened connection ends (never for a failed `open`). */
  onEnd(end: UpstreamEnd): void;
}

/** How to pull. */
export interface UpstreamConnectionOptions {
  /** WebSocket URL of the upstream node. */
  url: string;
  /** The `PULL` to send. */
  pull: PullMessage;
  /** Deadline in ms for connecting and getting `OK` or `E`. */
  timeoutMs: number;
  /** Send `H` after this many ms without sending. */
  heartbeatMs: number;
  /** Give up after this many ms without receiving anything. */
  idleMs: number;
}

/** An open pull from an upstream node. */
export class UpstreamConnection {
  /** The upstream's URL. */
  readonly url: string;
  /** Whether the upstream agreed to send parts. */
  readonly parts: boolean;
  #socket: WebSocket;
  #handler: UpstreamHandler;
  #options: UpstreamConnectionOptions;
  #media = new MediaPairing();
  #lastReceived = performance.now();
  #lastSent = performance.now();
  #timer: ReturnType<typeof setInterval>;
  #ended = false;
  /** Media bytes received. */
  bytesReceived = 0;

  private constructor(
    socket: WebSocket,
    options: UpstreamConnectionOptions,
    handler: UpstreamHandler,
    parts: boolean,
  ) {
    this.#socket = socket;
    this.#options = options;
    this.#handler = handler;
    this.url = options.url;
    this.parts = parts;
    socket.onmessage = (event) => this.#onMessage(event.data);
    socket.onclose = (event) =>
      this.#end({ kind: "lost", reason: `connection closed (code ${event.code})` });
    socket.onerror = () => {};
    const tick = Math.max(50, Math.min(options.heartbeatMs, options.idleMs) / 4);
    this.#timer = setInterval(() => this.#tick(), tick);
  }

  /**
   * Connects and pulls. Resolves at `OK`; rejects with {@linkcode UpstreamRefused} on `E`, when the
   * node cannot be reached, or when it does not answer within `timeoutMs` or before `signal` aborts.
   */
  static open(
    options: UpstreamConnectionOptions,
    handler: UpstreamHandler,
    signal?: AbortSignal,
  ): Promise<UpstreamConnection> {
    return new Promise((resolve, reject) => {
      const problem = upstreamUrlProblem(options.url);
      if (problem !== null) {
        reject(
          new UpstreamRefused(ErrorCode.UPSTREAM_ERROR, `bad upstream URL: ${problem}`, false),
        );
        return;
      }
      let socket: WebSocket;
      try {
        socket = new WebSocket(options.url);
      } catch {
        reject(new UpstreamRefused(ErrorCode.UPSTREAM_ERROR, "bad upstream URL", false));
        return;
      }
      socket.binaryType = "arraybuffer";
      const fail = (error: UpstreamRefused) => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        socket.onopen =
          socket.onmessage =
          socket.onclose =
          socket.onerror =
            null;
        try {
          socket.close();
        } catch { /* not open yet */ }
        reject(error);
      };
      const onAbort = () =>
        fail(new UpstreamRefused(ErrorCode.UPSTREAM_ERROR, "pull cancelled", false));
      const timer = setTimeout(
        () =>
          fail(
            new UpstreamRefused(
              ErrorCode.UPSTREAM_ERROR,
              `no answer within ${options.timeoutMs} ms`,
              false,
            ),
          ),
        options.timeoutMs,
      );
      signal?.addEventListener("abort", onAbort, { once: true });
      if (signal?.aborted) return onAbort();
      socket.onopen = () => socket.send(writeMessage(options.pull));
      socket.onerror = () => {};
      socket.onclose = (event) =>
        fail(
          new UpstreamRefused(
            ErrorCode.UPSTREAM_ERROR,
            `cannot connect (code ${event.code})`,
            false,
          ),
        );
      socket.onmessage = (event) => {
        if (typeof event.data !== "string") {
          return fail(
            new UpstreamRefused(ErrorCode.UPSTREAM_ERROR, "binary frame before OK", true),
          );
        }
        let message: Message;
        try {
          message = parseMessage(event.data);
        } catch (error) {
          return fail(
            new UpstreamRefused(ErrorCode.UPSTREAM_ERROR, `bad answer: ${error}`, true),
          );
        }
        if (message.type === "H") return;
        if (message.type === "E") {
          return fail(new UpstreamRefused(message.code, message.message, true));
        }
        if (message.type !== "OK") {
          return fail(
            new UpstreamRefused(ErrorCode.UPSTREAM_ERROR, `${message.type} before OK`, true),
          );
        }
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        resolve(new UpstreamConnection(socket, options, handler, message.parts === true));
      };
    });
  }

  /** Closes the connection; `onEnd` reports it as lost ("closed by this node"). */
  close(reason = "closed by this node"): void {
    if (this.#ended) return;
    try {
      this.#socket.close(1000, "bye");
    } catch { /* closing */ }
    this.#end({ kind: "lost", reason });
  }

  #onMessage(data: unknown): void {
    if (this.#ended) return;
    this.#lastReceived = performance.now();
    try {
      if (typeof data === "string") this.#onText(data);
      else this.#onBinary(new Uint8Array(data as ArrayBuffer));
    } catch (error) {
      const reason = error instanceof ProtocolError ? error.message : String(error);
      this.close(`protocol error from upstream: ${reason}`);
    }
  }

  #onText(text: string): void {
    const message = parseMessage(text);
    this.#media.expectText(message);
    switch (message.type) {
      case "F":
      case "P":
        this.#media.announce(message);
        return;
      case "CLOSE":
        this.#finish({ kind: "closed" });
        return;
      case "E":
        this.#finish({ kind: "error", code: message.code, message: message.message });
        return;
      default:
        return; // H, OK, and messages of newer nodes
    }
  }

  #onBinary(data: Uint8Array): void {
    const pending = this.#media.take();
    this.bytesReceived += data.byteLength;
    if (pending.type === "F") this.#handler.onFragment(pending, data);
    else this.#handler.onPart(pending, data);
  }

  #tick(): void {
    const now = performance.now();
    if (now - this.#lastReceived > this.#options.idleMs) {
      this.close(`nothing received for ${Math.round(this.#options.idleMs / 1000)} s`);
      return;
    }
    if (now - this.#lastSent >= this.#options.heartbeatMs) {
      this.#lastSent = now;
      try {
        this.#socket.send(writeMessage({ type: "H" }));
      } catch { /* closing */ }
    }
  }

  /** The upstream ended the stream: close our side too. */
  #finish(end: UpstreamEnd): void {
    try {
      this.#socket.close(1000, "bye");
    } catch { /* closing */ }
    this.#end(end);
  }

  #end(end: UpstreamEnd): void {
    if (this.#ended) return;
    this.#ended = true;
    clearInterval(this.#timer);
    this.#socket.onmessage = this.#socket.onclose = null;
    this.#handler.onEnd(end);
  }
}
