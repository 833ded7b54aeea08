/**
 * Rendition groups with real node processes and synthetic publishers (two renditions pushed as
 * parts with shared sequence numbers, `documentation/abr.md`): the group pull (`group=1`, `abr`)
 * lists the renditions and stamps the first media of each; pinning moves a viewer at the next
 * fragment start and back to automatic; clients without `abr` and old clients see what they saw
 * before; group and rendition tokens; the group through one and two relay hops, with one
 * upstream connection per rendition in use.
 */

import { Capability, CLIENT_CAPABILITIES } from "../../shared/capabilities.ts";
import { detectCodecs } from "../../shared/mpegts/codecs.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { pullToken, type TestClient } from "../helpers/client.ts";
import { TestClient as Client } from "../helpers/client.ts";
import { publisherFor } from "../helpers/client.ts";
import { GroupViewer } from "../helpers/group_viewer.ts";
import { type MediaFragment, sameBytes, splitIntoParts, tsFragments } from "../helpers/media.ts";
import { metrics, stats, waitUntil } from "../helpers/node_metrics.ts";
import { type NodeProcess, startNode } from "../helpers/node_process.ts";

const TOP = "room/live/320x180-30~400";
const LOW = "room/live/160x90-30~150";

/** Two renditions pushed in step, a fragment (two parts) every `everyMs`, same seq on both. */
async function renditions(node: NodeProcess, everyMs = 150) {
  const [top, low] = await Promise.all([
    tsFragments({ seconds: 4, size: "320x180", videoBitrate: "400k" }),
    tsFragments({ seconds: 4, size: "160x90", videoBitrate: "150k" }),
  ]);
  const publishers = await Promise.all(
    [TOP, LOW].map((id) => publisherFor(node.wsUrl, id, { parts: true })),
  );
  let seq = 1000;
  const send = (publisher: TestClient, fragment: MediaFragment, seq: number) => {
    const parts = splitIntoParts(fragment.data, 2);
    for (const [part, data] of parts.entries()) {
      const last = part === parts.length - 1;
      publisher.send({
        type: "P",
        seq,
        part,
        independent: part === 0 || undefined,
        last: last || undefined,
        duration: last ? fragment.duration : undefined,
      });
      publisher.sendBinary(data);
    }
  };
  const timer = setInterval(() => {
    const index = seq % top.length;
    send(publishers[0], top[index], seq);
    send(publishers[1], low[index], seq);
    seq++;
  }, everyMs);
  return {
    media: { [TOP]: top, [LOW]: low } as Record<string, MediaFragment[]>,
    async [Symbol.asyncDispose]() {
      clearInterval(timer);
      for (const publisher of publishers) await publisher[Symbol.asyncDispose]();
    },
  };
}

function pullAnswer(client: TestClient): Promise<unknown> {
  return client.nextMessage(10000).then((m) => m.type === "E" ? `E ${m.code}` : m.type);
}

Deno.test("groups: group pull, stamps, pinning, other clients, tokens", async (t) => {
  await using node = await startNode();
  await using _media = await renditions(node);
  await waitUntil(
    async () => (await metrics(node)).get("hlswscdn_fragments_in_total")! > 4,
    10000,
    "media",
  );

  await t.step("a group pull lists the renditions and starts on the best, stamped", async () => {
    await using viewer = await GroupViewer.open(node.wsUrl, "room/live");
    assertEquals(viewer.ok.renditions, [TOP, LOW]);
    assert(viewer.ok.caps?.includes(Capability.ABR), "abr granted");
    await viewer.waitFor(() => true, 5000);
    const first = viewer.units[0];
    assertEquals([first.header.rendition, first.header.reason], [TOP, "start"]);
    await viewer.waitFor((unit) => unit.header.type === "P" && unit.header.part === 0, 5000, 1);
    assert(viewer.units.slice(1).every((unit) => unit.header.rendition === undefined), "one stamp");
    assert(viewer.ok.caps?.includes(Capability.CLOCK), "clock granted");
    assert(
      viewer.units.every((unit) => typeof unit.header.at === "number"),
      "the origin's at on group media (the player holds its delay on the node's clock)",
    );
  });

  await t.step(
    "PIN moves at the next fragment start, PIN without a rendition is automatic",
    async () => {
      await using viewer = await GroupViewer.open(node.wsUrl, "room/live");
      await viewer.waitFor(() => true, 5000);
      viewer.client.send({ type: "PIN", rendition: LOW });
      const low = await viewer.waitFor((unit) => unit.rendition === LOW, 5000).catch((e) => {
        throw new Error(`pin low: ${e.message}`);
      });
      const unit = viewer.units[low];
      assertEquals([unit.header.type, unit.header.reason], ["P", "pin"]);
      assert(unit.header.type === "P" && unit.header.part === 0, "at a fragment start");
      const before = viewer.units[low - 1];
      assert(
        before.header.type === "P" && before.header.last === true,
        "the fragment before whole",
      );
      assertEquals(unit.header.seq, before.header.seq! + 1, "no fragment skipped");
      const [topCodecs, lowCodecs] = await Promise.all(
        [["320x180", "400k"], ["160x90", "150k"]].map(async ([size, videoBitrate]) =>
          detectCodecs((await tsFragments({ seconds: 4, size, videoBitrate }))[0].data)!.codecs
        ),
      );
      assertEquals(
        unit.header.codecs,
        topCodecs === lowCodecs ? undefined : lowCodecs,
        "codecs when they differ",
      );
      assert(viewer.units.every((u) => !u.header.jump), "no jump");
      const pinnedLow = { group: "room/live", viewers: 1, renditions: { [LOW]: 1 }, pinned: 1 };
      let groups: unknown;
      await waitUntil(
        async () => {
          groups = (await stats(node)).groups;
          return JSON.stringify(groups) ===
            JSON.stringify([{ ...pinnedLow, reasons: { pin: 1 } }]);
        },
        5000,
        "/stats groups: one viewer, pinned low",
      ).catch((error) => {
        throw new Error(`${error.message}; they were ${JSON.stringify(groups)}`);
      });
      viewer.client.send({ type: "PIN", rendition: "room/live/1x1" }); // not in the group: ignored
      viewer.client.send({ type: "PIN", rendition: TOP });
      await viewer.waitFor((u) => u.rendition === TOP, 5000, low);
      viewer.client.send({ type: "PIN" });
      const counted = await metrics(node);
      assertEquals(counted.get('hlswscdn_abr_switches_total{direction="pin"}'), 2);
    },
  );

  await t.step(
    "one rendition by id: as before, without stamps, for new and old clients",
    async () => {
      for (const caps of [[...CLIENT_CAPABILITIES, Capability.ABR], undefined]) {
        await using client = await Client.connect(node.wsUrl);
        client.send({
          type: "PULL",
          stream: LOW,
          auth: await pullToken(LOW),
          caps,
          maxInitialFragments: 1,
        });
        assertEquals((await client.nextMessage()).type, "OK");
        const fragment = await client.nextFragment();
        assertEquals(fragment.header.rendition, undefined);
        client.send({ type: "R", bytes: 1 }); // ignored outside a group pull
        client.send({ type: "PIN", rendition: TOP });
        const next = await client.nextFragment();
        assertEquals(next.header.seq, fragment.header.seq! + 1);
        assert(
          sameBytes(
            next.data,
            (await tsFragments({ seconds: 4, size: "160x90", videoBitrate: "150k" }))[
              next.header.seq! % 4
            ].data,
          ),
          "the rendition asked for",
        );
      }
    },
  );

  await t.step("group=1 without abr, and from an old client, is a plain stream id", async () => {
    await using newClient = await Client.connect(node.wsUrl);
    newClient.send({
      type: "PULL",
      stream: "room/live",
      auth: await pullToken("room/live"),
      group: true,
      caps: [...CLIENT_CAPABILITIES],
    });
    assertEquals(await pullAnswer(newClient), "E STREAM_NOT_FOUND");
    await using old = await Client.connect(node.wsUrl);
    old.send({
      type: "PULL",
      stream: "room/live",
      auth: await pullToken("room/live"),
      group: true,
    });
    assertEquals(await pullAnswer(old), "OK");
    assertEquals((await old.nextMessage()).type, "CLOSE");
  });

  await t.step(
    "a group token admits the group and each rendition; a rendition token only it",
    async () => {
      const group = await pullToken("room/live");
      const low = await pullToken(LOW);
      await using _viewer = await GroupViewer.open(node.wsUrl, "room/live", { auth: group });
      for (
        const [stream, auth, answer] of [
          [TOP, group, "OK"],
          [LOW, group, "OK"],
          [LOW, low, "OK"],
          [TOP, low, "E AUTH_FAILED"],
          ["room/other", group, "E AUTH_FAILED"],
        ]
      ) {
        await using client = await Client.connect(node.wsUrl);
        client.send({ type: "PULL", stream, auth, caps: [...CLIENT_CAPABILITIES] });
        assertEquals(
          await pullAnswer(client),
          answer,
          `${stream} with a token for ${auth === group ? "the group" : LOW}`,
        );
      }
      await using refused = await Client.connect(node.wsUrl);
      refused.send({
        type: "PULL",
        stream: "room/live",
        auth: low,
        group: true,
        caps: [...CLIENT_CAPABILITIES, Capability.ABR],
      });
      assertEquals(await pullAnswer(refused), "E AUTH_FAILED");
      await using none = await Client.connect(node.wsUrl);
      none.send({
        type: "PULL",
        stream: "room/none",
        auth: await pullToken("room/none"),
        group: true,
        caps: [...CLIENT_CAPABILITIES, Capability.ABR],
      });
      assertEquals(await pullAnswer(none), "E STREAM_NOT_FOUND");
    },
  );
});

Deno.test("groups: through two relay hops, one upstream connection per rendition in use", async () => {
  const common = { RELAY_INACTIVITY_PERIOD_SEC: "1" };
  await using origin = await startNode({ env: { ...common, NODE_ID: "origin" } });
  await using mid = await startNode({
    env: { ...common, NODE_ID: "mid", RELAY_FROM_ENABLED: "YES", RELAY_FROM_URL: origin.wsUrl },
  });
  await using edge = await startNode({
    env: { ...common, NODE_ID: "edge", RELAY_FROM_ENABLED: "YES", RELAY_FROM_URL: mid.wsUrl },
  });
  await using _media = await renditions(origin);
  await waitUntil(
    async () => (await metrics(origin)).get("hlswscdn_fragments_in_total")! > 4,
    10000,
    "media",
  );
  const upstreams = async (node: NodeProcess) =>
    (await metrics(node)).get("hlswscdn_relay_upstream_connections");

  for (const [name, node] of [["one hop", mid], ["two hops", edge]] as const) {
    await using viewer = await GroupViewer.open(node.wsUrl, "room/live");
    assertEquals(viewer.ok.renditions, [TOP, LOW], name);
    await viewer.waitFor((unit) => unit.rendition === TOP, 5000);
    assertEquals(await upstreams(node), 1, `${name}: the top rendition only`);
    viewer.client.send({ type: "PIN", rendition: LOW });
    const low = await viewer.waitFor((unit) => unit.rendition === LOW, 10000);
    assertEquals(viewer.units[low].header.reason, "pin");
    assert(viewer.units.every((unit) => !unit.header.jump), `${name}: no jump`);
    await waitUntil(
      async () => (await upstreams(node)) === 1,
      10000,
      `${name}: the top relay closed`,
    );
  }
});
