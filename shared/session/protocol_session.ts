/**
 * One client connection to a node, as every client of ours speaks it: the player's pull, a relay's
 * pull from its upstream node, and the publisher library's push. It opens a Web `WebSocket`, sends
 * the first message (`PUSH` or `PULL`), waits for `OK` or `E` under a deadline, then:
 *
 * - pairs every `F`/`P` with the binary frame after it, with one rule: a binary frame without its
 *   header, or any text message (a second `F`/`P` included) where a binary frame is due, is a
 *   protocol error that ends the session;
 * - sends `H` when it has sent nothing for `heartbeatMs`, and ends the session when nothing came
 *   for `idleMs`;
 * - ends on `CLOSE` (the stream ended) and on `E` (the node's error), closing its side quietly;
 * - hands every other message (types of later extensions) to `onMessage`, and sends any message
 *   a layer gives it (`send`), so extensions need no change here.
 *
 * A session that reaches `OK` ends exactly once, through `onEnd`; one that does not rejects its
 * `open` with a {@linkcode SessionRefused}. What to do next (retry, give up, resume) is the
 * caller's: see `reconnection.ts`.
 *
 * This module runs in browsers and in Deno alike (Web WebSocket only).
 *
 * @example
 * ```ts ignore
 * const session = await ProtocolSession.open({
 *   url: "ws://127.0.0.1:8080/",
 *   hello: { type: "PULL", stream: "room/a", auth: token, parts: true, caps: ["errors"] },
 *   openMs: 10_000,
 * }, {
 *   onMedia: (header, data) => console.log(header.type, header.seq, data.byteLength),
 *   onEnd: (end) => console.log("ended", end.kind),
 * });
 * console.log(session.accepted.parts); // the node agreed to send parts
 * session.close(); // onEnd({ kind: "lost", reason: "closed by this side" })
 * ```
 * @module
 */

import { ProtocolError } from "../errors.ts";
import { type MediaHeader, MediaPairing } from "../media_pairing.ts";
import {
  type KnownMessage,
  type Message,
  type OkMessage,
  parseMessage,
  type PullMessage,
  type PushMessage,
  writeMessage,
} from "../protocol.ts";

/** The deadlines of a session, in milliseconds. */
export interface SessionTimeouts {
  /** From opening the socket to the node's `OK` or `E`. */
  openMs: number;
  /** Send `H` after this long without sending. @default 30000 */
  heartbeatMs?: number;
  /** End the session when nothing was received for this long (after `OK`). @default 60000 */
  idleMs?: number;
}

/** How to open a session. */
export interface SessionOptions extends SessionTimeouts {
  /** WebSocket URL of the node. */
  url: string;
  /** The first message. */
  hello: PushMessage | PullMessage;
  /** The WebSocket class. @default globalThis.WebSocket */
  WebSocket?: typeof WebSocket;
  /** Gives up before `OK` when aborted (the refusal's kind is `cancelled`). */
  signal?: AbortSignal;
}

/**
 * Why a session did not reach `OK`: `url` (it cannot be opened), `connect` (the socket closed
 * first: unreachable, or closed by the node), `timeout` (no answer within `openMs`), `error` (the
 * node answered `E`), `protocol` (an answer that breaks the protocol), `cancelled` (the signal).
 */
export type RefusalKind = "url" | "connect" | "timeout" | "error" | "protocol" | "cancelled";

/** A session that did not reach `OK`. */
export class SessionRefused extends Error {
  /** Why. */
  readonly kind: RefusalKind;
  /** The code of the node's `E` (kind `error` only). */
  readonly code: string | undefined;
  /** Whether the socket had opened (kind `connect`: the node closed it, rather than unreachable). */
  readonly opened: boolean;

  /** Creates the refusal. */
  constructor(
    kind: RefusalKind,
    message: string,
    options: { code?: string; opened?: boolean } = {},
  ) {
    super(message);
    this.name = "SessionRefused";
    this.kind = kind;
    this.code = options.code;
    this.opened = options.opened ?? false;
  }

  /** Whether the node answered at all (an `E`, or an answer that broke the protocol). */
  get answered(): boolean {
    return this.kind === "error" || this.kind === "protocol";
  }
}

/** How a session that reached `OK` ended. */
export type SessionEnd =
  /** The node sent `CLOSE`: the stream ended. */
  | { kind: "closed" }
  /** The node sent `E`. */
  | { kind: "error"; code: string; message: string }
  /** The connection broke, went silent, broke the protocol, or was closed by this side. */
  | { kind: "lost"; reason: string };

/** Where a session's messages go. */
export interface SessionHandler {
  /**
   * A fragment or part: its `F`/`P` and its bytes; `headerAt` is `performance.now()` when the
   * `F`/`P` text arrived (the bytes arrived now).
   */
  onMedia?(header: MediaHeader, data: Uint8Array, headerAt: number): void;
  /** Any other message after `OK` that the session does not handle itself (extensions). */
  onMessage?(message: Message): void;
  /** Called once when a session that reached `OK` ends. */
  onEnd(end: SessionEnd): void;
}

/** `readyState` of an open WebSocket. */
const OPEN = 1;
/** How long `finish` waits for the closing handshake. */
const FINISH_WAIT_MS = 3000;

/** Closes a socket, ignoring that it may be closing already. */
function closeQuietly(socket: WebSocket, code = 1000, reason = "bye"): void {
  try {
    socket.close(code, reason);
  } catch { /* closing already */ }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** An open session (see the module documentation). */
export class ProtocolSession {
  /** The node's URL. */
  readonly url: string;
  /** The node's `OK`: whether it grants parts, and which capabilities. */
  readonly accepted: OkMessage;
  #socket: WebSocket;
  #handler: SessionHandler;
  #pairing = new MediaPairing();
  #heartbeatMs: number;
  #idleMs: number;
  #lastReceived = performance.now();
  #headerAt = 0;
  #lastSent = performance.now();
  #ticker: ReturnType<typeof setInterval>;
  #ended = false;
  #bytesReceived = 0;

  private constructor(
    socket: WebSocket,
    options: SessionOptions,
    handler: SessionHandler,
    accepted: OkMessage,
  ) {
    this.#socket = socket;
    this.#handler = handler;
    this.url = options.url;
    this.accepted = accepted;
    this.#heartbeatMs = options.heartbeatMs ?? 30_000;
    this.#idleMs = options.idleMs ?? 60_000;
    socket.onmessage = (event) => this.#onMessage(event.data);
    socket.onclose = (event) => this.#end({ kind: "lost", reason: closeReason(event) });
    socket.onerror = () => {};
    const tick = Math.min(1000, Math.max(50, Math.min(this.#heartbeatMs, this.#idleMs) / 4));
    this.#ticker = setInterval(() => this.#tick(), tick);
  }

  /**
   * Connects and sends `hello`. Resolves at `OK`; rejects with {@linkcode SessionRefused} on `E`,
   * when the node cannot be reached or breaks the protocol, when it does not answer within
   * `openMs`, or when `signal` aborts first.
   */
  static open(options: SessionOptions, handler: SessionHandler): Promise<ProtocolSession> {
    return new Promise((resolve, reject) => {
      const { signal } = options;
      let socket: WebSocket;
      try {
        socket = new (options.WebSocket ?? globalThis.WebSocket)(options.url);
      } catch (error) {
        reject(new SessionRefused("url", `cannot open ${options.url}: ${describe(error)}`));
        return;
      }
      socket.binaryType = "arraybuffer";
      let opened = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const settle = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      const refuse = (error: SessionRefused) => {
        settle();
        socket.onopen =
          socket.onmessage =
          socket.onclose =
          socket.onerror =
            null;
        closeQuietly(socket);
        reject(error);
      };
      const onAbort = () => refuse(new SessionRefused("cancelled", "cancelled"));
      if (Number.isFinite(options.openMs)) {
        timer = setTimeout(
          () => refuse(new SessionRefused("timeout", `no answer within ${options.openMs} ms`)),
          options.openMs,
        );
      }
      signal?.addEventListener("abort", onAbort, { once: true });
      if (signal?.aborted) return onAbort();
      socket.onopen = () => {
        opened = true;
        socket.send(writeMessage(options.hello));
      };
      socket.onerror = () => {};
      socket.onclose = (event) => {
        const why = opened ? "the node closed the connection" : "cannot connect";
        refuse(new SessionRefused("connect", `${why} (code ${event.code})`, { opened }));
      };
      socket.onmessage = (event) => {
        const answer = readAnswer(event.data);
        if (answer === null) return;
        if (answer instanceof SessionRefused) return refuse(answer);
        settle();
        resolve(new ProtocolSession(socket, options, handler, answer));
      };
    });
  }

  /** Media bytes received. */
  get bytesReceived(): number {
    return this.#bytesReceived;
  }

  /** Bytes handed to the socket and not yet sent. */
  get bufferedAmount(): number {
    return this.#socket.bufferedAmount;
  }

  /** Whether the session has ended. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Sends a message (does nothing once the session has ended). */
  send(message: KnownMessage): void {
    this.#sendFrame(writeMessage(message));
  }

  /** Sends a fragment or part: its `F`/`P`, then its bytes. */
  sendMedia(header: MediaHeader, data: Uint8Array): void {
    this.send(header);
    this.#sendFrame(data);
  }

  /** Closes the connection; `onEnd` reports it as lost for `reason`. */
  close(reason = "closed by this side"): void {
    if (this.#ended) return;
    closeQuietly(this.#socket);
    this.#end({ kind: "lost", reason });
  }

  /**
   * Ends the stream from this side: `CLOSE`, then the closing handshake. Resolves once the socket
   * has closed, or after 3 s. `onEnd` reports the session as lost ("stream ended by this side").
   */
  finish(): Promise<void> {
    if (this.#ended) return Promise.resolve();
    const socket = this.#socket;
    this.send({ type: "CLOSE" });
    this.#end({ kind: "lost", reason: "stream ended by this side" });
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, FINISH_WAIT_MS);
      socket.onclose = () => {
        clearTimeout(timer);
        resolve();
      };
      closeQuietly(socket, 1000, "stream ended");
    });
  }

  #sendFrame(frame: string | Uint8Array): void {
    if (this.#ended || this.#socket.readyState !== OPEN) return;
    try {
      this.#socket.send(frame as string | Uint8Array<ArrayBuffer>);
      this.#lastSent = performance.now();
    } catch { /* closing: the close event ends the session */ }
  }

  #onMessage(data: unknown): void {
    if (this.#ended) return;
    this.#lastReceived = performance.now();
    try {
      if (typeof data === "string") this.#onText(parseMessage(data));
      else this.#onBinary(new Uint8Array(data as ArrayBuffer));
    } catch (error) {
      const what = error instanceof ProtocolError ? "protocol error from the node" : "failed";
      this.close(`${what}: ${describe(error)}`);
    }
  }

  #onText(message: Message): void {
    if (this.#pairing.receive(message)) {
      this.#headerAt = this.#lastReceived;
      return;
    }
    switch (message.type) {
      case "CLOSE":
        this.#finishFromNode({ kind: "closed" });
        return;
      case "E":
        this.#finishFromNode({ kind: "error", code: message.code, message: message.message });
        return;
      case "H":
      case "OK":
        return;
      default:
        this.#handler.onMessage?.(message);
    }
  }

  #onBinary(data: Uint8Array): void {
    const header = this.#pairing.take();
    this.#bytesReceived += data.byteLength;
    this.#handler.onMedia?.(header, data, this.#headerAt);
  }

  #tick(): void {
    const now = performance.now();
    if (now - this.#lastReceived > this.#idleMs) {
      this.close(`nothing received for ${duration(this.#idleMs)}`);
      return;
    }
    if (now - this.#lastSent >= this.#heartbeatMs) this.send({ type: "H" });
  }

  /** The node ended the session (`CLOSE` or `E`): close this side too. */
  #finishFromNode(end: SessionEnd): void {
    closeQuietly(this.#socket);
    this.#end(end);
  }

  #end(end: SessionEnd): void {
    if (this.#ended) return;
    this.#ended = true;
    clearInterval(this.#ticker);
    this.#socket.onmessage = this.#socket.onclose = null;
    this.#handler.onEnd(end);
  }
}

/**
 * The node's answer to the first message: `OK`, a refusal, or null for a message that changes
 * nothing yet (`H`, or a type this code does not know).
 */
function readAnswer(data: unknown): OkMessage | SessionRefused | null {
  if (typeof data !== "string") {
    return new SessionRefused("protocol", "a binary frame before OK");
  }
  let message: Message;
  try {
    message = parseMessage(data);
  } catch (error) {
    return new SessionRefused("protocol", `an unreadable answer: ${describe(error)}`);
  }
  switch (message.type) {
    case "OK":
      return message;
    case "E":
      return new SessionRefused("error", message.message || message.code, { code: message.code });
    case "H":
    case "UNKNOWN":
      return null;
    default:
      return new SessionRefused("protocol", `${message.type} before OK`);
  }
}

/** `60 s`, or `80 ms` below a second. */
function duration(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 1000)} s` : `${ms} ms`;
}

function closeReason(event: CloseEvent): string {
  return `connection closed (code ${event.code}${event.reason ? ` ${event.reason}` : ""})`;
}
