/**
 * Connects to the Redis that holds the publish registry, as configured by `PUB_REG_*`: one server,
 * a master found through Redis Sentinel, or a Redis Cluster (all three through `npm:ioredis`), with
 * password, ACL user and TLS (checked against the system's roots, or `PUB_REG_REDIS_TLS_CA_FILE`).
 *
 * The client is set up to fail fast rather than wait: commands given while Redis is unreachable
 * fail at once (no offline queue; a Cluster keeps its own, which the registry's deadline bounds),
 * every command has a deadline (`PUB_REG_REDIS_TIMEOUT_SECONDS`),
 * and the client keeps reconnecting in the background with a back-off capped at 2 s. The registry
 * listens for `ready` to register its streams again.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { redisClientOptions } from "./redis_client.ts";
 * import { parseConfig } from "../../config.ts";
 * const config = parseConfig({
 *   PULL_SECRET: "a", PUSH_SECRET: "b",
 *   PUB_REG_REDIS_MODE: "sentinel", PUB_REG_REDIS_NODES: "10.0.0.1:26379,10.0.0.2:26379",
 * });
 * const options = redisClientOptions(config.registry);
 * assert(options.mode === "sentinel" && options.redis.sentinels?.length === 2);
 * ```
 * @module
 */

import { Cluster, Redis, type RedisOptions } from "ioredis";
import type { RegistryConfig } from "../../config.ts";

/** A connected registry client: one server (or Sentinel master), or a Cluster. */
export type RedisClient = Redis | Cluster;

/** The longest pause between two reconnection attempts, in milliseconds. */
const MAX_RETRY_DELAY_MS = 2000;

/** Reconnection back-off: 100 ms, 200 ms, 400 ms... up to 2 s, for ever. */
function retryDelay(times: number): number {
  return Math.min(100 * 2 ** Math.min(times, 10), MAX_RETRY_DELAY_MS);
}

/** What {@linkcode createRedisClient} builds: the mode, and the ioredis options. */
export interface RedisClientOptions {
  /** `standalone`, `sentinel` or `cluster`. */
  mode: RegistryConfig["mode"];
  /** Options of the connection to each Redis server. */
  redis: RedisOptions;
  /** Cluster seed nodes (cluster mode only). */
  seeds: { host: string; port: number }[];
}

/** The ioredis options for a registry configuration (a pure function, for tests). */
export function redisClientOptions(config: RegistryConfig, ca?: string): RedisClientOptions {
  const timeoutMs = Math.max(10, Math.round(config.timeoutSeconds * 1000));
  const tls = config.useTls ? (ca === undefined ? {} : { ca }) : undefined;
  const redis: RedisOptions = {
    password: config.password || undefined,
    username: config.username || undefined,
    tls,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: timeoutMs,
    connectTimeout: Math.max(timeoutMs, 2000),
    retryStrategy: retryDelay,
    connectionName: "hls-websocket-cdn",
    disableClientInfo: true,
  };
  if (config.mode === "standalone") {
    redis.host = config.host;
    redis.port = config.port;
  } else if (config.mode === "sentinel") {
    redis.sentinels = config.nodes;
    redis.name = config.sentinelName;
    redis.sentinelPassword = config.sentinelPassword || undefined;
    redis.sentinelRetryStrategy = retryDelay;
    redis.sentinelCommandTimeout = timeoutMs;
    redis.enableTLSForSentinelMode = config.useTls;
    redis.sentinelTLS = tls;
  }
  return { mode: config.mode, redis, seeds: config.nodes };
}

/** Creates the client; it starts connecting at once and reconnects on its own. */
export function createRedisClient(config: RegistryConfig): RedisClient {
  const ca = config.tlsCaFile === "" ? undefined : Deno.readTextFileSync(config.tlsCaFile);
  const options = redisClientOptions(config, ca);
  if (options.mode === "cluster") {
    // The cluster-level offline queue stays on: ioredis needs it for its own ready check. The
    // registry puts its own deadline on every command, so nothing waits long in it.
    return new Cluster(options.seeds, {
      redisOptions: options.redis,
      clusterRetryStrategy: retryDelay,
      slotsRefreshTimeout: options.redis.connectTimeout,
    });
  }
  return new Redis(options.redis);
}
