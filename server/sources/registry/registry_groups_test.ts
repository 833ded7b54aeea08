/**
 * Rendition groups through the publish registry, at its seams: PublishRegistry keeps a rendition's
 * group field in step with its stream entry (registered, taken over, refreshed, deleted only by
 * its owner, registered again after a Redis restart, removed on destroy) against a private
 * redis-server, also under the ACL the deployment page documents; RegistrySource lists only the
 * renditions it may follow, sharing one listing among viewers joining at once (fake registry); and
 * a group pull found through the registry opens one relay, for the rendition the viewer starts on
 * (fake upstream sockets).
 */

import { assert, assertEquals } from "../../../tests/helpers/assert.ts";
import { hasRedis, startRedis } from "../../../tests/helpers/redis.ts";
import { waitForValue } from "../../../tests/helpers/wait.ts";
import { parseMessage } from "../../../shared/protocol.ts";
import { BufferMemory } from "../../buffer_memory.ts";
import { parseConfig } from "../../config.ts";
import { followPublications } from "../../fleet.ts";
import { GroupDirectoryChain } from "../../groups/directory_chain.ts";
import { findGroup } from "../../groups/group_pull.ts";
import { HostList } from "../../limits/host_list.ts";
import { Logger } from "../../log.ts";
import { Metrics } from "../../metrics.ts";
import { relayFixture } from "../../testing/relay_fixture.ts";
import { SourceChain } from "../chain.ts";
import { LocalPublications } from "../local.ts";
import type { GroupEntry } from "./group_index.ts";
import { PublishRegistry } from "./publish_registry.ts";
import { createRedisClient } from "./redis_client.ts";
import { RegistrySource } from "./registry_source.ts";

const TOP = "room/live/1280x720-30~2500";
const LOW = "room/live/640x360-30~800";
const quiet = Logger.silent();
const signal = new AbortController().signal;

/** A registry source over a fake registry whose group listing is `entries` (or fails). */
function sourceWith(entries: GroupEntry[] | Error, hub = relayFixture().hub) {
  const registry = {
    lookup: (id: string) =>
      Promise.resolve(
        entries instanceof Error ? null : entries.find((e) => e.streamId === id)?.url ?? null,
      ),
    listGroup: () => entries instanceof Error ? Promise.reject(entries) : Promise.resolve(entries),
    destroy: () => Promise.resolve(),
  };
  return new RegistrySource({
    registry,
    hub,
    ownUrl: "ws://this.node/",
    allowedHosts: new HostList(["a.internal", "b.internal"]),
    log: quiet,
  });
}

Deno.test("registry source: a group lists the renditions it may follow, best first", async () => {
  const source = sourceWith([
    { streamId: LOW, url: "ws://b.internal/" },
    { streamId: TOP, url: "ws://a.internal/" },
    { streamId: "room/live/320x180-30~300", url: "ws://this.node/" }, // stale: this node
    { streamId: "room/live/160x90-30~150", url: "ws://evil.example/" }, // host not allowed
    { streamId: "room/live/100x50-30~100", url: "ws://user:pw@a.internal/" }, // credentials
    { streamId: "room/live/90x50-30~90", url: "http://a.internal/" }, // not a WebSocket URL
  ]);
  assertEquals((await source.listGroup("room/live")).map((r) => [r.streamId, r.kbps]), [
    [TOP, 2500],
    [LOW, 800],
  ]);
  assertEquals(await source.listGroup("room/other"), [], "entries of another group are not its");
  assertEquals(await sourceWith(new Error("Redis is down")).listGroup("room/live"), []);
});

Deno.test("registry source: viewers joining at once share one listing", async () => {
  let asked = 0;
  let entries: GroupEntry[] = [];
  const source = new RegistrySource({
    registry: {
      lookup: () => Promise.resolve(null),
      listGroup: () => {
        asked++;
        return Promise.resolve(entries);
      },
      destroy: () => Promise.resolve(),
    },
    hub: relayFixture().hub,
    ownUrl: "ws://this.node/",
    allowedHosts: null,
    log: quiet,
  });
  assertEquals(await source.listGroup("room/live"), []);
  assertEquals(await source.listGroup("room/live"), [], "an empty answer is not kept");
  assertEquals(asked, 2);
  entries = [{ streamId: TOP, url: "ws://a.internal/" }];
  const lists = await Promise.all(Array.from({ length: 5 }, () => source.listGroup("room/live")));
  assertEquals(asked, 3, "one listing for five viewers");
  assert(lists.every((list) => list.length === 1 && list[0].streamId === TOP));
  assertEquals((await source.listGroup("room/live")).length, 1);
  assertEquals(asked, 3, "kept");
});

Deno.test("registry source: a group pull through the registry relays only the rendition in use", async () => {
  const { hub, upstream, fragment, sockets } = relayFixture();
  const source = sourceWith([
    { streamId: TOP, url: "ws://a.internal/" },
    { streamId: LOW, url: "ws://a.internal/" },
  ], hub);
  const sources = new SourceChain([source]);
  const context = {
    config: { nodeId: "edge" },
    verifier: { verify: () => Promise.resolve() },
    sources,
    publications: { streamIds: [] },
    directory: new GroupDirectoryChain(sources.sources),
  };
  const found = findGroup(
    { type: "PULL", stream: "room/live", auth: "t", group: true, caps: ["abr"] },
    context,
    signal,
  );
  const socket = await upstream("OK");
  const pull = parseMessage(socket.sent[0]);
  assert(pull.type === "PULL" && pull.stream === TOP && pull.onlySource === true, socket.sent[0]);
  assertEquals(socket.url, "ws://a.internal/");
  fragment(socket, 1);
  const group = await found;
  assertEquals(group.renditions.map((r) => r.streamId), [TOP, LOW]);
  assertEquals([group.index, group.stream.id], [0, TOP]);
  assertEquals(sockets.created.length, 1, "one upstream connection: the top rendition");
  assertEquals(hub.relays("registry").map((relay) => relay.stats().id), [TOP]);
  const lower = group.open(LOW, signal);
  const second = await upstream("OK");
  const lowPull = parseMessage(second.sent[0]);
  assert(lowPull.type === "PULL" && lowPull.stream === LOW, second.sent[0]);
  fragment(second, 1);
  assertEquals((await lower).id, LOW);
  assertEquals(sockets.created.length, 2, "the lower rendition's relay opens when asked for");
  await source.destroy();
  assertEquals(hub.relays(), []);
});

/** A registry for node `url` on the Redis at `port`, with its publications. */
function registryFor(port: number, url: string) {
  const config = parseConfig({
    PULL_SECRET: "a",
    PUSH_SECRET: "b",
    PUB_REG_REDIS_PORT: String(port),
  });
  const publications = new LocalPublications({
    maxFragments: 2,
    memory: new BufferMemory(Infinity),
    metrics: new Metrics(),
    log: quiet,
    graceMs: 0,
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
  return { registry, publications, publisher: { replaced() {} } };
}

Deno.test({
  name: "publish registry: rendition groups registered, taken over, refreshed and deleted",
  ignore: !await hasRedis(),
  async fn(t) {
    await using redis = await startRedis();
    const key = "t:room/live#renditions";
    const owner = async (id: string) =>
      (await redis.command("HGET", key, id))?.split(" ")[1] ?? null;
    const a = registryFor(redis.port, "ws://a/");
    const b = registryFor(redis.port, "ws://b/");
    const listed = async () =>
      (await b.registry.listGroup("room/live")).map((e) => `${e.streamId} ${e.url}`).sort();
    try {
      await t.step("a rendition is registered in its group; a plain stream is not", async () => {
        a.publications.publish(TOP, a.publisher);
        a.publications.publish(LOW, a.publisher);
        a.publications.publish("room/live", a.publisher);
        await waitForValue(() => owner(LOW), "ws://a/", 2000);
        assertEquals(await owner(TOP), "ws://a/");
        assertEquals(await listed(), [`${TOP} ws://a/`, `${LOW} ws://a/`].sort());
        assertEquals(await redis.command("HLEN", key), "2");
        assertEquals(await redis.command("GET", "t:room/live"), "ws://a/", "its own entry");
      });

      await t.step("the refresh keeps the fields past their time to live", async () => {
        await new Promise((resolve) => setTimeout(resolve, 2500)); // ttl 2 s
        assertEquals(await listed(), [`${TOP} ws://a/`, `${LOW} ws://a/`].sort());
      });

      await t.step("a takeover moves the field; the old node's end leaves it", async () => {
        b.publications.publish(LOW, b.publisher);
        await waitForValue(() => owner(LOW), "ws://b/", 2000);
        await new Promise((resolve) => setTimeout(resolve, 1300)); // a refresh of both
        assertEquals(await owner(LOW), "ws://b/", "A's refresh does not take it back");
        a.publications.unpublish(LOW, a.publisher, { kind: "closed" });
        await waitForValue(() => redis.command("GET", "t:" + LOW), "ws://b/", 1000);
        await new Promise((resolve) => setTimeout(resolve, 200));
        assertEquals(await owner(LOW), "ws://b/", "A's delete left B's field");
        b.publications.unpublish(LOW, b.publisher, { kind: "closed" });
        await waitForValue(() => owner(LOW), null, 1000);
        assertEquals(await listed(), [`${TOP} ws://a/`]);
      });

      await t.step("after a Redis restart (empty) the group is registered again", async () => {
        await redis.kill();
        await redis.restart();
        await waitForValue(() => owner(TOP), "ws://a/", 5000);
        assertEquals(await listed(), [`${TOP} ws://a/`]);
      });

      await t.step("destroy deletes the node's group fields", async () => {
        await a.registry.destroy();
        assertEquals(await owner(TOP), null);
        assertEquals(await redis.command("EXISTS", key), "0");
        assertEquals(await b.registry.listGroup("room/live"), []);
      });
    } finally {
      await a.registry.destroy();
      await b.registry.destroy();
    }
  },
});

/** The ACL of `documentation/deployment.md` ("Sharing one Redis between fleets"), prefix `t:`. */
const FLEET_ACL =
  "~t:* +get +set +eval +del +hget +hset +hdel +hgetall +hscan +ttl +expire +time " +
  "+ping +hello +client +info";

Deno.test({
  name: "publish registry: the documented ACL is enough for streams and groups",
  ignore: !await hasRedis(),
  async fn() {
    await using redis = await startRedis();
    await redis.command("ACL", "SETUSER", "fleet", "on", ">fleet-secret", ...FLEET_ACL.split(" "));
    const errors = new Metrics();
    const config = parseConfig({
      PULL_SECRET: "a",
      PUSH_SECRET: "b",
      PUB_REG_REDIS_PORT: String(redis.port),
      PUB_REG_REDIS_USERNAME: "fleet",
      PUB_REG_REDIS_PASSWORD: "fleet-secret",
    });
    const publications = new LocalPublications({
      maxFragments: 2,
      memory: new BufferMemory(Infinity),
      metrics: new Metrics(),
      log: quiet,
      graceMs: 0,
    });
    const registry = new PublishRegistry({
      client: createRedisClient(config.registry),
      local: publications,
      namespace: "t:",
      url: "ws://a/",
      refreshIntervalSeconds: 1,
      timeoutMs: 500,
      log: quiet,
      metrics: errors,
    });
    followPublications(publications, registry);
    const publisher = { replaced() {} };
    try {
      const failures = async () =>
        (await errors.registryErrors.get()).values.reduce((sum, value) => sum + value.value, 0);
      await waitForValue(() => registry.lookup("none").catch(() => "not yet"), null, 3000);
      const before = await failures(); // lookups before the connection was ready
      publications.publish(TOP, publisher);
      await waitForValue(
        async () => (await registry.listGroup("room/live").catch(() => [])).length,
        1,
        3000,
      );
      assertEquals(await registry.lookup(TOP), "ws://a/");
      await new Promise((resolve) => setTimeout(resolve, 1300)); // a refresh, under the ACL
      publications.unpublish(TOP, publisher, { kind: "closed" });
      await waitForValue(() => redis.command("EXISTS", "t:room/live#renditions"), "0", 2000);
      await waitForValue(() => redis.command("EXISTS", "t:" + TOP), "0", 2000);
      assertEquals(await failures() - before, 0, "no command refused");
    } finally {
      await registry.destroy();
    }
  },
});
