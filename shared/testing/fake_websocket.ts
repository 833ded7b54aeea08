/**
 * Test support: a browser `WebSocket` whose other end is the test. The test opens it, sends it
 * text and binary frames as a node would, drops it, and reads what the player sent.
 * {@linkcode installFakeWebSocket} makes it the global `WebSocket`.
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
  /** Text frames the page sent. */
  readonly sent: string[] = [];
  /** The close the page asked for, if it did. */
  closedWith: { code?: number; reason?: string } | null = null;
  /** `readyState`. */
  readyState = FakeWebSocket.CONNECTING;
  /** Set by the page. */
  binaryType: BinaryType = "blob";
  /** Set by the page. */
  onopen: ((event: Event) => void) | null = null;
  /** Set by the page. */
  onmessage: ((event: MessageEvent) => void) | null = null;
  /** Set by the page. */
  onclose: ((event: CloseEvent) => void) | null = null;
  /** Set by the page. */
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

  /** The page sends a text frame. */
  send(data: string): void {
    if (this.readyState !== FakeWebSocket.OPEN) {
      throw new DOMException("not open", "InvalidStateError");
    }
    this.sent.push(data);
  }

  /** The page closes the socket. */
  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
    this.readyState = FakeWebSocket.CLOSED;
  }
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
  const created: FakeWebSocket[] = [];
  scope.WebSocket = class extends FakeWebSocket {
    constructor(url: string | URL) {
      super(url);
      created.push(this);
    }
  };
  return {
    created,
    [Symbol.dispose]() {
      scope.WebSocket = saved;
    },
  };
}
