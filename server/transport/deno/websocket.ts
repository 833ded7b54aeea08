/**
 * The `deno` transport: `Deno.serve` with `Deno.upgradeWebSocket`.
 *
 * Kept for comparison and for deployments that want no npm transport; it copies every send and
 * cannot drop a stalled peer at once, so the fan-out benchmark makes `ws` the default.
 *
 * @example
 * ```ts ignore
 * import { denoTransport } from "./websocket.ts";
 * const listener = await denoTransport.listen({ hostname: "127.0.0.1", port: 0, maxMessageSize: 1 << 20 }, handler);
 * ```
 * @module
 */

import type {
  Listener,
  ListenOptions,
  MediaMessage,
  RequestHandler,
  ServerSocket,
  SocketListener,
  TextFrame,
  TlsCertificate,
  Transport,
} from "../transport.ts";
import { normalizeAddress } from "../transport.ts";

/** A {@linkcode ServerSocket} over one built-in WebSocket. */
class DenoServerSocket implements ServerSocket {
  #socket: WebSocket;
  #maxMessageSize: number;

  constructor(socket: WebSocket, maxMessageSize: number) {
    this.#socket = socket;
    this.#socket.binaryType = "arraybuffer";
    this.#maxMessageSize = maxMessageSize;
  }

  get bufferedAmount(): number {
    return this.#socket.bufferedAmount;
  }

  listen(listener: SocketListener): void {
    const socket = this.#socket;
    socket.onmessage = (event: MessageEvent) => {
      const data = event.data;
      const size = typeof data === "string" ? data.length : (data as ArrayBuffer).byteLength;
      // The built-in socket has no size limit of its own: the frame is already in memory here.
      if (size > this.#maxMessageSize) {
        listener.onTooLarge();
        this.close(1009, "message too large");
        return;
      }
      if (typeof data === "string") listener.onText(data);
      else listener.onBinary(new Uint8Array(data as ArrayBuffer));
    };
    socket.onclose = (event: CloseEvent) => listener.onClose(event.code, event.reason);
    socket.onerror = () => {};
  }

  sendText(frame: TextFrame): void {
    if (this.#socket.readyState === WebSocket.OPEN) this.#socket.send(frame.text);
  }

  sendBinary(data: Uint8Array): void {
    if (this.#socket.readyState === WebSocket.OPEN) this.#socket.send(data);
  }

  sendMedia(message: MediaMessage): void {
    if (this.#socket.readyState !== WebSocket.OPEN) return;
    this.#socket.send(message.header.text);
    this.#socket.send(message.data);
  }

  close(code = 1000, reason = ""): void {
    if (
      this.#socket.readyState === WebSocket.OPEN || this.#socket.readyState === WebSocket.CONNECTING
    ) {
      this.#socket.close(code, reason);
    }
  }

  terminate(): void {
    // The built-in socket has no abortive close; the closing handshake is the best it can do.
    this.close(1001, "terminated");
  }
}

/** The `Deno.serve` transport. */
export const denoTransport: Transport = {
  name: "deno",
  listen(options: ListenOptions, handler: RequestHandler): Promise<Listener> {
    const abort = new AbortController();
    return new Promise<Listener>((resolve, reject) => {
      const serveOptions = {
        hostname: options.hostname || "0.0.0.0",
        port: options.port,
        signal: abort.signal,
        onListen({ port }: { port: number }) {
          resolve({
            port,
            setCertificate(_certificate: TlsCertificate) {
              // Deno.serve cannot swap its certificate; the node restarts the listener instead.
            },
            async close() {
              abort.abort();
              await server.finished;
            },
          });
        },
        onError() {
          return new Response("internal error", { status: 500 });
        },
        ...(options.tls ? { cert: options.tls.cert, key: options.tls.key } : {}),
      };
      let server: Deno.HttpServer;
      try {
        server = Deno.serve(serveOptions, (request, info) => {
          const remoteAddress = normalizeAddress((info.remoteAddr as Deno.NetAddr).hostname);
          const url = new URL(request.url);
          if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
            return handler.fetch(request, remoteAddress);
          }
          if (!handler.isWebSocketPath(url.pathname)) return new Response(null, { status: 404 });
          const { socket, response } = Deno.upgradeWebSocket(request, { idleTimeout: 0 });
          const serverSocket = new DenoServerSocket(socket, options.maxMessageSize);
          socket.addEventListener("open", () => {
            handler.onSocket(serverSocket, { url, headers: request.headers, remoteAddress });
          }, { once: true });
          return response;
        });
      } catch (error) {
        reject(error);
      }
    });
  },
};
