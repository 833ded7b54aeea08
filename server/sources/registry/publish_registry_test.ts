/**
 * PublishRegistry against a private redis-server: registration on publish, deletion on end only
 * when the entry is still ours, refresh that never takes another node's entry back, lookups that
 * fail fast while Redis is down, re-registration when it is back, and cleanup on destroy.
 */

import { assert, assertAtMost, assertEquals } from "../../../tests/helpers/assert.ts";
import { hasRedis, startRedis } from "../../../tests/helpers/redis.ts";
import { waitForValue } from "../../../tests/helpers/wait.ts";
import { BufferMemory } from "../../buffer_memory.ts";
import { parseConfig } from "../../config.ts";
import { Logger } from "../../log.ts";
import { Metrics } from "../../metrics.ts";
import { LocalPublications } from "../local.ts";
import { followPublications } from "../../fleet.ts";
import { PublishRegistry } from "./publish_registry.ts";
import { createRedisClient } from "./redis_client.ts";

const quiet = Logger.silent();

/** A registry for node `url` on the Redis at `port`, with its publications. */
function registryFor(port: number, url: string, graceMs = 0) {
  const config = parseConfig({
    PULL_SECRET: "a",
    PUSH_SECRET: "b",
    PUB_REG_REDIS_PORT: String(port),
    PUB_REG_REFRESH_INTERVAL_SECONDS: "1",
    PUB_REG_NAMESPACE: "t:",
  });
  const publications = new LocalPublications({
    maxFragments: 2,
    memory: new BufferMemory(Infinity),
    metrics: new Metrics(),
    log: quiet,
    graceMs,
  });
  const registry = new PublishRegistry({
    client: createRedisClient(config.registry),
    local: publications,
    namespace: "t:",
    url,
    refreshIntervalSeconds: 1,
    timeoutMs: 500,
    log: quiet,
  });
  followPublications(publications, registry);
  const publisher = { replaced() {} };
  return { registry, publications, publisher };
}

Deno.test({
  name: "publish registry: register, refresh, compare-and-delete, outage, destroy",
  ignore: !await hasRedis(),
  async fn(t) {
    await using redis = await startRedis();
    const get = (key: string) => redis.command("GET", key);
    const a = registryFor(redis.port, "ws://a/", 60_000);
    const b = registryFor(redis.port, "ws://b/");
    try {
      await t.step(
        "a publication is registered with a time to live of twice the refresh",
        async () => {
          a.publications.publish("s", a.publisher);
          await waitForValue(() => get("t:s"), "ws://a/", 2000);
          const ttl = Number(await redis.command("TTL", "t:s"));
          assert(ttl > 0 && ttl <= 2, `ttl ${ttl}`);
          assertEquals(await b.registry.lookup("s"), "ws://a/");
          assertEquals(await b.registry.lookup("unknown"), null);
        },
      );

      await t.step("the newest publisher wins, and refresh does not take it back", async () => {
        b.publications.publish("s", b.publisher);
        await waitForValue(() => get("t:s"), "ws://b/", 2000);
        await new Promise((resolve) => setTimeout(resolve, 1300)); // a refresh of both
        assertEquals(await get("t:s"), "ws://b/");
      });

      await t.step("an ended stream's entry is deleted only by the node it points to", async () => {
        a.publications.unpublish("s", a.publisher, { kind: "closed" });
        await new Promise((resolve) => setTimeout(resolve, 200));
        assertEquals(await get("t:s"), "ws://b/", "A's end leaves B's entry");
        b.publications.unpublish("s", b.publisher, { kind: "closed" });
        await waitForValue(() => get("t:s"), null, 1000);
      });

      await t.step(
        "a stream in grace keeps its entry, and follows a takeover elsewhere",
        async () => {
          const stream = a.publications.publish("g", a.publisher);
          await waitForValue(() => get("t:g"), "ws://a/", 2000);
          a.publications.vanish("g", a.publisher, "connection lost");
          // Past the entry's 2 s time to live: only refreshes during the grace keep it.
          await new Promise((resolve) => setTimeout(resolve, 2300));
          assertEquals(await get("t:g"), "ws://a/", "kept, and refreshed, during the grace");
          assert(a.publications.isVacant("g") && stream.ended === null, "still waiting");
          b.publications.publish("g", b.publisher); // the encoder reconnected to B
          const took = await waitForValue(
            () => Promise.resolve(stream.ended?.kind === "failed" ? stream.ended.code : null),
            "STREAM_MOVED",
            2000,
          );
          assertAtMost(took, 1500, "ms for A to notice the move");
          await new Promise((resolve) => setTimeout(resolve, 200));
          assertEquals(await get("t:g"), "ws://b/", "A's end leaves B's entry");
          b.publications.unpublish("g", b.publisher, { kind: "closed" });
          await waitForValue(() => get("t:g"), null, 1000);
        },
      );

      await t.step("while Redis is down lookups fail fast; it is re-registered after", async () => {
        a.publications.publish("x", a.publisher);
        await waitForValue(() => get("t:x"), "ws://a/", 2000);
        await redis.kill();
        const start = performance.now();
        let failed = false;
        try {
          await b.registry.lookup("x");
        } catch {
          failed = true;
        }
        assert(failed, "the lookup failed");
        assertAtMost(performance.now() - start, 1500, "ms to fail");
        a.publications.publish("y", a.publisher);
        await redis.restart();
        await waitForValue(() => get("t:x"), "ws://a/", 5000);
        await waitForValue(() => get("t:y"), "ws://a/", 5000);
      });

      await t.step("destroy deletes the node's own entries only", async () => {
        await redis.command("SET", "t:z", "ws://b/");
        a.publications.publish("z", a.publisher);
        await waitForValue(() => get("t:z"), "ws://a/", 2000);
        await redis.command("SET", "t:z", "ws://b/"); // B took it over meanwhile
        await a.registry.destroy();
        assertEquals(await get("t:x"), null);
        assertEquals(await get("t:y"), null);
        assertEquals(await get("t:z"), "ws://b/");
      });
    } finally {
      await a.registry.destroy();
      await b.registry.destroy();
    }
  },
});
