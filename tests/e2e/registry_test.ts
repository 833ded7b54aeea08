/**
 * Many nodes as one CDN through the Redis publish registry, with real node processes and a private
 * `redis-server`: publish on A and pull on B byte-exact, one upstream connection for 100 spectators,
 * entries deleted when streams end and when a node stops (only when they still point to the node),
 * stale entries, `only_source`, a publisher that moves to another node during its grace (followed
 * by the relays without their spectators noticing), and Redis killed and restarted mid-stream. Runs on every transport. A last test runs the registry on a Redis Cluster
 * and through Redis Sentinel.
 */

import { metric, stats, streamStats } from "../helpers/node_metrics.ts";
import { assert, assertAtMost, assertEquals } from "../helpers/assert.ts";
import { expectFragments, expectRefusal, publisherFor, spectatorFor } from "../helpers/client.ts";
import { sameBytes, tsFragments } from "../helpers/media.ts";
import {
  freePort,
  startNode,
  TEST_OPERATOR_TOKEN,
  testTransports,
} from "../helpers/node_process.ts";
import { hasRedis, startRedis } from "../helpers/redis.ts";
import { waitForValue } from "../helpers/wait.ts";

const redisInstalled = await hasRedis();
/** Opens `/stats` with the upstream URLs of relayed streams. */
const OPERATOR_TOKEN = TEST_OPERATOR_TOKEN;

for (const transport of testTransports()) {
  Deno.test({
    name: `[${transport}] publish registry: many nodes as one CDN`,
    ignore: !redisInstalled,
    async fn(t) {
      await using redis = await startRedis();
      const namespace = `test-${transport}:`;
      const env = {
        PUB_REG_REDIS_ENABLED: "YES",
        PUB_REG_REDIS_PORT: String(redis.port),
        PUB_REG_NAMESPACE: namespace,
        PUB_REG_REFRESH_INTERVAL_SECONDS: "2",
        RELAY_INACTIVITY_PERIOD_SEC: "1",
        FRAGMENT_BUFFER_MAX_LENGTH: "3",
        OPERATOR_TOKEN,
        STATS_PUBLIC: "YES",
      };
      const [a, b, c] = await Promise.all(
        ["A", "B", "C"].map((id) => startNode({ transport, env: { ...env, NODE_ID: id } })),
      );
      await using _a = a;
      await using _b = b;
      await using _c = c;
      const entry = (stream: string) => redis.command("GET", namespace + stream);
      const media = await tsFragments({ seconds: 6, fragmentSeconds: 1 });

      await t.step("publish on A, pull on B through the registry, byte-exact", async () => {
        await using publisher = await publisherFor(a.wsUrl, "exact");
        for (const fragment of media.slice(0, 4)) {
          publisher.sendFragment(fragment.duration, fragment.data);
        }
        await waitForValue(() => entry("exact"), a.wsUrl, 3000);
        await using all = await spectatorFor(b.wsUrl, "exact");
        await using newest = await spectatorFor(b.wsUrl, "exact", { maxInitialFragments: 1 });
        // The ring of A holds 3: B's first spectators get what A's would.
        for (const seq of [1, 2, 3]) {
          const received = await all.nextFragment();
          assertEquals(received.header.seq, seq);
          assert(sameBytes(received.data, media[seq].data), `fragment ${seq} byte-exact`);
        }
        assertEquals((await newest.nextFragment()).header.seq, 3);
        for (const [seq, fragment] of media.entries()) {
          if (seq < 4) continue;
          publisher.sendFragment(fragment.duration, fragment.data);
          for (const spectator of [all, newest]) {
            const received = await spectator.nextFragment();
            assertEquals(received.header.seq, seq);
            assertEquals(received.header.duration, fragment.duration);
            assert(sameBytes(received.data, fragment.data), `live fragment ${seq} byte-exact`);
          }
        }
        const relayed = await streamStats(b, "exact", null);
        assertEquals(relayed?.origin, "registry");
        assertEquals(
          (await streamStats(b, "exact", OPERATOR_TOKEN))?.upstream,
          a.wsUrl,
          "the operator sees the upstream",
        );
        assertEquals(relayed?.upstream, undefined, "nobody else does");

        publisher.send({ type: "CLOSE" });
        assertEquals(await all.nextMessage(), { type: "CLOSE" });
        assertEquals(await newest.nextMessage(), { type: "CLOSE" });
        const took = await waitForValue(() => entry("exact"), null, 3000);
        assertAtMost(took, 2000, "ms until the entry of an ended stream is deleted");
      });

      await t.step("100 spectators on B share one upstream connection", async () => {
        await using publisher = await publisherFor(a.wsUrl, "crowd");
        await waitForValue(() => entry("crowd"), a.wsUrl, 3000);
        const spectators = await Promise.all(
          Array.from({ length: 100 }, () => spectatorFor(b.wsUrl, "crowd")),
        );
        try {
          for (const fragment of media.slice(0, 3)) {
            publisher.sendFragment(fragment.duration, fragment.data);
          }
          await Promise.all(
            spectators.map((spectator) => expectFragments(spectator, media.slice(0, 3))),
          );
          assertEquals((await streamStats(a, "crowd"))?.spectators, 1, "A serves B once");
          const onB = await streamStats(b, "crowd");
          assertEquals(onB?.spectators, 100);
          assertEquals(onB?.upstreamConnections, 1);
        } finally {
          for (const spectator of spectators) spectator.close();
        }
        // RELAY_INACTIVITY_PERIOD_SEC=1: B lets go of A soon after its last spectator left.
        await waitForValue(async () => (await streamStats(a, "crowd"))?.spectators, 0, 5000);
        assertEquals(await streamStats(b, "crowd"), undefined);
      });

      await t.step("only_source=true never leaves the node", async () => {
        await using _publisher = await publisherFor(a.wsUrl, "solo");
        await waitForValue(() => entry("solo"), a.wsUrl, 3000);
        await expectRefusal(b.wsUrl, "solo", "STREAM_NOT_FOUND", { onlySource: true }, 15000);
        assertEquals((await streamStats(a, "solo"))?.spectators, 0, "A saw no pull");
        assertEquals(await streamStats(b, "solo"), undefined);
      });

      await t.step("an entry that points to the asking node is ignored", async () => {
        await redis.command("SET", namespace + "ghost", b.wsUrl, "EX", "60");
        const took = await expectRefusal(b.wsUrl, "ghost", "STREAM_NOT_FOUND", {}, 15000);
        assertAtMost(took, 3000, "ms to refuse");
        assertEquals((await stats(b)).streams, []);
      });

      await t.step(
        "a publisher that moves to another node during its grace is followed without a loss",
        async () => {
          const graces = (event: string) =>
            metric(a, `hlswscdn_publisher_graces_total{event="${event}"}`);
          const [entered, moves] = await Promise.all(["entered", "moved"].map(graces));
          const first = await publisherFor(a.wsUrl, "moving");
          await waitForValue(() => entry("moving"), a.wsUrl, 3000);
          await using early = await spectatorFor(b.wsUrl, "moving");
          await using old = await spectatorFor(b.wsUrl, "moving", { old: true });
          await using onA = await spectatorFor(a.wsUrl, "moving");
          first.sendFragment(media[0].duration, media[0].data, { seq: 10 });
          for (const spectator of [early, old, onA]) {
            assertEquals((await spectator.nextFragment()).header.seq, 10);
          }
          // The encoder loses A and reconnects to C, within A's grace.
          first.close();
          await waitForValue(() => graces("entered"), entered + 1, 3000);
          await using moved = await publisherFor(c.wsUrl, "moving");
          await waitForValue(() => entry("moving"), c.wsUrl, 3000);
          // A sees C's entry and lets go at once (before its 5 s grace runs out): B's relay and A's
          // own new spectator pull the stream again, now from C.
          const took = await waitForValue(() => graces("moved"), moves + 1, 3000);
          assertAtMost(took, 2000, "ms for A to see the move");
          const told = await onA.nextMessage();
          assertEquals(told.type === "E" && told.code, "STREAM_MOVED", "a new client on A is told");
          await waitForValue(async () => (await streamStats(b, "moving"))?.upstream, c.wsUrl, 5000);
          moved.sendFragment(media[1].duration, media[1].data, { seq: 11 });
          for (const spectator of [early, old]) {
            const next = await spectator.nextFragment();
            assertEquals(next.header.seq, 11, "B's spectators stay and get what follows");
            assertEquals(next.header.discontinuity, true, "marked: another encoder connection");
            assert(sameBytes(next.data, media[1].data));
          }
          assertEquals(early.closed, undefined);
          assertEquals(old.closed, undefined);
          assertEquals(await entry("moving"), c.wsUrl, "A left C's entry alone");
          await using late = await spectatorFor(b.wsUrl, "moving", { maxInitialFragments: 1 });
          assertEquals((await late.nextFragment()).header.seq, 11);
        },
      );

      await t.step(
        "the entry stays through a publisher's grace and goes when it runs out",
        async () => {
          const publisher = await publisherFor(a.wsUrl, "graced");
          await waitForValue(() => entry("graced"), a.wsUrl, 3000);
          await using fresh = await spectatorFor(b.wsUrl, "graced");
          await using old = await spectatorFor(b.wsUrl, "graced", { old: true });
          publisher.sendFragment(media[0].duration, media[0].data);
          await fresh.nextFragment();
          await old.nextFragment();
          const dropped = performance.now();
          publisher.close();
          // The grace (5 s) outlasts the entry's time to live (4 s): only refreshes keep it.
          const seen: (string | null)[] = [];
          while (performance.now() - dropped < 4700) {
            seen.push(await entry("graced"));
            await new Promise((resolve) => setTimeout(resolve, 200));
          }
          const told = await fresh.nextMessage(4000);
          assertEquals(
            told.type === "E" && told.code,
            "PUBLISHER_LOST",
            "B's new client, after it",
          );
          assert(performance.now() - dropped >= 4900, "not before the grace ran out");
          assertEquals(await old.nextMessage(), { type: "CLOSE" }, "B's old client");
          assert(seen.length > 15 && seen.every((value) => value === a.wsUrl), `entry: ${seen}`);
          await waitForValue(() => entry("graced"), null, 2000);
        },
      );

      await t.step("Redis killed and restarted mid-stream", async () => {
        await using publisher = await publisherFor(a.wsUrl, "outage");
        await waitForValue(() => entry("outage"), a.wsUrl, 3000);
        await using relayed = await spectatorFor(b.wsUrl, "outage");
        await using local = await spectatorFor(a.wsUrl, "outage");
        await redis.kill();

        // Streams and relays keep going.
        for (const [seq, fragment] of media.slice(0, 3).entries()) {
          publisher.sendFragment(fragment.duration, fragment.data);
          for (const spectator of [relayed, local]) {
            const received = await spectator.nextFragment();
            assertEquals(received.header.seq, seq);
            assert(sameBytes(received.data, fragment.data));
          }
        }
        // A stream B already relays is served without a lookup.
        await using joined = await spectatorFor(b.wsUrl, "outage", { maxInitialFragments: 1 });
        assertEquals((await joined.nextFragment()).header.seq, 2);
        // Lookups fail fast and fall through; a stream published now is registered later.
        await using during = await publisherFor(c.wsUrl, "during");
        during.sendFragment(media[0].duration, media[0].data);
        const took = await expectRefusal(b.wsUrl, "during", "STREAM_NOT_FOUND", {}, 15000);
        assertAtMost(took, 3000, "ms to refuse while Redis is down");

        await redis.restart();
        await waitForValue(() => entry("outage"), a.wsUrl, 8000);
        await waitForValue(() => entry("during"), c.wsUrl, 8000);
        await using after = await spectatorFor(b.wsUrl, "during");
        const received = await after.nextFragment();
        assert(sameBytes(received.data, media[0].data), "found through the registry again");
        // The metrics tell the outage.
        assert(
          await metric(b, 'hlswscdn_registry_errors_total{operation="lookup"}') >= 1,
          "lookup errors on B",
        );
        assert(
          await metric(c, "hlswscdn_registry_reconnects_total") >= 1,
          "C reconnected to Redis",
        );
        assertEquals(await metric(c, "hlswscdn_registry_connected"), 1);
      });

      await t.step("entries are deleted when a node stops (SIGTERM)", async () => {
        await using publisher = await publisherFor(c.wsUrl, "stopping");
        await waitForValue(() => entry("stopping"), c.wsUrl, 3000);
        await redis.command("SET", namespace + "not-c", a.wsUrl);
        const status = await c.stop("SIGTERM");
        assertEquals(status.code, 0);
        assertEquals(await entry("stopping"), null);
        assertEquals(await entry("during"), null);
        assertEquals(await entry("not-c"), a.wsUrl, "another node's entry stays");
        const answer = await publisher.nextMessage();
        assertEquals(answer.type === "E" && answer.code, "SHUTTING_DOWN");
      });
    },
  });
}

Deno.test({
  name: "publish registry on a Redis Cluster, over TLS with a password, through Redis Sentinel",
  ignore: !redisInstalled,
  async fn(t) {
    const media = await tsFragments({ seconds: 2, fragmentSeconds: 1 });

    /** Publishes on one node and pulls on the other, through the given registry settings. */
    async function roundTrip(env: Record<string, string>, check: (key: string) => Promise<void>) {
      const [a, b] = await Promise.all(
        ["A", "B"].map((id) =>
          startNode({ env: { ...env, PUB_REG_REDIS_ENABLED: "YES", NODE_ID: id } })
        ),
      );
      await using _a = a;
      await using _b = b;
      await using publisher = await publisherFor(a.wsUrl, "room/x");
      publisher.sendFragment(media[0].duration, media[0].data);
      await check("hls-ws-cdn:stream:room/x");
      await using spectator = await spectatorFor(b.wsUrl, "room/x");
      assert(sameBytes((await spectator.nextFragment()).data, media[0].data));
      assertEquals((await streamStats(b, "room/x"))?.origin, "registry");
    }

    await t.step("cluster", async () => {
      await using redis = await startRedis({
        args: ["--cluster-enabled", "yes", "--cluster-announce-ip", "127.0.0.1"],
      });
      await redis.command("CLUSTER", "ADDSLOTSRANGE", "0", "16383");
      await waitForValue(
        async () => {
          const info = await redis.command("CLUSTER", "INFO");
          return info?.includes("cluster_state:ok") ?? false;
        },
        true,
        10000,
      );
      await roundTrip(
        { PUB_REG_REDIS_MODE: "cluster", PUB_REG_REDIS_NODES: `127.0.0.1:${redis.port}` },
        async (key) => {
          await waitForValue(
            async () => (await redis.command("GET", key))?.startsWith("ws://"),
            true,
            5000,
          );
        },
      );
    });

    await t.step("TLS with a private CA and a password", async () => {
      const dir = await Deno.makeTempDir({ prefix: "hlswscdn-tls-" });
      try {
        const openssl = await new Deno.Command("openssl", {
          args: [
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=redis",
          ]
            .concat(["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", `${dir}/key.pem`])
            .concat(["-out", `${dir}/cert.pem`]),
          stdout: "null",
          stderr: "null",
        }).output();
        assert(openssl.success, "openssl made a certificate");
        const tlsPort = freePort();
        await using redis = await startRedis({
          password: "s3cret",
          args: ["--tls-port", String(tlsPort), "--tls-auth-clients", "no"]
            .concat(["--tls-cert-file", `${dir}/cert.pem`, "--tls-key-file", `${dir}/key.pem`]),
        });
        await roundTrip({
          PUB_REG_REDIS_PORT: String(tlsPort),
          PUB_REG_REDIS_USE_TLS: "YES",
          PUB_REG_REDIS_TLS_CA_FILE: `${dir}/cert.pem`,
          PUB_REG_REDIS_PASSWORD: "s3cret",
        }, async (key) => {
          await waitForValue(
            async () => (await redis.command("GET", key))?.startsWith("ws://"),
            true,
            5000,
          );
        });
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });

    await t.step("sentinel", async () => {
      await using master = await startRedis();
      await using sentinel = await startRedis({
        args: ["--sentinel"],
        config: `sentinel monitor cdn 127.0.0.1 ${master.port} 1\n`,
      });
      await roundTrip(
        {
          PUB_REG_REDIS_MODE: "sentinel",
          PUB_REG_REDIS_NODES: `127.0.0.1:${sentinel.port}`,
          PUB_REG_REDIS_SENTINEL_NAME: "cdn",
        },
        async (key) => {
          await waitForValue(
            async () => (await master.command("GET", key))?.startsWith("ws://"),
            true,
            5000,
          );
        },
      );
    });
  },
});
