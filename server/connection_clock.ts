/**
 * The deadlines of one connection: its first message (`FIRST_MESSAGE_TIMEOUT_SECONDS`), silence
 * (`IDLE_TIMEOUT_SECONDS`), heartbeats when it has sent nothing (`HEARTBEAT_INTERVAL_SECONDS`), and
 * how long a closing handshake may take before the socket is dropped. The connection tells it what
 * happens; the node's once-a-second tick asks it what is due.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConnectionClock } from "./connection_clock.ts";
 * const clock = new ConnectionClock({ firstMessageSeconds: 30, idleSeconds: 60, heartbeatSeconds: 30 }, 0);
 * assert(clock.timedOut(31_000, false) === "no PUSH or PULL within 30 s");
 * clock.received(31_000);
 * assert(clock.timedOut(31_000, true) === null && clock.heartbeatDue(31_000));
 * ```
 * @module
 */

/** `FIRST_MESSAGE_TIMEOUT_SECONDS`, `IDLE_TIMEOUT_SECONDS`, `HEARTBEAT_INTERVAL_SECONDS`. */
export interface ConnectionTimeouts {
  /** Seconds a new connection has to send `PUSH` or `PULL`. */
  firstMessageSeconds: number;
  /** Seconds without receiving anything after which the connection is closed. */
  idleSeconds: number;
  /** Seconds without sending anything after which `H` is sent. */
  heartbeatSeconds: number;
}

/** How long a closing handshake may take before the socket is dropped. */
const CLOSE_GRACE_MS = 5000;

/** The clock of one connection (times from `performance.now()`). */
export class ConnectionClock {
  #timeouts: ConnectionTimeouts;
  #openedAt: number;
  #lastReceived: number;
  #lastSent: number;
  #closingSince: number | null = null;

  /** Starts the clock for a connection opened at `now`. */
  constructor(timeouts: ConnectionTimeouts, now: number = performance.now()) {
    this.#timeouts = timeouts;
    this.#openedAt = this.#lastReceived = this.#lastSent = now;
  }

  /** Something arrived from the client. */
  received(now: number): void {
    this.#lastReceived = now;
  }

  /** Something was sent to the client. */
  sent(now: number): void {
    this.#lastSent = now;
  }

  /** The node started closing the connection. */
  closing(now: number): void {
    this.#closingSince ??= now;
  }

  /** The closing handshake has taken too long: the socket is to be dropped. */
  closeOverdue(now: number): boolean {
    return this.#closingSince !== null && now - this.#closingSince > CLOSE_GRACE_MS;
  }

  /** Why the connection timed out (no first message in time, or silence), or null. */
  timedOut(now: number, spoke: boolean): string | null {
    const { firstMessageSeconds, idleSeconds } = this.#timeouts;
    if (!spoke && now - this.#openedAt > firstMessageSeconds * 1000) {
      return `no PUSH or PULL within ${firstMessageSeconds} s`;
    }
    if (now - this.#lastReceived > idleSeconds * 1000) {
      return `nothing received for ${idleSeconds} s`;
    }
    return null;
  }

  /** Nothing was sent for the heartbeat interval: `H` is due. */
  heartbeatDue(now: number): boolean {
    return now - this.#lastSent >= this.#timeouts.heartbeatSeconds * 1000;
  }
}
