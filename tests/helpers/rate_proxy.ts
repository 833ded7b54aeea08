/**
 * A TCP proxy that limits the bandwidth towards its clients, for tests of what a viewer on a slow
 * link sees. Bytes from the target (a node) to the client pass at most at `rate` bit/s, set and
 * changed at any time; bytes from the client pass freely. The proxy reads from the target only as
 * fast as it writes to the client, so the target's socket fills as behind a real slow link (its
 * kernel buffers hide the backlog from `bufferedAmount`, as on a real network). Only 127.0.0.1.
 *
 * @example
 * ```ts ignore
 * await using proxy = RateProxy.start(node.port, 5_000_000);
 * const viewer = await TestClient.connect(proxy.wsUrl);
 * proxy.rate = 1_200_000; // from now on
 * ```
 * @module
 */

/** Largest write at once, and the burst the limiter allows, in bytes. */
const SLICE = 4096;

/** A bandwidth-limiting TCP proxy on 127.0.0.1. */
export class RateProxy {
  /** Bit/s towards the clients. */
  rate: number;
  readonly #listener: Deno.TcpListener;
  readonly #conns = new Set<Deno.Conn>();
  readonly #targetPort: number;
  #accepting: Promise<void>;

  private constructor(targetPort: number, rate: number) {
    this.rate = rate;
    this.#targetPort = targetPort;
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#accepting = this.#accept();
  }

  /** Starts a proxy to `127.0.0.1:targetPort` limited to `rate` bit/s. */
  static start(targetPort: number, rate: number): RateProxy {
    return new RateProxy(targetPort, rate);
  }

  /** The proxy's port. */
  get port(): number {
    return this.#listener.addr.port;
  }

  /** WebSocket URL of the target through the proxy. */
  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}/`;
  }

  async #accept(): Promise<void> {
    for (;;) {
      let client: Deno.Conn;
      try {
        client = await this.#listener.accept();
      } catch {
        return;
      }
      this.#serve(client).catch(() => {});
    }
  }

  async #serve(client: Deno.Conn): Promise<void> {
    const target = await Deno.connect({ hostname: "127.0.0.1", port: this.#targetPort });
    this.#conns.add(client);
    this.#conns.add(target);
    const closeBoth = () => {
      for (const conn of [client, target]) {
        this.#conns.delete(conn);
        try {
          conn.close();
        } catch { /* closed already */ }
      }
    };
    const up = client.readable.pipeTo(target.writable, { preventClose: true }).catch(() => {});
    const down = this.#limited(target, client).catch(() => {});
    await Promise.race([up, down]);
    closeBoth();
  }

  /** Copies `from` to `to` at `rate`: a token bucket of one slice. */
  async #limited(from: Deno.Conn, to: Deno.Conn): Promise<void> {
    const buffer = new Uint8Array(64 * 1024);
    let tokens = SLICE;
    let at = performance.now();
    for (;;) {
      const read = await from.read(buffer);
      if (read === null) return;
      let offset = 0;
      while (offset < read) {
        const now = performance.now();
        tokens = Math.min(SLICE, tokens + ((now - at) / 1000) * (this.rate / 8));
        at = now;
        const size = Math.min(SLICE, read - offset);
        if (tokens < size) {
          await new Promise((resolve) => setTimeout(resolve, ((size - tokens) * 8000) / this.rate));
          continue;
        }
        tokens -= size;
        let written = 0;
        while (written < size) {
          written += await to.write(buffer.subarray(offset + written, offset + size));
        }
        offset += size;
      }
    }
  }

  /** Stops listening and closes every connection. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#listener.close();
    for (const conn of this.#conns) {
      try {
        conn.close();
      } catch { /* closed already */ }
    }
    this.#conns.clear();
    await this.#accepting;
  }
}
