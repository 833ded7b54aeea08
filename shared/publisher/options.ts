/**
 * The options and counters of the publisher client ({@linkcode ./publisher.ts}).
 *
 * This module runs in browsers and in Deno alike.
 *
 * @module
 */

import type { BackoffOptions } from "../backoff.ts";

/** Options of `Publisher`. */
export interface PublisherOptions {
  /** WebSocket URL of the node (`ws://host:port/` or `wss://...`). */
  url: string;
  /** Stream id, 1 to 255 characters. */
  streamId: string;
  /** A ready push token, or a function that returns one for each connection. */
  token?: string | (() => string | Promise<string>);
  /** The push secret (`PUSH_SECRET`): the publisher signs its own tokens. Used when `token` is absent. */
  secret?: string;
  /** Lifetime of self-signed tokens in seconds. @default 300 */
  tokenLifetimeSeconds?: number;
  /** Ask the node for parts (`PUSH ...&parts=1`). @default true */
  parts?: boolean;
  /** Sequence number of the first fragment. @default Math.floor(Date.now() / 100) (keeps increasing across restarts as long as fragments last 100 ms or more) */
  firstSeq?: number;
  /** Reconnection delays. @default { initialMs: 500, maxMs: 10000, factor: 2, jitter: 0.5 } */
  backoff?: BackoffOptions;
  /** Longest wait from opening a connection to the node's `OK`, in ms. @default 10000 */
  openTimeoutMs?: number;
  /** Give up (fatal `UNREACHABLE`) when the first `OK` has not come within this many ms. @default Infinity */
  startTimeoutMs?: number;
  /** Send `H` after this long without sending, in ms. @default 30000 */
  heartbeatMs?: number;
  /** Reconnect after this long without receiving anything, in ms. @default 75000 */
  idleTimeoutMs?: number;
  /** Socket data not yet sent above which a new fragment is dropped whole, in bytes. @default 16 MiB */
  maxBufferedBytes?: number;
  /** Closes the publisher (as `close()`) when aborted. */
  signal?: AbortSignal;
  /** The WebSocket class to use. @default globalThis.WebSocket */
  WebSocket?: typeof WebSocket;
}

/** Counters of a `Publisher`. */
export interface PublisherStats {
  /** Fragments complete at the node (whole, or their last part sent). */
  fragmentsSent: number;
  /** Parts sent. */
  partsSent: number;
  /** Media bytes sent. */
  bytesSent: number;
  /** Fragments dropped (while disconnected, or for congestion). */
  fragmentsDropped: number;
  /** Successful connections after the first. */
  reconnects: number;
  /** Media bytes held now for sending later (at most the newest fragment and the one in progress). */
  heldBytes: number;
}
