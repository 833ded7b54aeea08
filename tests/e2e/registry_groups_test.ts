/**
 * Rendition groups through the Redis publish registry, with real processes: a private
 * `redis-server`, an origin node with both renditions published by the `publish` command, and an
 * edge that shares the registry and has no upstream. The edge lists the group from Redis, relays
 * only the renditions its viewers are on (one upstream connection each, closed after the
 * inactivity period), serves old clients that pull one rendition by id byte for byte as the
 * origin does, admits a group token for every rendition and a rendition token for that one only,
 * passes the group on to a node that relays from it without the registry, and forgets the group
 * once the publisher stops.
 */

import { Capability, CLIENT_CAPABILITIES } from "../../shared/capabilities.ts";
import { assert, assertAtMost, assertEquals } from "../helpers/assert.ts";
import { pullToken, TestClient } from "../helpers/client.ts";
import { GroupViewer } from "../helpers/group_viewer.ts";
import { hasFfmpeg, sameBytes } from "../helpers/media.ts";
import { metric, stats, waitUntil } from "../helpers/node_metrics.ts";
import { type NodeProcess, startNode } from "../helpers/node_process.ts";
import { LOW_RENDITION, publishRenditions, TOP_RENDITION } from "../helpers/publish_command.ts";
import { hasRedis, startRedis } from "../helpers/redis.ts";
import { waitForValue } from "../helpers/wait.ts";

const TOP = TOP_RENDITION;
const LOW = LOW_RENDITION;
const NAMESPACE = "rg:";
const GROUP_KEY = `${NAMESPACE}room/live#renditions`;

/** The relays a node's `source` started, by stream id: their viewers and upstream connections. */
async function relays(
  node: NodeProcess,
  source: string,
): Promise<Record<string, [number, number]>> {
  const found: Record<string, [number, number]> = {};
  for (const stream of (await stats(node)).streams) {
    if (stream.origin === source) {
      found[stream.id] = [stream.spectators, stream.upstreamConnections];
    }
  }
  return found;
}

/**
 * Waits until the relays a node's `source` (the registry unless given) started are exactly
 * `expected` (id → [viewers, upstream connections]).
 */
async function relaysAre(
  node: NodeProcess,
  expected: Record<string, [number, number]>,
  timeoutMs: number,
  what: string,
  source = "registry",
): Promise<void> {
  let last = {};
  await waitUntil(
    async () => {
      last = await relays(node, source);
      return JSON.stringify(last) === JSON.stringify(expected);
    },
    timeoutMs,
    what,
  ).catch((error) => {
    throw new Error(`${error.message}; last ${JSON.stringify(last)}`);
  });
}

/** The first answer to a `PULL` (`OK`, or `E <code>`). */
async function answer(url: string, message: Record<string, unknown>): Promise<string> {
  await using client = await TestClient.connect(url);
  client.send({ type: "PULL", ...message } as never);
  const reply = await client.nextMessage(10000);
  return reply.type === "E" ? `E ${reply.code}` : reply.type;
}

Deno.test({
  name: "registry groups: an edge finds a group in Redis and relays only the renditions in use",
  ignore: !await hasRedis() || !await hasFfmpeg(),
  async fn(t) {
    await using redis = await startRedis();
    const env = {
      PUB_REG_REDIS_ENABLED: "YES",
      PUB_REG_REDIS_PORT: String(redis.port),
      PUB_REG_NAMESPACE: NAMESPACE,
      PUB_REG_REFRESH_INTERVAL_SECONDS: "2",
      RELAY_INACTIVITY_PERIOD_SEC: "1",
    };
    const [origin, edge] = await Promise.all(
      ["origin", "edge"].map((id) => startNode({ env: { ...env, NODE_ID: id } })),
    );
    await using _origin = origin;
    await using _edge = edge;
    const publisher = publishRenditions(origin.wsUrl);
    try {
      await waitForValue(() => redis.command("HLEN", GROUP_KEY), "2", 30000);
      // Both renditions have media on the origin before the edge is asked.
      await waitUntil(
        async () => (await metric(origin, "hlswscdn_fragments_in_total")) >= 4,
        30000,
        "media of both renditions on the origin",
      );

      await t.step("a group pull on the edge lists the group and starts on the top", async () => {
        // The same pull on the origin first: the baseline of the edge's times, same run.
        const timed = async (node: NodeProcess) => {
          const start = performance.now();
          const viewer = await GroupViewer.open(node.wsUrl, "room/live");
          const ok = performance.now() - start;
          await viewer.waitFor(() => true, 10000);
          return { viewer, ok, media: viewer.units[0].at - start };
        };
        const base = await timed(origin);
        await base.viewer[Symbol.asyncDispose]();
        const cold = await timed(edge);
        await using viewer = cold.viewer;
        console.log(
          `group pull, OK / first media: origin ${base.ok.toFixed(0)} / ${
            base.media.toFixed(0)
          } ms, edge through the registry ${cold.ok.toFixed(0)} / ${cold.media.toFixed(0)} ms`,
        );
        assertAtMost(cold.ok, 3000, "ms to OK on the edge");
        assertEquals(viewer.ok.renditions, [TOP, LOW]);
        assert(viewer.ok.caps?.includes(Capability.ABR), "abr granted");
        const first = viewer.units[0];
        assertEquals([first.rendition, first.header.reason], [TOP, "start"]);
        // Pinned, so that a busy machine's lag cannot move it while the relays are counted.
        viewer.client.send({ type: "PIN", rendition: TOP });
        const at = viewer.units.length;
        await viewer.waitFor((unit) => unit.rendition === TOP && unit.size > 0, 10000, at);
        await relaysAre(edge, { [TOP]: [1, 1] }, 5000, "one relay: the top rendition");
        assertEquals(await metric(edge, "hlswscdn_relay_upstream_connections"), 1);
        assertEquals(await redis.command("GET", NAMESPACE + TOP), origin.wsUrl);
      });
      await relaysAre(edge, {}, 5000, "the relay closed after the inactivity period");

      await t.step("a lower rendition opens its relay, the unused one closes", async () => {
        await using viewer = await GroupViewer.open(edge.wsUrl, "room/live");
        await viewer.waitFor((unit) => unit.rendition === TOP, 10000);
        viewer.client.send({ type: "PIN", rendition: LOW });
        const low = await viewer.waitFor((unit) => unit.rendition === LOW, 10000);
        assertEquals(viewer.units[low].header.reason, "pin");
        assert(viewer.units.every((unit) => !unit.header.jump), "no jump");
        await relaysAre(edge, { [LOW]: [1, 1] }, 5000, "only the low relay left");
        await using second = await GroupViewer.open(edge.wsUrl, "room/live");
        second.client.send({ type: "PIN", rendition: LOW });
        await second.waitFor((unit) => unit.rendition === LOW, 10000);
        await relaysAre(edge, { [LOW]: [2, 1] }, 5000, "two viewers of low, one upstream");
        assertEquals(await metric(edge, "hlswscdn_relay_upstream_connections"), 1);
      });
      await relaysAre(edge, {}, 5000, "every relay closed after the inactivity period");

      await t.step("an old client pulling one rendition gets the origin's bytes", async () => {
        const pull = async (node: NodeProcess) => {
          const client = await TestClient.connect(node.wsUrl);
          client.send({
            type: "PULL",
            stream: LOW,
            auth: await pullToken(LOW),
            maxInitialFragments: 0,
          });
          assertEquals((await client.nextMessage(10000)).type, "OK");
          return client;
        };
        await using onEdge = await pull(edge);
        await using onOrigin = await pull(origin);
        const fromOrigin = new Map<number, Uint8Array>();
        for (let i = 0; i < 4; i++) {
          const fragment = await onOrigin.nextFragment(10000);
          fromOrigin.set(fragment.header.seq!, fragment.data);
        }
        let compared = 0;
        let previous: number | undefined;
        for (let i = 0; i < 3; i++) {
          const fragment = await onEdge.nextFragment(10000);
          assertEquals(fragment.header.type, "F", "whole fragments, as before");
          assertEquals(fragment.header.rendition, undefined, "no stamp");
          if (previous !== undefined) assertEquals(fragment.header.seq, previous + 1);
          previous = fragment.header.seq!;
          const same = fromOrigin.get(fragment.header.seq!);
          if (same !== undefined) {
            assert(sameBytes(fragment.data, same), `fragment ${fragment.header.seq} byte-exact`);
            compared++;
          }
        }
        assert(compared >= 2, `${compared} fragments compared`);
      });

      await t.step("a group token admits every rendition, a rendition token only it", async () => {
        const group = await pullToken("room/live");
        const low = await pullToken(LOW);
        const caps = [...CLIENT_CAPABILITIES, Capability.ABR];
        const cases: [string, Record<string, unknown>, string][] = [
          ["top by a group token", { stream: TOP, auth: group }, "OK"],
          ["low by a group token", { stream: LOW, auth: group }, "OK"],
          ["low by its token", { stream: LOW, auth: low }, "OK"],
          ["top by the low token", { stream: TOP, auth: low }, "E AUTH_FAILED"],
          [
            "group by the low token",
            { stream: "room/live", auth: low, group: true, caps },
            "E AUTH_FAILED",
          ],
          ["group by a group token", { stream: "room/live", auth: group, group: true, caps }, "OK"],
          ["another group", {
            stream: "room/none",
            auth: await pullToken("room/none"),
            group: true,
            caps,
          }, "E STREAM_NOT_FOUND"],
        ];
        for (const [what, message, expected] of cases) {
          assertEquals(await answer(edge.wsUrl, message), expected, what);
        }
      });

      await relaysAre(edge, {}, 5000, "the relays of the token checks closed");

      await t.step(
        "a node without the registry relays the group from the registry edge",
        async () => {
          await using far = await startNode({
            env: {
              NODE_ID: "far",
              RELAY_FROM_ENABLED: "YES",
              RELAY_FROM_URL: edge.wsUrl,
              RELAY_INACTIVITY_PERIOD_SEC: "1",
            },
          });
          await using viewer = await GroupViewer.open(far.wsUrl, "room/live");
          assertEquals(viewer.ok.renditions, [TOP, LOW]);
          viewer.client.send({ type: "PIN", rendition: TOP });
          await viewer.waitFor((unit) => unit.rendition === TOP && unit.size > 0, 10000);
          await relaysAre(far, { [TOP]: [1, 1] }, 5000, "far: one relay, from the edge", "relay");
          await relaysAre(edge, { [TOP]: [1, 1] }, 5000, "edge: one relay, serving far's");
        },
      );

      await t.step(
        "after the publisher stops the group is gone from Redis and the edge",
        async () => {
          await publisher.stop();
          const took = await waitForValue(() => redis.command("EXISTS", GROUP_KEY), "0", 10000);
          assert(took < 10000, `${took} ms`);
          assertEquals(await redis.command("GET", NAMESPACE + TOP), null);
          const caps = [...CLIENT_CAPABILITIES, Capability.ABR];
          assertEquals(
            await answer(edge.wsUrl, {
              stream: "room/live",
              auth: await pullToken("room/live"),
              group: true,
              caps,
            }),
            "E STREAM_NOT_FOUND",
          );
        },
      );
    } finally {
      await publisher.stop();
    }
  },
});
