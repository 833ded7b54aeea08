/**
 * The bound on connections per address that have not sent their first message yet
 * (`MAX_PENDING_CONNECTIONS_PER_ADDRESS`), on by default. A player or encoder sends `PUSH`/`PULL`
 * as soon as its socket opens, so a legitimate address has few such connections at any moment,
 * however many viewers it stands for; an address that opens sockets and says nothing is held to a
 * few. Whitelisted addresses (`RATE_LIMIT_WHITELIST`) and the machine itself (`127.0.0.1`, `::1`:
 * a reverse proxy or a tool on the same host, which stands for many clients) are not bounded; IPv6
 * addresses are counted per /64, like the rate limits.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PendingConnections } from "./pending_connections.ts";
 * const pending = new PendingConnections(1, []);
 * const spoke = pending.take("10.0.0.1");
 * assert(spoke !== null && pending.take("10.0.0.1") === null);
 * spoke();                                   // its first message arrived
 * assert(pending.take("10.0.0.1") !== null);
 * ```
 * @module
 */

import { AddressList, limitKey } from "./cidr.ts";

/** The machine's own addresses, never bounded. */
const LOCAL = ["127.0.0.1", "::1"];

/** Connections per address that have not spoken yet. */
export class PendingConnections {
  #max: number;
  #whitelist: AddressList;
  #counts = new Map<string, number>();

  /** `max` per address (0: no bound); `whitelist` is never bounded. */
  constructor(max: number, whitelist: readonly string[]) {
    this.#max = max;
    this.#whitelist = new AddressList([...LOCAL, ...whitelist]);
  }

  /** Addresses with connections that have not spoken. */
  get trackedAddresses(): number {
    return this.#counts.size;
  }

  /**
   * Counts a new connection from `address`; null when the address already has `max` that have not
   * spoken. Otherwise returns the function to call once it speaks or closes (more calls do nothing).
   */
  take(address: string): (() => void) | null {
    if (this.#max === 0 || this.#whitelist.contains(address)) return () => {};
    const key = limitKey(address);
    const count = this.#counts.get(key) ?? 0;
    if (count >= this.#max) return null;
    this.#counts.set(key, count + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const left = (this.#counts.get(key) ?? 1) - 1;
      if (left <= 0) this.#counts.delete(key);
      else this.#counts.set(key, left);
    };
  }
}
