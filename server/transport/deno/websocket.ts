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

const encoder = new TextEncoder();

/** A {@linkcode ServerSocket} over one built-in WebSocket. */
class DenoServerSocket implements ServerSocket {
  #socket: WebSocket;
  #ceiling: number;
  #maxMessageSize: number;

  constructor(socket: WebSocket, maxMessageSize: number) {
    this.#socket = socket;
    this.#socket.binaryType = "arraybuffer";
    this.#ceiling = maxMessageSize;
    this.#maxMessageSize = maxMessageSize;
  }

  /**
   * The built-in socket reads every frame whole (up to Deno's own 64 MiB) before handing it over,
   * so the limit is checked only then: it bounds what the node keeps, not what Deno reads.
   */
  setMaxMessageSize(bytes: number): void {
    this.#maxMessageSize = Math.min(bytes, this.#ceiling);
  }

  get bufferedAmount(): number {
    return this.#socket.bufferedAmount;
  }

  listen(listener: SocketListener): void {
    const socket = this.#socket;
    socket.onmessage = (event: MessageEvent) => {
      const data = event.data;
      // The built-in socket has no size limit of its own: the frame is already in memory here.
      if (this.#tooLarge(data)) {
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

  /** Whether a received frame is over the limit (a text frame's UTF-8 bytes counted). */
  #tooLarge(data: string | ArrayBuffer): boolean {
    if (typeof data !== "string") return data.byteLength > this.#maxMessageSize;
    // A UTF-16 code unit is at most 3 UTF-8 bytes: most texts need no encoding to be measured.
    if (data.length * 3 <= this.#maxMessageSize) return false;
    return encoder.encode(data).byteLength > this.#maxMessageSize;
  }

  sendText(frame: TextFrame): void {
    if (this.#socket.readyState === WebSocket.OPEN) this.#socket.send(frame.text);
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

/** Headers of the answers this adapter makes itself (the node's own carry the same). */
const PLAIN = { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" };

/** How long a restart waits for the old listener to let go of the port. */
const REBIND_TIMEOUT_MS = 5000;

/** The `Deno.serve` transport. */
export const denoTransport: Transport = {
  name: "deno",
  async listen(options: ListenOptions, handler: RequestHandler): Promise<Listener> {
    /** WebSockets accepted by this listener and not yet closed. */
    const sockets = new Set<DenoServerSocket>();
    let closing = false;
    const handle = (
      request: Request,
      info: Deno.ServeHandlerInfo,
    ): Response | Promise<Response> => {
      const remoteAddress = normalizeAddress((info.remoteAddr as Deno.NetAddr).hostname);
      const url = new URL(request.url);
      if (closing) return new Response("shutting down\n", { status: 503, headers: PLAIN });
      if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
        return handler.fetch(request, remoteAddress);
      }
      if (!handler.isWebSocketPath(url.pathname)) {
        return new Response(null, { status: 404, headers: PLAIN });
      }
      // The request's headers cannot be read once the upgrade is done: keep a copy.
      const headers = new Headers(request.headers);
      const { socket, response } = Deno.upgradeWebSocket(request, { idleTimeout: 0 });
      const serverSocket = new DenoServerSocket(socket, options.maxMessageSize);
      sockets.add(serverSocket);
      socket.addEventListener("close", () => sockets.delete(serverSocket), { once: true });
      socket.addEventListener("open", () => {
        handler.onSocket(serverSocket, { url, headers, remoteAddress });
      }, { once: true });
      return response;
    };
    let current = await serve(options, options.port, options.tls, handle);
    const port = current.port;
    return {
      port,
      /**
       * `Deno.serve` cannot swap its certificate: the listener is restarted on the same port with
       * the new one. Its open WebSockets are closed with code 1012 (service restart) first, and
       * their clients reconnect.
       */
      async setCertificate(certificate: TlsCertificate) {
        if (options.tls === undefined || closing) return;
        for (const socket of sockets) socket.close(1012, "certificate reload");
        const previous = current;
        previous.abort.abort();
        await previous.server.finished;
        const deadline = performance.now() + REBIND_TIMEOUT_MS;
        for (;;) {
          try {
            current = await serve(options, port, certificate, handle);
            return;
          } catch (error) {
            if (!(error instanceof Deno.errors.AddrInUse) || performance.now() > deadline) {
              // Serve on with the old certificate rather than not at all.
              current = await serve(options, port, options.tls, handle);
              throw error;
            }
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        }
      },
      /**
       * Stops taking requests at once (they get 503), waits until the node has closed the open
       * WebSockets (aborting the server would drop them unannounced), then stops the server.
       */
      async close() {
        closing = true;
        while (sockets.size > 0) await new Promise((resolve) => setTimeout(resolve, 20));
        current.abort.abort();
        await current.server.finished;
      },
    };
  },
};

/** One running `Deno.serve`, and how to stop it. */
interface RunningServer {
  server: Deno.HttpServer;
  abort: AbortController;
  port: number;
}

function serve(
  options: ListenOptions,
  port: number,
  tls: TlsCertificate | undefined,
  handle: (request: Request, info: Deno.ServeHandlerInfo) => Response | Promise<Response>,
): Promise<RunningServer> {
  const abort = new AbortController();
  return new Promise<RunningServer>((resolve, reject) => {
    let server: Deno.HttpServer | undefined;
    try {
      server = Deno.serve({
        hostname: options.hostname || "0.0.0.0",
        port,
        signal: abort.signal,
        onListen({ port }: { port: number }) {
          // onListen runs inside Deno.serve, before it returns the server.
          queueMicrotask(() => resolve({ server: server!, abort, port }));
        },
        onError() {
          return new Response("internal error", { status: 500, headers: PLAIN });
        },
        ...(tls ? { cert: tls.cert, key: tls.key } : {}),
      }, handle);
    } catch (error) {
      reject(error);
    }
  });
}
