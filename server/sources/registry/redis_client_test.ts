/** The ioredis options built from `PUB_REG_*` for each mode. */

import { assertEquals } from "../../../tests/helpers/assert.ts";
import { parseConfig } from "../../config.ts";
import { redisClientOptions } from "./redis_client.ts";

const secrets = { PULL_SECRET: "a", PUSH_SECRET: "b" };

Deno.test("redis client options: standalone with password, ACL user and TLS", () => {
  const { registry } = parseConfig({
    ...secrets,
    PUB_REG_REDIS_HOST: "redis.internal",
    PUB_REG_REDIS_PORT: "6380",
    PUB_REG_REDIS_PASSWORD: "pw",
    PUB_REG_REDIS_USERNAME: "cdn",
    PUB_REG_REDIS_USE_TLS: "YES",
    PUB_REG_REDIS_TIMEOUT_SECONDS: "0.25",
  });
  const { mode, redis } = redisClientOptions(registry);
  assertEquals(mode, "standalone");
  assertEquals([redis.host, redis.port, redis.password, redis.username], [
    "redis.internal",
    6380,
    "pw",
    "cdn",
  ]);
  assertEquals(redis.tls, {});
  assertEquals([redis.enableOfflineQueue, redis.commandTimeout], [false, 250]);
});

Deno.test("redis client options: sentinel", () => {
  const { registry } = parseConfig({
    ...secrets,
    PUB_REG_REDIS_MODE: "sentinel",
    PUB_REG_REDIS_NODES: "s1:26379, s2:26380",
    PUB_REG_REDIS_SENTINEL_NAME: "cdn",
    PUB_REG_REDIS_SENTINEL_PASSWORD: "spw",
  });
  const { mode, redis } = redisClientOptions(registry);
  assertEquals(mode, "sentinel");
  assertEquals(redis.sentinels, [{ host: "s1", port: 26379 }, { host: "s2", port: 26380 }]);
  assertEquals([redis.name, redis.sentinelPassword, redis.tls], ["cdn", "spw", undefined]);
});

Deno.test("redis client options: cluster seeds default to HOST:PORT", () => {
  const { registry } = parseConfig({
    ...secrets,
    PUB_REG_REDIS_MODE: "CLUSTER",
    PUB_REG_REDIS_HOST: "c1",
    PUB_REG_REDIS_PORT: "7000",
  });
  const { mode, seeds } = redisClientOptions(registry);
  assertEquals(mode, "cluster");
  assertEquals(seeds, [{ host: "c1", port: 7000 }]);
});
