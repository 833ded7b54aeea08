/**
 * The budget of messages a connection may send that the node ignores (`OK` from a client, types
 * it does not know): a bucket of {@linkcode IGNORED_MESSAGE_BURST} messages that refills at
 * {@linkcode IGNORED_MESSAGES_PER_SECOND} a second. A client past it is closed, so nobody can make
 * a node parse and drop messages forever. The protocol's own messages that a node receives and
 * ignores by design are never charged: they are named in {@linkcode UNBUDGETED_MESSAGES}, the one
 * list to extend when an extension adds a client message that older nodes ignore.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MessageBudget } from "./message_budget.ts";
 * let now = 0;
 * const budget = new MessageBudget({ burst: 2, perSecond: 1, now: () => now });
 * assert(budget.charge("NEWTHING") && budget.charge("OK") && !budget.charge("NEWTHING"));
 * assert(budget.charge("H"), "heartbeats are never charged");
 * now = 1000;
 * assert(budget.charge("NEWTHING"), "one more a second later");
 * ```
 * @module
 */

import { ErrorCode, ProtocolError } from "../../shared/errors.ts";
import type { Message } from "../../shared/protocol.ts";

/**
 * Message types a client may send any number of times without being charged: the heartbeat, and
 * the client messages extensions add (a node that does not know one ignores it).
 */
export const UNBUDGETED_MESSAGES: ReadonlySet<string> = new Set(["H"]);

/** Ignored messages a connection may send at once. */
export const IGNORED_MESSAGE_BURST = 32;
/** Ignored messages a connection may send per second, after the burst. */
export const IGNORED_MESSAGES_PER_SECOND = 1;

/** How a {@linkcode MessageBudget} is set up. */
export interface MessageBudgetOptions {
  /** Messages at once. @default IGNORED_MESSAGE_BURST */
  burst?: number;
  /** Messages per second after that. @default IGNORED_MESSAGES_PER_SECOND */
  perSecond?: number;
  /** Clock in milliseconds (for tests). @default performance.now */
  now?: () => number;
}

/** One connection's budget of ignored messages. */
export class MessageBudget {
  #burst: number;
  #perSecond: number;
  #now: () => number;
  #tokens: number;
  #at: number;

  /** A full budget. */
  constructor(options: MessageBudgetOptions = {}) {
    this.#burst = options.burst ?? IGNORED_MESSAGE_BURST;
    this.#perSecond = options.perSecond ?? IGNORED_MESSAGES_PER_SECOND;
    this.#now = options.now ?? (() => performance.now());
    this.#tokens = this.#burst;
    this.#at = this.#now();
  }

  /**
   * Charges a message from a publishing or pulling client if the node ignores it (`OK`, or a type
   * it does not know); throws `PROTOCOL_ERROR` once the budget is spent.
   */
  spend(message: Message): void {
    if (message.type !== "OK" && message.type !== "UNKNOWN") return;
    if (!this.charge(message.type === "UNKNOWN" ? message.name : message.type)) {
      throw new ProtocolError(
        ErrorCode.PROTOCOL_ERROR,
        `too many messages this node ignores (more than ${this.#burst} at once, or ${this.#perSecond} a second)`,
      );
    }
  }

  /** Charges one ignored message of `type`; false when the budget is spent (close the client). */
  charge(type: string): boolean {
    if (UNBUDGETED_MESSAGES.has(type)) return true;
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#at) / 1000 * this.#perSecond);
    this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
