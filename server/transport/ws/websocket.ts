/**
 * The `ws` transport: `npm:ws` over `node:http` / `node:https`, run by Deno.
 *
 * It is the default because fan-out costs about a tenth of the built-in socket's CPU per byte and
 * it can drop a stalled peer with `terminate()` (see `documentation/architecture.md`).
 *
 * @example
 * ```ts ignore
 * import { wsTransport } from "./websocket.ts";
 * const listener = await wsTransport.listen({ hostname: "127.0.0.1", port: 0, maxMessageSize: 1 << 20 }, handler);
 * ```
 * @module
 */

// @ts-types="@types/ws"
import { WebSocket, WebSocketServer } from "ws";
import http from "node:http";
import https from "node:https";
import type { Duplex } from "node:stream";
import {
  type Listener,
  type ListenOptions,
  type MediaMessage,
  normalizeAddress,
  type RequestHandler,
  type ServerSocket,
  type SocketListener,
  type TextFrame,
  type TlsCertificate,
  type Transport,
} from "../transport.ts";
import { requestUrl, toHeaders, toWebRequest, writeWebResponse } from "./http_bridge.ts";

const TOO_LARGE = 1009;

/** The part of `ws`'s frame parser that holds the size limit (checked from each frame header). */
interface FrameReceiver {
  _maxPayload: number;
}

/**
 * A `ws` socket that lets its owner speak (send `E`) before `ws` closes it for an oversize frame,
 * and change its size limit while it is open. `ws` closes with 1009 from inside its frame parser,
 * so overriding `close` is the one place to act. `ws` sets one limit for every socket of a server
 * and checks it against each frame header in its receiver (`_maxPayload`); `setSocket`, where `ws`
 * creates that receiver, is where we take hold of it, and a test (`websocket_test.ts`) checks that
 * the pinned `ws` still works this way.
 */
class NodeWebSocket extends WebSocket {
  onTooLarge: (() => void) | undefined;
  #receiver: FrameReceiver | undefined;

  setSocket(socket: Duplex, head: Buffer, options: object): void {
    // deno-lint-ignore no-explicit-any
    (WebSocket.prototype as any).setSocket.call(this, socket, head, options);
    // deno-lint-ignore no-explicit-any
    const receiver = (this as any)._receiver as FrameReceiver | undefined;
    if (typeof receiver?._maxPayload !== "number") {
      throw new Error("this version of ws has no per-socket size limit (_receiver._maxPayload)");
    }
    this.#receiver = receiver;
  }

  /** The largest frame accepted from now on (at least 1 byte: `ws` reads 0 as no limit). */
  set maxPayload(bytes: number) {
    this.#receiver!._maxPayload = Math.max(1, Math.floor(bytes));
  }

  override close(code?: number, data?: string | Buffer): void {
    if (code === TOO_LARGE && this.onTooLarge) {
      const notify = this.onTooLarge;
      this.onTooLarge = undefined;
      notify();
    }
    super.close(code, data);
  }
}

/** A {@linkcode ServerSocket} over one `ws` socket. */
class WsServerSocket implements ServerSocket {
  #socket: NodeWebSocket;
  #raw: Duplex;
  #ceiling: number;

  /** Wraps a `ws` socket and the TCP (or TLS) socket it runs on; `ceiling` is the listener's limit. */
  constructor(socket: NodeWebSocket, raw: Duplex, ceiling: number) {
    this.#socket = socket;
    this.#raw = raw;
    this.#ceiling = ceiling;
  }

  setMaxMessageSize(bytes: number): void {
    this.#socket.maxPayload = Math.min(bytes, this.#ceiling);
  }

  get bufferedAmount(): number {
    return this.#socket.bufferedAmount;
  }

  listen(listener: SocketListener): void {
    const socket = this.#socket;
    socket.onTooLarge = () => listener.onTooLarge();
    socket.on("message", (data: Buffer, isBinary: boolean) => {
      if (isBinary) listener.onBinary(data);
      else listener.onText(data.toString("utf8"));
    });
    socket.on("close", (code: number, reason: Buffer) => listener.onClose(code, reason.toString()));
    // Errors (bad frames, resets) are followed by "close"; listening keeps them from being thrown.
    socket.on("error", () => {});
  }

  sendText(frame: TextFrame): void {
    if (this.#socket.readyState !== WebSocket.OPEN) return;
    this.#socket.send(frame.bytes, { binary: false });
  }

  /**
   * Writes the message, framed once for every spectator, straight to the socket `ws` runs on, in
   * one write: the whole message when it is small (`wire`), else the prefix (text frame + binary
   * header) and the shared payload corked into one vectored write. No per-spectator framing and no
   * copy of the payload in our code. While the socket is busy, `node:stream` holds what follows and
   * writes it all in one vectored write when the socket drains. This is safe because compression is
   * off, so `ws` queues nothing of its own and writes go in order; `bufferedAmount` still counts
   * these bytes.
   */
  sendMedia(message: MediaMessage): void {
    const raw = this.#raw;
    if (this.#socket.readyState !== WebSocket.OPEN || raw.destroyed) return;
    const wire = message.wire;
    if (wire !== undefined) {
      raw.write(wire);
      return;
    }
    raw.cork();
    raw.write(message.wirePrefix);
    raw.write(message.data);
    raw.uncork();
  }

  close(code = 1000, reason = ""): void {
    this.#socket.close(code, reason);
  }

  terminate(): void {
    this.#socket.terminate();
  }
}

/** The TCP socket under a TLS socket (the one the `connection` event gave), or the socket itself. */
function rawSocket(socket: Duplex): Duplex {
  const parent = (socket as Duplex & { _parent?: Duplex; socket?: Duplex })._parent;
  return parent ?? socket;
}

/** The `ws` transport. */
export const wsTransport: Transport = {
  name: "ws",
  async listen(options: ListenOptions, handler: RequestHandler): Promise<Listener> {
    const sockets = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxMessageSize,
      perMessageDeflate: false,
      clientTracking: false,
      WebSocket: NodeWebSocket,
    });
    const onRequest = (request: http.IncomingMessage, response: http.ServerResponse) => {
      const remote = normalizeAddress(request.socket.remoteAddress);
      Promise.resolve()
        .then(() => handler.fetch(toWebRequest(request, options.tls !== undefined), remote))
        .then((answer) => writeWebResponse(answer, response))
        .catch(() => {
          if (!response.headersSent) response.writeHead(500);
          response.end();
        });
    };
    const server = options.tls
      ? https.createServer({ cert: options.tls.cert, key: options.tls.key }, onRequest)
      : http.createServer(onRequest);
    // Plain HTTP connections (keep-alive ones too), so closing does not wait for idle clients.
    const httpSockets = new Set<Duplex>();
    server.on(options.tls ? "secureConnection" : "connection", (socket: Duplex) => {
      httpSockets.add(socket);
      socket.once("close", () => httpSockets.delete(socket));
    });
    // Every new connection must send a request in time (TLS handshake included); node:http's own
    // header timeout is not enforced under Deno.
    // A keep-alive connection must send its next request within the same time.
    const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    const waiting = new Map<Duplex, ReturnType<typeof setTimeout>>();
    const answered = (socket: Duplex) => {
      clearTimeout(waiting.get(socket));
      waiting.delete(socket);
    };
    const expectRequest = (socket: Duplex) => {
      if (socket.destroyed) return;
      answered(socket);
      waiting.set(
        socket,
        setTimeout(() => {
          waiting.delete(socket);
          socket.destroy();
        }, requestTimeoutMs),
      );
    };
    server.on("connection", (socket: Duplex) => {
      expectRequest(socket);
      socket.once("close", () => answered(socket));
    });
    server.on("request", (request: http.IncomingMessage, response: http.ServerResponse) => {
      const socket = rawSocket(request.socket);
      answered(socket);
      response.once("finish", () => expectRequest(socket));
    });
    server.on("upgrade", (request: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      answered(rawSocket(socket));
      httpSockets.delete(socket);
      const url = new URL(request.url ?? "/", "http://localhost");
      if (!handler.isWebSocketPath(url.pathname)) {
        socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        return;
      }
      sockets.handleUpgrade(request, socket, head, (ws) => {
        const secure = options.tls !== undefined;
        // URL and headers are built only if the node asks for them (most connections never do).
        handler.onSocket(new WsServerSocket(ws as NodeWebSocket, socket, options.maxMessageSize), {
          get url() {
            return requestUrl(request, secure);
          },
          get headers() {
            return toHeaders(request);
          },
          remoteAddress: normalizeAddress(request.socket.remoteAddress),
        });
      });
    });
    server.on("clientError", (_error: Error, socket: Duplex) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port, options.hostname || undefined, () => resolve());
    });
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : options.port;
    return {
      port,
      setCertificate(certificate: TlsCertificate) {
        if (server instanceof https.Server) server.setSecureContext(certificate);
        return Promise.resolve();
      },
      close() {
        return new Promise<void>((resolve) => {
          server.close(() => resolve());
          for (const socket of httpSockets) socket.destroy();
          for (const [socket, timer] of waiting) {
            clearTimeout(timer);
            socket.destroy();
          }
          waiting.clear();
        });
      },
    };
  },
};
