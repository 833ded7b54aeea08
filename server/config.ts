/**
 * Node configuration: environment variables (and a `.env` file) merged, typed and validated in one
 * function that names the bad variable and value. Every variable is listed in
 * `documentation/configuration.md`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfig } from "./config.ts";
 * const config = parseConfig({ HTTP_PORT: "8080", PULL_SECRET: "a", PUSH_SECRET: "b" });
 * assert(config.http.port === 8080 && config.transport === "ws");
 * ```
 * @module
 */

import { AddressList } from "./limits/cidr.ts";
import { HostList } from "./limits/host_list.ts";
import { OriginPolicy } from "./limits/origin_policy.ts";
import type { RateLimitConfig } from "./limits/rate_limiter.ts";
import type { LogConfig } from "./log.ts";
import { defaultBufferLimitMb, machineMemoryBytes } from "./machine_memory.ts";
import { isValidNodeId } from "../shared/protocol.ts";
import type { TransportName } from "./transport/transport.ts";
import { ConfigError, EnvReader } from "./env_reader.ts";

export { ConfigError };

/** One listener (`HTTP_*` or `TLS_*`). */
export interface ListenerConfig {
  /** `HTTP_ENABLED` (default true) / `TLS_ENABLED` (default false). */
  enabled: boolean;
  /** `HTTP_PORT` (default 80) / `TLS_PORT` (default 443). */
  port: number;
  /** `HTTP_BIND_ADDRESS` / `TLS_BIND_ADDRESS`: empty means every interface. @default "" */
  bindAddress: string;
}

/** The TLS listener and its certificate files. */
export interface TlsConfig extends ListenerConfig {
  /** `TLS_CERTIFICATE`: path of the PEM certificate chain. */
  certificateFile: string;
  /** `TLS_PRIVATE_KEY`: path of the PEM private key. */
  privateKeyFile: string;
  /** `TLS_CHECK_RELOAD_SECONDS`: how often the files are checked for changes. @default 60 */
  checkReloadSeconds: number;
}

/** The Redis publish registry (`PUB_REG_*`). */
export interface RegistryConfig {
  /** `PUB_REG_REDIS_ENABLED` @default false */
  enabled: boolean;
  /** `PUB_REG_REDIS_HOST` @default "127.0.0.1" */
  host: string;
  /** `PUB_REG_REDIS_PORT` @default 6379 */
  port: number;
  /** `PUB_REG_REDIS_PASSWORD` @default "" */
  password: string;
  /** `PUB_REG_REDIS_USE_TLS` @default false */
  useTls: boolean;
  /** `PUB_REG_REDIS_TLS_CA_FILE`: PEM file of the CA that signed Redis's certificate; empty trusts the system's roots. @default "" */
  tlsCaFile: string;
  /** `PUB_REG_REFRESH_INTERVAL_SECONDS`: entries are refreshed this often and live twice as long. @default 60 */
  refreshIntervalSeconds: number;
  /** `PUB_REG_NAMESPACE`: prefix of every registry key; empty gives the bare stream ids of older nodes. @default "hls-ws-cdn:stream:" */
  namespace: string;
  /** `PUB_REG_REDIS_MODE`: `standalone`, `sentinel` or `cluster`. @default "standalone" */
  mode: "standalone" | "sentinel" | "cluster";
  /** `PUB_REG_REDIS_NODES`: `host:port` list of the sentinels or cluster seed nodes. @default [HOST:PORT] */
  nodes: { host: string; port: number }[];
  /** `PUB_REG_REDIS_SENTINEL_NAME`: the master group the sentinels watch. @default "mymaster" */
  sentinelName: string;
  /** `PUB_REG_REDIS_SENTINEL_PASSWORD`: password of the sentinels themselves. @default "" */
  sentinelPassword: string;
  /** `PUB_REG_REDIS_USERNAME`: ACL user (Redis 6+); empty uses the default user. @default "" */
  username: string;
  /** `PUB_REG_REDIS_TIMEOUT_SECONDS`: longest wait for one Redis command (a lookup). @default 0.5 */
  timeoutSeconds: number;
  /** `PUB_REG_ALLOWED_HOSTS`: hosts, `host:port` or CIDR ranges registry entries may point to; empty trusts every entry. @default [] */
  allowedHosts: string[];
}

/** The upstream relay (`RELAY_*`). */
export interface RelayConfig {
  /** `RELAY_FROM_ENABLED` @default false */
  enabled: boolean;
  /** `RELAY_FROM_URL`: WebSocket URL of the upstream node. */
  url: string;
  /** `RELAY_INACTIVITY_PERIOD_SEC`: an upstream connection with no spectators is closed after this. @default 30 */
  inactivityPeriodSeconds: number;
  /** `RELAY_RESUME_TIMEOUT_SECONDS`: how long a relay whose upstream dropped tries to resume before its spectators get `E`. @default 15 */
  resumeTimeoutSeconds: number;
}

/** Token checks (`PULL_SECRET`, `PUSH_SECRET`, `PUSH_ALLOWED` and the explicit opt-outs). */
export interface AuthConfig {
  /** `PULL_SECRET`: HS256 secret of pull tokens. */
  pullSecret: string;
  /** `PUSH_SECRET`: HS256 secret of push tokens. */
  pushSecret: string;
  /** `PUSH_ALLOWED` @default true */
  pushAllowed: boolean;
  /** `PULL_AUTH_DISABLED`: accept pulls without a valid token. Needed to start with an empty `PULL_SECRET`. @default false */
  pullAuthDisabled: boolean;
  /** `PUSH_AUTH_DISABLED`: accept pushes without a valid token. Needed to start with an empty `PUSH_SECRET`. @default false */
  pushAuthDisabled: boolean;
  /** `PULL_PUBLIC_KEY_FILE`: PEM file of public keys (or certificates) that sign pull tokens. @default "" */
  pullPublicKeyFile?: string;
  /** `PUSH_PUBLIC_KEY_FILE`: PEM file of public keys (or certificates) that sign push tokens. @default "" */
  pushPublicKeyFile?: string;
  /** `PULL_JWKS_URL`: JWKS URL of the keys that sign pull tokens. @default "" */
  pullJwksUrl?: string;
  /** `PUSH_JWKS_URL`: JWKS URL of the keys that sign push tokens. @default "" */
  pushJwksUrl?: string;
  /** `JWKS_TIMEOUT_SECONDS`: longest wait for a JWKS fetch. @default 5 */
  jwksTimeoutSeconds?: number;
  /** `JWKS_CACHE_SECONDS`: a fetched key set is used this long before it is fetched again. @default 600 */
  jwksCacheSeconds?: number;
  /** `TOKEN_MAX_LIFETIME_SECONDS`: a token whose `exp` lies further ahead is refused; 0 is no limit. @default 2592000 (30 days) */
  tokenMaxLifetimeSeconds?: number;
}

/** The operator page and who may read `/stats` and `/metrics`. */
export interface OperatorConfig {
  /** `OPERATOR_TOKEN`: bearer token of the operator page (`/operator`); empty turns the page off. @default "" */
  token: string;
  /** `STATS_PUBLIC=YES`: `/stats` (it lists stream ids) answers without the operator token. @default false */
  statsPublic: boolean;
  /** `/metrics` (no stream ids) answers without the operator token; only `STATS_PUBLIC=NO` closes it. @default true */
  metricsPublic: boolean;
}

/** Fragment buffers (`BUFFER_MEMORY_*`, `FRAGMENT_BUFFER_MAX_LENGTH`). */
export interface BufferConfig {
  /** `BUFFER_MEMORY_LIMITER_ENABLED` @default true */
  limiterEnabled: boolean;
  /** `BUFFER_MEMORY_LIMIT_MB` @default a quarter of the machine's memory, at least 64 MB */
  limitBytes: number;
  /** `FRAGMENT_BUFFER_MAX_LENGTH`: fragments kept per stream for new spectators. @default 10 */
  maxFragments: number;
}

/** The slow-spectator policy (`SPECTATOR_*`). */
export interface SpectatorConfig {
  /** `SPECTATOR_MAX_QUEUE_MB`: unsent bytes above which whole fragments are skipped. @default 8 */
  maxQueueBytes: number;
  /** `SPECTATOR_MAX_LAG_SECONDS`: age of the oldest unsent byte above which fragments are skipped. @default 4 */
  maxLagSeconds: number;
  /** `SPECTATOR_STALL_TIMEOUT_SECONDS`: a spectator behind for this long gets `E` and is closed. @default 20 */
  stallTimeoutSeconds: number;
}

/** Protocol timers; the defaults are the protocol's and only tests should change them. */
export interface TimeoutConfig {
  /** `FIRST_MESSAGE_TIMEOUT_SECONDS` @default 30 */
  firstMessageSeconds: number;
  /** `HEARTBEAT_INTERVAL_SECONDS`: send `H` after this long without sending. @default 30 */
  heartbeatSeconds: number;
  /** `IDLE_TIMEOUT_SECONDS`: close after this long without receiving. @default 60 */
  idleSeconds: number;
  /** `UPSTREAM_TIMEOUT_SECONDS`: longest wait for another node to connect and answer. @default 10 */
  upstreamSeconds: number;
  /** `SHUTDOWN_TIMEOUT_SECONDS`: longest graceful shutdown before exit. @default 10 */
  shutdownSeconds: number;
  /** `PUBLISHER_GRACE_SECONDS`: how long a stream waits for a publisher that vanished without `CLOSE`; 0 ends it at once. @default 5 */
  publisherGraceSeconds: number;
  /** `HTTP_REQUEST_TIMEOUT_SECONDS`: a new connection must send its HTTP request (or upgrade) within this (`ws` transport). @default 10 */
  requestSeconds: number;
}

/** The whole configuration of a node. */
export interface NodeConfig {
  /** Log flags. */
  log: LogConfig;
  /** Plain HTTP/WS listener. */
  http: ListenerConfig;
  /** HTTPS/WSS listener. */
  tls: TlsConfig;
  /** `EXTERNAL_WEBSOCKET_URL`: how other nodes reach this one; detected when empty. @default "" */
  externalWebsocketUrl: string;
  /** `WEBSOCKET_PREFIX`: the WebSocket path; a prefix ending in `/` matches every path under it. @default "/" */
  websocketPrefix: string;
  /** `MAX_BINARY_MESSAGE_SIZE` in bytes. @default 52428800 */
  maxBinaryMessageSize: number;
  /** `WEBSOCKET_TRANSPORT`: `ws` (npm:ws over node:http) or `deno` (Deno.serve). @default "ws" */
  transport: TransportName;
  /** `NODE_ID`: this node's name in relay paths and logs. @default a random id */
  nodeId: string;
  /** Publish registry. */
  registry: RegistryConfig;
  /** Upstream relay. */
  relay: RelayConfig;
  /** Tokens. */
  auth: AuthConfig;
  /** Rate limits. */
  rateLimit: RateLimitConfig;
  /** `MAX_CONNECTIONS`: open WebSocket connections on this node; 0 is no limit. @default 0 */
  maxConnections: number;
  /** `MAX_PENDING_CONNECTIONS_PER_ADDRESS`: connections per address that have not sent `PUSH`/`PULL` yet; 0 is no limit. @default 64 */
  maxPendingPerAddress: number;
  /** `ALLOWED_ORIGINS`: page origins allowed to connect from browsers, comma separated; empty allows all. @default [] */
  allowedOrigins: string[];
  /** Fragment buffers. */
  buffers: BufferConfig;
  /** Slow spectators. */
  spectators: SpectatorConfig;
  /** Timers. */
  timeouts: TimeoutConfig;
  /** `SERVE_PLAYER`: serve the built player under `/player/`. @default true */
  servePlayer: boolean;
  /**
   * `PLAYER_TARGET_DELAY_SECONDS`: the target delay viewers hold behind the origin's receive time,
   * announced as `delay` on `OK` to clients granted `clock`. @default 0.1
   */
  playerTargetDelaySeconds: number;
  /** Low-Latency HLS under `/hls/` (`HLS_*`). */
  hls: HlsConfig;
  /** The operator page and access to statistics. */
  operator: OperatorConfig;
}

/** Low-Latency HLS (`HLS_*`, see `documentation/hls.md`). */
export interface HlsConfig {
  /** `HLS_ENABLED`: serve every stream as (Low-Latency) HLS under `/hls/`. @default true */
  enabled: boolean;
  /** `HLS_PART_TARGET_SECONDS`: the HLS part target; the stream's parts are grouped up to it. @default 0.25 */
  partTargetSeconds: number;
  /** `HLS_SEGMENTS`: media segments listed in a live playlist. @default 6 */
  segments: number;
  /** `HLS_INACTIVITY_SECONDS`: a stream no HLS client asked for this long is let go (a relay then closes after its own inactivity period). @default 30 */
  inactivitySeconds: number;
}

const DAY = 86400;

/** Shortest operator token accepted: a guessable token would open the operator page to anyone. */
const MIN_OPERATOR_TOKEN_LENGTH = 16;

function readOperator(read: EnvReader): OperatorConfig {
  const token = read.string("OPERATOR_TOKEN").trim();
  // Unset: /metrics open, /stats with the token. YES: both open. NO: both with the token.
  const explicit = read.string("STATS_PUBLIC").trim() !== "";
  const statsPublic = read.boolean("STATS_PUBLIC", false);
  if (token !== "" && token.length < MIN_OPERATOR_TOKEN_LENGTH) {
    throw new ConfigError(
      "OPERATOR_TOKEN",
      "(hidden)",
      `too short: use at least ${MIN_OPERATOR_TOKEN_LENGTH} random characters`,
    );
  }
  if (explicit && !statsPublic && token === "") {
    throw new ConfigError(
      "STATS_PUBLIC",
      "NO",
      "needs OPERATOR_TOKEN (the token that opens /stats)",
    );
  }
  return { token, statsPublic, metricsPublic: statsPublic || !explicit };
}

/**
 * Builds and validates the configuration from environment variables. Throws a
 * {@linkcode ConfigError} naming the first bad variable. `fileExists` checks certificate paths;
 * `memoryBytes` is the machine's memory (the default buffer limit is a quarter of it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConfigError, parseConfig } from "./config.ts";
 * try {
 *   parseConfig({ HTTP_PORT: "eighty" });
 * } catch (error) {
 *   assert(error instanceof ConfigError && error.message.startsWith("HTTP_PORT="));
 * }
 * ```
 */
export function parseConfig(
  env: Readonly<Record<string, string | undefined>>,
  fileExists: (path: string) => boolean = () => true,
  memoryBytes: number = machineMemoryBytes(),
): NodeConfig {
  const read = new EnvReader(env);
  const log: LogConfig = {
    error: read.boolean("LOG_ERROR", true),
    warning: read.boolean("LOG_WARNING", true),
    info: read.boolean("LOG_INFO", true),
    requests: read.boolean("LOG_REQUESTS", true),
    debug: read.boolean("LOG_DEBUG", false),
    trace: read.boolean("LOG_TRACE", false),
  };
  const http: ListenerConfig = {
    enabled: read.boolean("HTTP_ENABLED", true),
    port: read.port("HTTP_PORT", 80),
    bindAddress: read.string("HTTP_BIND_ADDRESS").trim(),
  };
  const tls: TlsConfig = {
    enabled: read.boolean("TLS_ENABLED", false),
    port: read.port("TLS_PORT", 443),
    bindAddress: read.string("TLS_BIND_ADDRESS").trim(),
    certificateFile: read.string("TLS_CERTIFICATE").trim(),
    privateKeyFile: read.string("TLS_PRIVATE_KEY").trim(),
    checkReloadSeconds: read.integer("TLS_CHECK_RELOAD_SECONDS", 60, 0, DAY),
  };
  if (tls.enabled) {
    for (
      const [name, path] of [["TLS_CERTIFICATE", tls.certificateFile], [
        "TLS_PRIVATE_KEY",
        tls.privateKeyFile,
      ]]
    ) {
      if (path === "" || !fileExists(path)) {
        throw new ConfigError(name, path, "no such file (TLS_ENABLED=YES)");
      }
    }
  }
  if (!http.enabled && !tls.enabled) {
    throw new ConfigError(
      "HTTP_ENABLED",
      env.HTTP_ENABLED ?? "",
      "HTTP and TLS are both off: nothing would listen",
    );
  }

  const prefix = read.string("WEBSOCKET_PREFIX", "/").trim() || "/";
  if (!prefix.startsWith("/")) {
    throw new ConfigError("WEBSOCKET_PREFIX", prefix, "expected a path starting with /");
  }

  const transport = read.oneOf<TransportName>("WEBSOCKET_TRANSPORT", ["ws", "deno"], "ws");

  const auth: AuthConfig = {
    pullSecret: read.string("PULL_SECRET"),
    pushSecret: read.string("PUSH_SECRET"),
    pushAllowed: read.boolean("PUSH_ALLOWED", true),
    pullAuthDisabled: read.boolean("PULL_AUTH_DISABLED", false),
    pushAuthDisabled: read.boolean("PUSH_AUTH_DISABLED", false),
    pullPublicKeyFile: read.string("PULL_PUBLIC_KEY_FILE").trim(),
    pushPublicKeyFile: read.string("PUSH_PUBLIC_KEY_FILE").trim(),
    pullJwksUrl: read.httpUrl("PULL_JWKS_URL"),
    pushJwksUrl: read.httpUrl("PUSH_JWKS_URL"),
    jwksTimeoutSeconds: read.number("JWKS_TIMEOUT_SECONDS", 5, 0.1, 600),
    jwksCacheSeconds: read.number("JWKS_CACHE_SECONDS", 600, 1, DAY),
    tokenMaxLifetimeSeconds: read.integer("TOKEN_MAX_LIFETIME_SECONDS", 30 * DAY, 0, 3650 * DAY),
  };
  if (auth.tokenMaxLifetimeSeconds! > 0 && auth.tokenMaxLifetimeSeconds! < 600) {
    throw new ConfigError(
      "TOKEN_MAX_LIFETIME_SECONDS",
      String(auth.tokenMaxLifetimeSeconds),
      "expected 0 (no limit) or at least 600 (relays sign 5-minute tokens)",
    );
  }
  for (
    const [name, path] of [
      ["PULL_PUBLIC_KEY_FILE", auth.pullPublicKeyFile!],
      ["PUSH_PUBLIC_KEY_FILE", auth.pushPublicKeyFile!],
    ]
  ) {
    if (path !== "" && !fileExists(path)) throw new ConfigError(name, path, "no such file");
  }
  const pullKeys = auth.pullPublicKeyFile !== "" || auth.pullJwksUrl !== "";
  const pushKeys = auth.pushPublicKeyFile !== "" || auth.pushJwksUrl !== "";
  if (auth.pullSecret === "" && !auth.pullAuthDisabled && !pullKeys) {
    throw new ConfigError(
      "PULL_SECRET",
      "",
      "empty; set a secret, or PULL_AUTH_DISABLED=YES to let anyone pull",
    );
  }
  if (auth.pushAllowed && auth.pushSecret === "" && !auth.pushAuthDisabled && !pushKeys) {
    throw new ConfigError(
      "PUSH_SECRET",
      "",
      "empty; set a secret, or PUSH_AUTH_DISABLED=YES to let anyone push",
    );
  }

  const registry: RegistryConfig = {
    enabled: read.boolean("PUB_REG_REDIS_ENABLED", false),
    host: read.string("PUB_REG_REDIS_HOST", "127.0.0.1").trim() || "127.0.0.1",
    port: read.port("PUB_REG_REDIS_PORT", 6379),
    password: read.string("PUB_REG_REDIS_PASSWORD"),
    useTls: read.boolean("PUB_REG_REDIS_USE_TLS", false),
    tlsCaFile: read.string("PUB_REG_REDIS_TLS_CA_FILE").trim(),
    refreshIntervalSeconds: read.integer("PUB_REG_REFRESH_INTERVAL_SECONDS", 60, 1, DAY),
    namespace: read.string("PUB_REG_NAMESPACE", "hls-ws-cdn:stream:"),
    mode: read.oneOf("PUB_REG_REDIS_MODE", ["standalone", "sentinel", "cluster"], "standalone"),
    nodes: [],
    sentinelName: read.string("PUB_REG_REDIS_SENTINEL_NAME", "mymaster").trim() || "mymaster",
    sentinelPassword: read.string("PUB_REG_REDIS_SENTINEL_PASSWORD"),
    username: read.string("PUB_REG_REDIS_USERNAME").trim(),
    timeoutSeconds: read.number("PUB_REG_REDIS_TIMEOUT_SECONDS", 0.5, 0.01, 60),
    allowedHosts: read.checkedList("PUB_REG_ALLOWED_HOSTS", (entries) => new HostList(entries)),
  };
  registry.nodes = read.hostPorts("PUB_REG_REDIS_NODES", registry.port) ??
    [{ host: registry.host, port: registry.port }];
  if (registry.tlsCaFile !== "" && !fileExists(registry.tlsCaFile)) {
    throw new ConfigError("PUB_REG_REDIS_TLS_CA_FILE", registry.tlsCaFile, "no such file");
  }
  const relay: RelayConfig = {
    enabled: read.boolean("RELAY_FROM_ENABLED", false),
    url: read.webSocketUrl("RELAY_FROM_URL"),
    inactivityPeriodSeconds: read.integer("RELAY_INACTIVITY_PERIOD_SEC", 30, 0, DAY),
    resumeTimeoutSeconds: read.number("RELAY_RESUME_TIMEOUT_SECONDS", 15, 0, 3600),
  };
  if (relay.enabled && relay.url === "") {
    throw new ConfigError("RELAY_FROM_URL", "", "required when RELAY_FROM_ENABLED=YES");
  }

  const MB = 1024 * 1024;
  const nodeId = read.string("NODE_ID").trim() || crypto.randomUUID().slice(0, 8);
  if (!isValidNodeId(nodeId)) {
    throw new ConfigError(
      "NODE_ID",
      nodeId,
      "expected 1 to 64 letters, digits, '.', '_', '~' or '-' (it travels in via)",
    );
  }
  return {
    log,
    http,
    tls,
    externalWebsocketUrl: read.webSocketUrl("EXTERNAL_WEBSOCKET_URL"),
    websocketPrefix: prefix,
    maxBinaryMessageSize: read.integer("MAX_BINARY_MESSAGE_SIZE", 50 * MB, 1024, 2 ** 31 - 1),
    transport,
    nodeId,
    registry,
    relay,
    auth,
    rateLimit: {
      enabled: read.boolean("RATE_LIMIT_ENABLED", false),
      whitelist: read.checkedList("RATE_LIMIT_WHITELIST", (entries) => new AddressList(entries)),
      connections: read.integer("RATE_LIMIT_CONNECTIONS", 0, 0, 1e9),
      requestsPerSecond: read.integer("RATE_LIMIT_REQ_PER_SEC", 0, 0, 1e9),
      requestBurst: read.integer("RATE_LIMIT_REQ_BURST", 0, 0, 1e9),
      cleanupSeconds: read.integer("RATE_LIMIT_REQ_CLEANUP", 10, 1, DAY),
    },
    maxConnections: read.integer("MAX_CONNECTIONS", 0, 0, 1e9),
    maxPendingPerAddress: read.integer("MAX_PENDING_CONNECTIONS_PER_ADDRESS", 64, 0, 1e9),
    allowedOrigins: read.checkedList("ALLOWED_ORIGINS", (entries) => new OriginPolicy(entries)),
    buffers: {
      limiterEnabled: read.boolean("BUFFER_MEMORY_LIMITER_ENABLED", true),
      limitBytes:
        read.integer("BUFFER_MEMORY_LIMIT_MB", defaultBufferLimitMb(memoryBytes), 1, 1e6) *
        MB,
      maxFragments: read.integer("FRAGMENT_BUFFER_MAX_LENGTH", 10, 0, 10000),
    },
    spectators: {
      maxQueueBytes: read.number("SPECTATOR_MAX_QUEUE_MB", 8, 0.01, 1e5) * MB,
      maxLagSeconds: read.number("SPECTATOR_MAX_LAG_SECONDS", 4, 0.01, 3600),
      stallTimeoutSeconds: read.number("SPECTATOR_STALL_TIMEOUT_SECONDS", 20, 0.1, 3600),
    },
    timeouts: {
      firstMessageSeconds: read.number("FIRST_MESSAGE_TIMEOUT_SECONDS", 30, 0.1, DAY),
      heartbeatSeconds: read.number("HEARTBEAT_INTERVAL_SECONDS", 30, 0.1, DAY),
      idleSeconds: read.number("IDLE_TIMEOUT_SECONDS", 60, 0.1, DAY),
      upstreamSeconds: read.number("UPSTREAM_TIMEOUT_SECONDS", 10, 0.1, 3600),
      shutdownSeconds: read.number("SHUTDOWN_TIMEOUT_SECONDS", 10, 0, 3600),
      publisherGraceSeconds: read.number("PUBLISHER_GRACE_SECONDS", 5, 0, 3600),
      requestSeconds: read.number("HTTP_REQUEST_TIMEOUT_SECONDS", 10, 0.1, 3600),
    },
    servePlayer: read.boolean("SERVE_PLAYER", true),
    playerTargetDelaySeconds: read.number("PLAYER_TARGET_DELAY_SECONDS", 0.1, 0.02, 30),
    hls: {
      enabled: read.boolean("HLS_ENABLED", true),
      partTargetSeconds: read.number("HLS_PART_TARGET_SECONDS", 0.25, 0.05, 10),
      segments: read.integer("HLS_SEGMENTS", 6, 3, 100),
      inactivitySeconds: read.number("HLS_INACTIVITY_SECONDS", 30, 1, DAY),
    },
    operator: readOperator(read),
  };
}
