/**
 * What a connection keeps while its `PUSH` or `PULL` is being checked (a token, a source lookup):
 * the messages that arrive meanwhile, to be handled in order after `OK`. Bounded in number and in
 * bytes, so a client cannot make the node hold much before it is known.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HeldMessages } from "./held_messages.ts";
 * const held = new HeldMessages({ maxMessages: 2, maxBytes: 100 });
 * const handled: string[] = [];
 * assert(held.hold(() => handled.push("a"), 60));
 * assert(!held.hold(() => handled.push("b"), 60), "over 100 bytes");
 * for (const handler of held.release()) handler();
 * assert(handled.join() === "a");
 * ```
 * @module
 */

/** The bounds of {@linkcode HeldMessages}. */
export interface HeldMessagesOptions {
  /** Most messages held. */
  maxMessages: number;
  /** Most bytes held (text characters and binary bytes). */
  maxBytes: number;
}

/** Messages held in order, within bounds. */
export class HeldMessages {
  readonly #options: HeldMessagesOptions;
  #handlers: Array<() => void> = [];
  #bytes = 0;

  /** An empty queue. */
  constructor(options: HeldMessagesOptions) {
    this.#options = options;
  }

  /** Holds the handler of a message of `size` bytes; false (nothing held) when over a bound. */
  hold(handler: () => void, size: number): boolean {
    const { maxMessages, maxBytes } = this.#options;
    if (this.#handlers.length >= maxMessages || this.#bytes + size > maxBytes) return false;
    this.#handlers.push(handler);
    this.#bytes += size;
    return true;
  }

  /** Everything held, in order; the queue is empty afterwards. */
  release(): Array<() => void> {
    const handlers = this.#handlers;
    this.#handlers = [];
    this.#bytes = 0;
    return handlers;
  }
}
