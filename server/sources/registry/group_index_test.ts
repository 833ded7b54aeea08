/**
 * GroupIndex against a private redis-server (its Lua scripts run there), and its checks of what a
 * listing reads back: takeover and refresh, the delete conditional on the owner (-1 for another
 * node's field), expiry on Redis's clock with pruning, and a poisoned hash (garbage values, ids of
 * other groups, too many fields, a key of the wrong type), and the same scripts on a Cluster.
 */

import { Cluster, Redis } from "ioredis";
import { assert, assertEquals, assertMatch, assertRejects } from "../../../tests/helpers/assert.ts";
import { hasRedis, startRedis } from "../../../tests/helpers/redis.ts";
import { waitForValue } from "../../../tests/helpers/wait.ts";
import { checkedEntries, GroupIndex, groupOf, MAX_GROUP_RENDITIONS } from "./group_index.ts";

const TOP = "room/live/1280x720-30~2500";
const LOW = "room/live/640x360-30~800";

Deno.test("group index: which ids register in a group", () => {
  assertEquals(groupOf(TOP), "room/live");
  assertEquals(groupOf("a/b/320x180"), "a/b");
  assertEquals(groupOf("1280x720"), null, "a rendition without a group");
  assertEquals(groupOf("room/live"), null);
});

Deno.test("group index: a non-rendition sends no command", async () => {
  const sent: unknown[][] = [];
  const client = {
    eval: (...args: unknown[]) => {
      sent.push(args);
      return Promise.resolve(1);
    },
  };
  const index = new GroupIndex({ client: client as never, namespace: "t:" });
  assertEquals(await index.write("room/live", "ws://a/", 10, { takeOver: true }), false);
  assertEquals(await index.remove("plain", "ws://a/"), 0);
  assertEquals(await index.list(""), []);
  assertEquals(sent, []);
  assertEquals(index.key("room/live"), "t:room/live#renditions");
});

Deno.test("group index: listings read back are checked", () => {
  const url = "ws://a/";
  assertEquals(checkedEntries("room/live", "garbage"), []);
  assertEquals(checkedEntries("room/live", null), []);
  assertEquals(
    checkedEntries("room/live", [
      TOP,
      url,
      TOP,
      "ws://dup/", // the same id twice: the first wins
      "room/other/640x360",
      url, // another group
      "room/live/notarendition",
      url,
      "room/live/" + "9".repeat(300) + "x1",
      url, // not a valid stream id (too long)
      42,
      url, // not a string
      LOW,
      "", // no URL
      LOW, // odd length: the last id has no URL
    ]),
    [{ streamId: TOP, url }],
  );
  const many = Array.from({ length: 40 }, (_, i) => [`room/live/${i + 1}x1`, url]).flat();
  assertEquals(checkedEntries("room/live", many).length, MAX_GROUP_RENDITIONS);
});

Deno.test({
  name: "group index: write, refresh, conditional delete, expiry, poisoned hash",
  ignore: !await hasRedis(),
  async fn(t) {
    await using redis = await startRedis();
    const client = new Redis({ host: "127.0.0.1", port: redis.port, lazyConnect: true });
    await client.connect();
    const index = new GroupIndex({ client, namespace: "t:" });
    const key = "t:room/live#renditions";
    const field = (id: string) => client.hget(key, id);
    try {
      await t.step("a registration sets the field with an expiry on Redis's clock", async () => {
        assert(await index.write(TOP, "ws://a/", 10, { takeOver: true }));
        const [seconds] = await client.time();
        const [expiry, url] = (await field(TOP))!.split(" ");
        assertEquals(url, "ws://a/");
        const left = Number(expiry) - Number(seconds) * 1000;
        assert(left > 8000 && left <= 11000, `expires in ${left} ms`);
        const ttl = await client.ttl(key);
        assert(ttl > 8 && ttl <= 10, `hash ttl ${ttl}`);
        assertEquals(await index.list("room/live"), [{ streamId: TOP, url: "ws://a/" }]);
        assertEquals(await index.list("room/other"), []);
      });

      await t.step(
        "a refresh leaves another node's live field alone; a takeover wins",
        async () => {
          assertEquals(await index.write(TOP, "ws://b/", 10, { takeOver: false }), false);
          assertEquals((await field(TOP))!.split(" ")[1], "ws://a/");
          assert(await index.write(TOP, "ws://a/", 10, { takeOver: false }), "its own: refreshed");
          assert(await index.write(TOP, "ws://b/", 10, { takeOver: true }));
          assertEquals((await field(TOP))!.split(" ")[1], "ws://b/");
        },
      );

      await t.step("a delete removes only the node's own field", async () => {
        assertEquals(await index.remove(TOP, "ws://a/"), -1, "B holds it now");
        assertEquals((await field(TOP))!.split(" ")[1], "ws://b/");
        assertEquals(await index.remove(TOP, "ws://b/"), 1);
        assertEquals(await field(TOP), null);
        assertEquals(await index.remove(TOP, "ws://b/"), 0, "already gone");
      });

      await t.step("expired fields are not listed, are pruned, and may be refreshed", async () => {
        await client.hset(key, LOW, "1000 ws://c/"); // expired long ago
        assertEquals(await index.list("room/live"), []);
        assert(await index.write(LOW, "ws://a/", 10, { takeOver: false }), "expired: missing");
        await client.hset(key, "room/live/2x2", "1000 ws://c/");
        assert(await index.write(TOP, "ws://a/", 10, { takeOver: true }));
        assertEquals(await field("room/live/2x2"), null, "pruned by the write");
        assertEquals(
          (await index.list("room/live")).map((entry) => entry.streamId).sort(),
          [LOW, TOP].sort(),
        );
        await client.del(key);
        assert(await index.write(TOP, "ws://a/", 1, { takeOver: true }));
        const gone = performance.now();
        while (await client.exists(key) === 1) {
          assert(performance.now() - gone < 3000, "the hash expires with its newest field");
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      });

      await t.step("a poisoned hash gives at most the cap, of checked entries only", async () => {
        const far = "99999999999999";
        const poison: string[] = [];
        for (let i = 0; i < 200; i++) poison.push(`room/live/${i + 1}x${i + 1}`, `${far} ws://p/`);
        poison.push("room/other/640x360", `${far} ws://p/`, "room/live/plain", `${far} ws://p/`);
        poison.push("room/live/9x9", "no expiry", "room/live/8x8", `soon ws://p/`);
        await client.hset(key, ...poison);
        const listed = await index.list("room/live");
        assertEquals(listed.length, MAX_GROUP_RENDITIONS);
        assert(
          listed.every((entry) =>
            groupOf(entry.streamId) === "room/live" && entry.url === "ws://p/"
          ),
          JSON.stringify(listed),
        );
        await client.del(key);
        await client.hset(key, "room/live/9x9", "no expiry", "room/other/1x1", `${far} ws://p/`);
        assertEquals(await index.list("room/live"), [], "nothing that parses");
        assert(await index.write(TOP, "ws://a/", 10, { takeOver: false }), "garbage is no owner");
        await client.del(key);
        await client.set(key, "a string"); // a stream id that ends in #renditions
        const wrongType = /WRONGTYPE/;
        assertMatch((await assertRejects(index.list("room/live"), Error)).message, wrongType);
        assertMatch(
          (await assertRejects(index.write(TOP, "ws://a/", 10, { takeOver: true }), Error)).message,
          wrongType,
        );
      });
    } finally {
      client.disconnect();
    }
  },
});

Deno.test({
  name: "group index: on a Redis Cluster (one key per command)",
  ignore: !await hasRedis(),
  async fn() {
    await using redis = await startRedis({
      args: ["--cluster-enabled", "yes", "--cluster-announce-ip", "127.0.0.1"],
    });
    await redis.command("CLUSTER", "ADDSLOTSRANGE", "0", "16383");
    await waitForValue(
      async () => (await redis.command("CLUSTER", "INFO"))?.includes("cluster_state:ok") ?? false,
      true,
      10000,
    );
    const client = new Cluster([{ host: "127.0.0.1", port: redis.port }], { lazyConnect: true });
    await client.connect();
    try {
      const index = new GroupIndex({ client, namespace: "t:" });
      assert(await index.write(TOP, "ws://a/", 10, { takeOver: true }));
      assert(await index.write(LOW, "ws://a/", 10, { takeOver: false }));
      assertEquals(
        (await index.list("room/live")).map((entry) => entry.streamId).sort(),
        [
          LOW,
          TOP,
        ].sort(),
      );
      assertEquals(await index.remove(TOP, "ws://b/"), -1);
      assertEquals(await index.remove(TOP, "ws://a/"), 1);
      assertEquals(await index.list("room/live"), [{ streamId: LOW, url: "ws://a/" }]);
    } finally {
      client.disconnect();
    }
  },
});
