/**
 * A WebSocket server on 127.0.0.1 that plays an upstream node (or whatever a poisoned registry
 * entry points to): it records every connection and the `PULL` it sent, and answers as the test
 * scripts it. Stopped with `await using`.
 *
 * @example
 * ```ts ignore
 * await using upstream = await FakeUpstream.start(async (pull, peer) => {
 *   peer.send("OK:parts=1");
 *   peer.send("P:seq=0&part=0&independent=1");
 *   peer.send(new Uint8Array(188));
 * });
 * // ... point a node at upstream.url, then:
 * assertEquals(upstream.pulls.length, 1);
 * ```
 * @module
 */

import { type Message, parseMessage, type PullMessage } from "../../shared/protocol.ts";
import { freePort } from "./node_process.ts";

/** One connection to the fake upstream. */
export interface FakePeer {
  /** The request path and query it connected with. */
  readonly path: string;
  /** The `Authorization` header it sent (null when none). */
  readonly authorization: string | null;
  /** Sends a text or binary frame (nothing once closed). */
  send(data: string | Uint8Array): void;
  /** Closes the connection. */
  close(): void;
  /** Resolves when the connection has closed. */
  readonly closed: Promise<void>;
}

/** What the fake does with a `PULL`. */
export type PullScript = (pull: PullMessage, peer: FakePeer) => void | Promise<void>;

/** A running fake upstream. */
export class FakeUpstream {
  /** Every `PULL` received, in order. */
  readonly pulls: PullMessage[] = [];
  /** Every connection (upgrade) received, in order. */
  readonly peers: FakePeer[] = [];
  /** The port it listens on. */
  readonly port: number;
  #server: Deno.HttpServer;
  #waiters: Array<() => void> = [];

  private constructor(port: number, script: PullScript) {
    this.port = port;
    this.#server = Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, (request) => {
      if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
        return new Response("not a WebSocket\n", { status: 400 });
      }
      // The request cannot be read once it is upgraded.
      const url = new URL(request.url);
      const authorization = request.headers.get("authorization");
      const { socket, response } = Deno.upgradeWebSocket(request);
      let done: () => void = () => {};
      const peer: FakePeer = {
        path: url.pathname + url.search,
        authorization,
        send(data) {
          if (socket.readyState === WebSocket.OPEN) socket.send(data);
        },
        close() {
          if (socket.readyState === WebSocket.OPEN) socket.close(1000, "bye");
        },
        closed: new Promise<void>((resolve) => done = resolve),
      };
      socket.onclose = () => done();
      socket.onerror = () => {};
      socket.onmessage = (event) => {
        if (typeof event.data !== "string") return;
        let message: Message;
        try {
          message = parseMessage(event.data);
        } catch {
          return;
        }
        if (message.type !== "PULL") return;
        this.pulls.push(message);
        this.#wake();
        Promise.resolve(script(message, peer)).catch(() => peer.close());
      };
      this.peers.push(peer);
      this.#wake();
      return response;
    });
  }

  /** Starts the fake on a free port. */
  static start(script: PullScript): Promise<FakeUpstream> {
    return Promise.resolve(new FakeUpstream(freePort(), script));
  }

  /** `ws://127.0.0.1:<port>`. */
  get origin(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /** Waits until `count` PULLs have arrived, or throws after `timeoutMs`. */
  async waitForPulls(count: number, timeoutMs = 5000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (this.pulls.length < count) {
      const left = deadline - performance.now();
      if (left <= 0) {
        throw new Error(`${this.pulls.length} of ${count} PULLs within ${timeoutMs} ms`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Stops listening and closes every connection. */
  async [Symbol.asyncDispose](): Promise<void> {
    for (const peer of this.peers) peer.close();
    await this.#server.shutdown();
  }
}
