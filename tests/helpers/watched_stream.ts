/**
 * A well-behaved publisher and spectator pair that runs beside an abuse test: the publisher sends
 * real MPEG-TS fragments at a steady pace, the spectator receives them, and `finish()` checks that
 * every fragment arrived, in order, byte-exact, and how late.
 *
 * @example
 * ```ts ignore
 * const watched = await WatchedStream.start(node.wsUrl, "good");
 * // ... abuse the node ...
 * const { sent, maxDelayMs } = await watched.finish();
 * ```
 * @module
 */

import { assert, assertEquals } from "./assert.ts";
import { publisherFor, spectatorFor, type TestClient } from "./client.ts";
import { type MediaFragment, sameBytes, tsFragments } from "./media.ts";

/** What the pair delivered. */
export interface WatchedResult {
  /** Fragments sent (and received). */
  sent: number;
  /** Longest time from a send to its arrival, ms. */
  maxDelayMs: number;
}

/** A publisher and a spectator of one stream. */
export class WatchedStream {
  #publisher: TestClient;
  #spectator: TestClient;
  #media: MediaFragment[];
  #sentAt: number[] = [];
  #timer: ReturnType<typeof setInterval>;
  #heartbeat: ReturnType<typeof setInterval>;

  private constructor(
    publisher: TestClient,
    spectator: TestClient,
    media: MediaFragment[],
    intervalMs: number,
  ) {
    this.#publisher = publisher;
    this.#spectator = spectator;
    this.#media = media;
    this.#timer = setInterval(() => this.#send(), intervalMs);
    // A well-behaved spectator says it is alive, so short idle timeouts do not end it.
    this.#heartbeat = setInterval(() => spectator.send({ type: "H" }), 500);
  }

  /** Starts publishing `stream` every `intervalMs` with a spectator attached. */
  static async start(url: string, stream: string, intervalMs = 200): Promise<WatchedStream> {
    const media = await tsFragments();
    const publisher = await publisherFor(url, stream);
    const spectator = await spectatorFor(url, stream, { maxInitialFragments: 0 });
    return new WatchedStream(publisher, spectator, media, intervalMs);
  }

  /** Fragments sent so far. */
  get sent(): number {
    return this.#sentAt.length;
  }

  #send(): void {
    const index = this.#sentAt.length;
    const fragment = this.#media[index % this.#media.length];
    this.#sentAt.push(performance.now());
    this.#publisher.sendFragment(fragment.duration, fragment.data);
  }

  /**
   * Stops publishing and checks that the spectator received every fragment, in order and
   * byte-exact; then closes both.
   */
  async finish(timeoutMs = 10_000): Promise<WatchedResult> {
    clearInterval(this.#timer);
    clearInterval(this.#heartbeat);
    let maxDelayMs = 0;
    try {
      for (let index = 0; index < this.#sentAt.length; index++) {
        const received = await this.#spectator.nextFragment(timeoutMs);
        assertEquals(received.header.seq, index, "fragments arrive in order, none missing");
        assert(received.header.jump !== true, `fragment ${index} was not skipped`);
        const expected = this.#media[index % this.#media.length].data;
        assert(sameBytes(received.data, expected), `fragment ${index} is byte-exact`);
        maxDelayMs = Math.max(maxDelayMs, received.at - this.#sentAt[index]);
      }
    } finally {
      this.#publisher.close();
      this.#spectator.close();
    }
    return { sent: this.#sentAt.length, maxDelayMs };
  }

  /** Stops and closes without checking (cleanup after a failure). */
  async [Symbol.asyncDispose](): Promise<void> {
    clearInterval(this.#timer);
    clearInterval(this.#heartbeat);
    await this.#publisher[Symbol.asyncDispose]();
    await this.#spectator[Symbol.asyncDispose]();
  }
}
