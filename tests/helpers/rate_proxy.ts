/**
 * A TCP proxy that limits the bandwidth towards its clients, for tests of what a viewer on a slow
 * link sees. Bytes from the target (a node) to the client pass at most at `rate` bit/s, set and
 * changed at any time; bytes from the client pass freely. The proxy reads from the target only as
 * fast as it writes to the client, so the target's socket fills as behind a real slow link (its
 * kernel buffers hide the backlog from `bufferedAmount`, as on a real network). Only 127.0.0.1.
 *
 * Pacing runs on a virtual clock: each slice of at most {@linkcode SLICE} bytes reserves
 * `bytes * 8 / rate` of link time after the slices before it and waits only for its own start, so
 * a timer that fires late does not slow the link down (the next slice's start does not move), and
 * a link that fell idle starts again from now (no credit builds up: the largest burst is one
 * slice). Both sockets have Nagle's algorithm off (`setNoDelay`), so a small write is not held
 * back for the peer's delayed ACK.
 *
 * @example
 * ```ts ignore
 * await using proxy = RateProxy.start(node.port, 5_000_000);
 * const viewer = await TestClient.connect(proxy.wsUrl);
 * proxy.rate = 1_200_000; // from now on
 * // A browser page loading playlists and segments over several connections, one link for all:
 * await using page = RateProxy.start(server.port, 5_000_000, { shared: true });
 * ```
 * @module
 */

/** Largest write at once, and the burst the limiter allows, in bytes. */
export const SLICE = 4096;

/** Options of {@linkcode RateProxy.start}. */
export interface RateProxyOptions {
  /**
   * One limiter for every connection through the proxy (one link, as for a browser that opens
   * several connections to one server); by default each connection has its own.
   */
  shared?: boolean;
}

/** The virtual clock of one limited link. */
class LinkClock {
  /** `performance.now()` until which the link is busy with the slices reserved so far. */
  busyUntil = 0;

  /** Reserves `bytes` at `rate` bit/s; resolves when the slice may go (its start on the link). */
  reserve(bytes: number, rate: number): Promise<void> | undefined {
    const now = performance.now();
    if (this.busyUntil < now) this.busyUntil = now; // idle: no credit
    const start = this.busyUntil;
    this.busyUntil = start + (bytes * 8000) / rate;
    const wait = start - now;
    if (wait < 1) return undefined;
    return new Promise((resolve) => setTimeout(resolve, wait));
  }
}

/** A bandwidth-limiting TCP proxy on 127.0.0.1. */
export class RateProxy {
  /** Bit/s towards the clients. */
  rate: number;
  readonly #listener: Deno.TcpListener;
  readonly #conns = new Set<Deno.Conn>();
  readonly #targetPort: number;
  readonly #shared: LinkClock | undefined;
  #accepting: Promise<void>;

  private constructor(targetPort: number, rate: number, options: RateProxyOptions) {
    this.rate = rate;
    this.#targetPort = targetPort;
    this.#shared = options.shared ? new LinkClock() : undefined;
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#accepting = this.#accept();
  }

  /** Starts a proxy to `127.0.0.1:targetPort` limited to `rate` bit/s. */
  static start(targetPort: number, rate: number, options: RateProxyOptions = {}): RateProxy {
    return new RateProxy(targetPort, rate, options);
  }

  /** The proxy's port. */
  get port(): number {
    return this.#listener.addr.port;
  }

  /** WebSocket URL of the target through the proxy. */
  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}/`;
  }

  /** HTTP URL of the target through the proxy (with a trailing `/`). */
  get httpUrl(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  async #accept(): Promise<void> {
    for (;;) {
      let client: Deno.TcpConn;
      try {
        client = await this.#listener.accept();
      } catch {
        return;
      }
      this.#serve(client).catch(() => {});
    }
  }

  async #serve(client: Deno.TcpConn): Promise<void> {
    this.#conns.add(client);
    let target: Deno.TcpConn;
    try {
      target = await Deno.connect({ hostname: "127.0.0.1", port: this.#targetPort });
    } catch {
      this.#conns.delete(client);
      client.close();
      return;
    }
    this.#conns.add(target);
    client.setNoDelay(true);
    target.setNoDelay(true);
    const closeBoth = () => {
      for (const conn of [client, target]) {
        this.#conns.delete(conn);
        try {
          conn.close();
        } catch { /* closed already */ }
      }
    };
    const up = client.readable.pipeTo(target.writable, { preventClose: true }).catch(() => {});
    const down = this.#limited(target, client, this.#shared ?? new LinkClock()).catch(() => {});
    await Promise.race([up, down]);
    closeBoth();
  }

  /** Copies `from` to `to` at `rate`, slice by slice on `clock`. */
  async #limited(from: Deno.Conn, to: Deno.Conn, clock: LinkClock): Promise<void> {
    const buffer = new Uint8Array(64 * 1024);
    for (;;) {
      const read = await from.read(buffer);
      if (read === null) return;
      for (let offset = 0; offset < read;) {
        const size = Math.min(SLICE, read - offset);
        await clock.reserve(size, this.rate);
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
