/**
 * Per-address limits (`RATE_LIMIT_*`): a token bucket of requests (every WebSocket connection and
 * every plain HTTP request takes one token) and a count of open connections. Whitelisted addresses
 * are never limited or tracked. Idle entries are swept every `cleanupSeconds`, and the number of
 * tracked addresses is capped, so a flood from many addresses cannot grow the table without bound.
 *
 * The bucket holds `requestsPerSecond + burst` tokens and refills at `requestsPerSecond`: an
 * address may make that many requests at once, then `requestsPerSecond` a second. IPv6 addresses
 * are limited per /64 network ({@linkcode limitKey}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RateLimiter } from "./rate_limiter.ts";
 * const limiter = new RateLimiter({ requestsPerSecond: 1, burst: 1, connections: 1, cleanupSeconds: 0 });
 * assert(limiter.takeRequest("10.0.0.1") && limiter.takeRequest("10.0.0.1"));
 * assert(!limiter.takeRequest("10.0.0.1"));       // two at once, then one a second
 * assert(limiter.takeRequest("10.0.0.2"));        // others are not affected
 * limiter.destroy();
 * ```
 * @module
 */

import { AddressList, limitKey } from "./cidr.ts";

/** Per-address limits (`RATE_LIMIT_*`). */
export interface RateLimitConfig {
  /** `RATE_LIMIT_ENABLED` @default false */
  enabled: boolean;
  /** `RATE_LIMIT_WHITELIST`: addresses and CIDR ranges never limited, comma separated. @default [] */
  whitelist: string[];
  /** `RATE_LIMIT_CONNECTIONS`: open connections per address; 0 is no limit. @default 0 */
  connections: number;
  /** `RATE_LIMIT_REQ_PER_SEC`: requests per second per address; 0 is no limit. @default 0 */
  requestsPerSecond: number;
  /** `RATE_LIMIT_REQ_BURST`: requests above the rate an address may make at once. @default 0 */
  requestBurst: number;
  /** `RATE_LIMIT_REQ_CLEANUP`: seconds between sweeps of idle counters. @default 10 */
  cleanupSeconds: number;
}

/** How a {@linkcode RateLimiter} is set up. */
export interface RateLimiterOptions {
  /** Tokens added per second; 0 turns the request limit off. */
  requestsPerSecond: number;
  /** Tokens above `requestsPerSecond` the bucket holds. @default 0 */
  burst?: number;
  /** Open connections per address; 0 is no limit. @default 0 */
  connections?: number;
  /** Addresses and CIDR ranges never limited. @default [] */
  whitelist?: readonly string[];
  /** Seconds between sweeps of idle entries; 0 starts no timer (call `sweep` yourself). @default 10 */
  cleanupSeconds?: number;
  /** Most addresses tracked at once; past it, new addresses are refused until a sweep. @default 100000 */
  maxTracked?: number;
  /** Clock in milliseconds (for tests). @default performance.now */
  now?: () => number;
}

/** Why a connection was not admitted. */
export type ConnectionVerdict = "ok" | "rate" | "connections";

interface Entry {
  tokens: number;
  updatedAt: number;
  open: number;
}

/** Token buckets and connection counts per address. */
export class RateLimiter {
  #rate: number;
  #capacity: number;
  #connections: number;
  #whitelist: AddressList;
  #maxTracked: number;
  #now: () => number;
  #entries = new Map<string, Entry>();
  #timer: ReturnType<typeof setInterval> | undefined;

  /** Creates the limiter and starts its sweep timer. */
  constructor(options: RateLimiterOptions) {
    this.#rate = options.requestsPerSecond;
    this.#capacity = Math.max(1, options.requestsPerSecond + (options.burst ?? 0));
    this.#connections = options.connections ?? 0;
    this.#whitelist = new AddressList(options.whitelist ?? []);
    this.#maxTracked = options.maxTracked ?? 100_000;
    this.#now = options.now ?? (() => performance.now());
    const cleanup = options.cleanupSeconds ?? 10;
    if (cleanup > 0) {
      this.#timer = setInterval(() => this.sweep(), cleanup * 1000);
      Deno.unrefTimer(this.#timer);
    }
  }

  /** Addresses tracked now (open connections or a bucket not yet full). */
  get trackedAddresses(): number {
    return this.#entries.size;
  }

  /** Whether `address` is never limited. */
  isWhitelisted(address: string): boolean {
    return this.#whitelist.contains(address);
  }

  /** The entry of an address, created when needed; null when the table is full. */
  #entry(key: string): Entry | null {
    const now = this.#now();
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      if (this.#entries.size >= this.#maxTracked) {
        this.sweep();
        if (this.#entries.size >= this.#maxTracked) return null;
      }
      entry = { tokens: this.#capacity, updatedAt: now, open: 0 };
      this.#entries.set(key, entry);
      return entry;
    }
    entry.tokens = Math.min(
      this.#capacity,
      entry.tokens + (now - entry.updatedAt) / 1000 * this.#rate,
    );
    entry.updatedAt = now;
    return entry;
  }

  #take(entry: Entry): boolean {
    if (this.#rate === 0) return true;
    if (entry.tokens < 1) return false;
    entry.tokens -= 1;
    return true;
  }

  /** Takes a token for a plain HTTP request; false when the address is over its rate. */
  takeRequest(address: string): boolean {
    if (this.#rate === 0 || this.isWhitelisted(address)) return true;
    const entry = this.#entry(limitKey(address));
    return entry !== null && this.#take(entry);
  }

  /**
   * Takes a token and a connection slot for a new WebSocket connection. On `ok`, call
   * {@linkcode closeConnection} exactly once when it closes.
   */
  openConnection(address: string): ConnectionVerdict {
    if ((this.#rate === 0 && this.#connections === 0) || this.isWhitelisted(address)) return "ok";
    const entry = this.#entry(limitKey(address));
    if (entry === null || !this.#take(entry)) return "rate";
    if (this.#connections > 0 && entry.open >= this.#connections) return "connections";
    entry.open++;
    return "ok";
  }

  /** A connection admitted by {@linkcode openConnection} closed. */
  closeConnection(address: string): void {
    if ((this.#rate === 0 && this.#connections === 0) || this.isWhitelisted(address)) return;
    const entry = this.#entries.get(limitKey(address));
    if (entry !== undefined && entry.open > 0) entry.open--;
  }

  /** Open connections counted for `address`. */
  openConnections(address: string): number {
    return this.#entries.get(limitKey(address))?.open ?? 0;
  }

  /** Forgets addresses with no open connection whose bucket has refilled. */
  sweep(): void {
    const now = this.#now();
    for (const [key, entry] of this.#entries) {
      if (entry.open > 0) continue;
      const tokens = entry.tokens + (now - entry.updatedAt) / 1000 * this.#rate;
      if (this.#rate === 0 || tokens >= this.#capacity) this.#entries.delete(key);
    }
  }

  /** Stops the sweep timer. */
  destroy(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
