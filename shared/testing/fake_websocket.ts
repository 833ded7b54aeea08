/**
 * Test support: a Web `WebSocket` whose other end is the test. The test opens it, sends it text and
 * binary frames as a node would, drops it, and reads what the client (a player, a relay's upstream
 * pull, a publisher) sent. Pass the class where a `WebSocket` class is taken
 * ({@linkcode fakeWebSockets}), or make it the global one ({@linkcode installFakeWebSocket}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { installFakeWebSocket } from "./fake_websocket.ts";
 * using sockets = installFakeWebSocket();
 * const socket = new WebSocket("ws://127.0.0.1:1/");
 * socket.onopen = () => socket.send("H");
 * sockets.created[0].open();
 * assert.deepEqual(sockets.created[0].sent, ["H"]);
 * ```
 * @module
 */

import { until } from "./until.ts";

/** One socket; its node is the test. */
export class FakeWebSocket {
  /** `readyState` values. */
  static readonly CONNECTING = 0;
  /** `readyState` values. */
  static readonly OPEN = 1;
  /** `readyState` values. */
  static readonly CLOSING = 2;
  /** `readyState` values. */
  static readonly CLOSED = 3;
  /** The URL it was opened with. */
  readonly url: string;
  /** Text frames the client sent. */
  readonly sent: string[] = [];
  /** Every frame the client sent, text and binary, in order. */
  readonly frames: (string | Uint8Array)[] = [];
  /** What the client sees as not yet sent (a test sets it to make the socket look congested). */
  bufferedAmount = 0;
  /** The close the client asked for, if it did. */
  closedWith: { code?: number; reason?: string } | null = null;
  /** `readyState`. */
  readyState = FakeWebSocket.CONNECTING;
  /** Set by the client. */
  binaryType: BinaryType = "blob";
  /** Set by the client. */
  onopen: ((event: Event) => void) | null = null;
  /** Set by the client. */
  onmessage: ((event: MessageEvent) => void) | null = null;
  /** Set by the client. */
  onclose: ((event: CloseEvent) => void) | null = null;
  /** Set by the client. */
  onerror: ((event: Event) => void) | null = null;

  /** A socket to `url`, connecting. */
  constructor(url: string | URL) {
    this.url = String(url);
  }

  /** The node accepts the connection. */
  open(): void {
    this.readyState = FakeWebSocket.OPEN;
    this.onopen?.(new Event("open"));
  }

  /** The node sends a text frame. */
  text(data: string): void {
    this.onmessage?.(new MessageEvent("message", { data }));
  }

  /** The node sends a binary frame (an `ArrayBuffer`, as `binaryType: "arraybuffer"` gives). */
  binary(bytes: Uint8Array): void {
    this.onmessage?.(new MessageEvent("message", { data: bytes.slice().buffer }));
  }

  /** The connection drops (or the node closes it) with `code`. */
  drop(code = 1006, reason = ""): void {
    this.readyState = FakeWebSocket.CLOSED;
    this.onclose?.(new CloseEvent("close", { code, reason }));
  }

  /** The client sends a frame. */
  send(data: string | ArrayBufferLike | ArrayBufferView): void {
    if (this.readyState !== FakeWebSocket.OPEN) {
      throw new DOMException("not open", "InvalidStateError");
    }
    if (typeof data === "string") {
      this.sent.push(data);
      this.frames.push(data);
    } else if (ArrayBuffer.isView(data)) {
      this.frames.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice());
    } else {
      this.frames.push(new Uint8Array(data).slice());
    }
  }

  /** The client closes the socket. */
  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
    this.readyState = FakeWebSocket.CLOSED;
  }
}

/**
 * The node's side of the next connection: waits until the client opens a socket (one it has not
 * been given yet, or the newest while it still connects), accepts it, and sends `answer` when
 * given (`OK`, or a refusal).
 */
export async function acceptNext(
  sockets: { readonly created: readonly FakeWebSocket[] },
  answer?: string,
): Promise<FakeWebSocket> {
  const count = sockets.created.length;
  await until(
    () =>
      sockets.created.length > count ||
      sockets.created.at(-1)?.readyState === FakeWebSocket.CONNECTING,
    "a new socket",
  );
  const socket = sockets.created.at(-1)!;
  socket.open();
  if (answer !== undefined) socket.text(answer);
  return socket;
}

/** A `WebSocket` class whose sockets are fakes, and every socket it made. */
export interface FakeWebSocketClass {
  /** The class, to pass where a `WebSocket` class is taken. */
  readonly WebSocket: typeof WebSocket;
  /** Every socket opened, in order. */
  readonly created: FakeWebSocket[];
}

/** A fresh fake `WebSocket` class that records the sockets it makes. */
export function fakeWebSockets(): FakeWebSocketClass {
  const created: FakeWebSocket[] = [];
  const FakeClass = class extends FakeWebSocket {
    constructor(url: string | URL) {
      super(url);
      created.push(this);
    }
  };
  return { WebSocket: FakeClass as unknown as typeof WebSocket, created };
}

/** The fake sockets opened while {@linkcode installFakeWebSocket} is in force. */
export interface FakeWebSockets extends Disposable {
  /** Every socket opened, in order. */
  readonly created: FakeWebSocket[];
}

/** Makes {@linkcode FakeWebSocket} the global `WebSocket` until the result is disposed. */
export function installFakeWebSocket(): FakeWebSockets {
  const scope = globalThis as { WebSocket: unknown };
  const saved = scope.WebSocket;
  const { WebSocket, created } = fakeWebSockets();
  scope.WebSocket = WebSocket;
  return {
    created,
    [Symbol.dispose]() {
      scope.WebSocket = saved;
    },
  };
}
