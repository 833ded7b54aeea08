/**
 * What the rest of a fleet can do to a node (issue 13): a poisoned Redis entry (another host, an
 * `http://` URL, credentials in the URL), an upstream that floods parts or sends error texts with
 * control characters, and a spectator whose `via` names fake nodes. Each is refused or bounded, and
 * no URL reaches anyone without the operator token. Real Redis, real nodes, and fake "upstreams"
 * on 127.0.0.1 that record whether they were contacted.
 */

import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { expectFragments, publisherFor, pullToken, TestClient } from "../helpers/client.ts";
import { FakeUpstream } from "../helpers/fake_upstream.ts";
import { tsFragments } from "../helpers/media.ts";
import { metrics, stats, waitUntil } from "../helpers/node_metrics.ts";
import { freePort, startNode } from "../helpers/node_process.ts";
import { hasRedis, startRedis } from "../helpers/redis.ts";

const redisInstalled = await hasRedis();
const OPERATOR_TOKEN = "operator-token-0123456789abcdef";

/** The first non-heartbeat answer: `OK`, or `E <code>: <message>`. */
async function answer(client: TestClient, timeoutMs = 10000): Promise<string> {
  const message = await client.nextMessage(timeoutMs);
  if (message.type === "OK") return "OK";
  assert(message.type === "E", `expected OK or E, got ${JSON.stringify(message)}`);
  return `${message.code}: ${message.message}`;
}

async function pull(url: string, stream: string, extra = ""): Promise<TestClient> {
  const client = await TestClient.connect(url);
  client.send(
    `PULL:stream=${encodeURIComponent(stream)}&auth=${await pullToken(stream)}&caps=errors${extra}`,
  );
  return client;
}

Deno.test({
  name: "a poisoned registry entry is refused and the lookup falls through",
  ignore: !redisInstalled,
  async fn(t) {
    await using redis = await startRedis();
    await using fake = await FakeUpstream.start((_pull, peer) => {
      peer.send("OK");
      peer.send("F:duration=1&seq=0");
      peer.send(new Uint8Array(188).fill(0x47));
    });
    const media = await tsFragments();
    const registry = { PUB_REG_REDIS_ENABLED: "YES", PUB_REG_REDIS_PORT: String(redis.port) };
    await using origin = await startNode({ env: { ...registry, PUB_REG_NAMESPACE: "other:" } });
    const trustingPort = freePort();
    await using guarded = await startNode({
      env: {
        ...registry,
        PUB_REG_ALLOWED_HOSTS: `127.0.0.1:${trustingPort}, 10.0.0.0/8, node-1.cdn.example`,
        RELAY_FROM_ENABLED: "YES",
        RELAY_FROM_URL: origin.wsUrl,
        STATS_PUBLIC: "YES",
        OPERATOR_TOKEN,
        LOG_INFO: "YES",
      },
    });
    await using trusting = await startNode({
      port: trustingPort,
      env: { ...registry, LOG_INFO: "YES" },
    });
    const set = (stream: string, url: string) =>
      redis.command("SET", `hls-ws-cdn:stream:${stream}`, url);

    // Published on the origin (under another namespace) for the whole test.
    await using publisher = await publisherFor(origin.wsUrl, "poison");
    publisher.sendFragment(media[0].duration, media[0].data);

    await t.step("a node without PUB_REG_ALLOWED_HOSTS says it trusts every entry", () => {
      assertMatch(trusting.output, /PUB_REG_ALLOWED_HOSTS.*trusts every registry entry/);
      assert(!guarded.output.includes("trusts every registry entry"), guarded.output);
    });

    await t.step(
      "an entry for a host outside the list is refused, logged, and skipped",
      async () => {
        await set("poison", `${fake.origin}/some/path?q=1`);
        await using spectator = await pull(guarded.wsUrl, "poison");
        assertEquals(await answer(spectator), "OK", "served from the next source (the relay)");
        await expectFragments(spectator, media.slice(0, 1));
        assertEquals(fake.peers.length, 0, "the poisoned host was never contacted");
        assertMatch(
          guarded.output,
          /refused the registry entry of "poison".*PUB_REG_ALLOWED_HOSTS/,
        );
      },
    );

    await t.step("/stats shows no URL without the operator token", async () => {
      await using _spectator = await pull(guarded.wsUrl, "poison");
      const open = await stats(guarded);
      const relayed = open.streams.find((stream: { id: string }) => stream.id === "poison");
      assert(relayed !== undefined, JSON.stringify(open.streams));
      assert(!JSON.stringify(open).includes("ws://"), JSON.stringify(open));
      const full = await stats(guarded, OPERATOR_TOKEN);
      assert(JSON.stringify(full).includes(origin.wsUrl), "the operator sees the upstream");
    });

    await t.step("without the list, an entry is followed as before", async () => {
      await set("elsewhere", `${fake.origin}/some/path?q=1`);
      await using spectator = await pull(trusting.wsUrl, "elsewhere");
      assertEquals(await answer(spectator), "OK");
      assertEquals(fake.peers.length, 1, "contacted");
      assertEquals(fake.peers[0].path, "/some/path?q=1");
    });

    await t.step("never an http:// URL, never credentials from a URL", async () => {
      const before = fake.peers.length;
      for (
        const [stream, url] of [
          ["plain-http", `http://127.0.0.1:${fake.port}/`],
          ["with-credentials", `ws://user:secret-pw@127.0.0.1:${fake.port}/`],
        ]
      ) {
        await set(stream, url);
        await using spectator = await pull(trusting.wsUrl, stream);
        assertMatch(await answer(spectator), /^STREAM_NOT_FOUND/);
      }
      assertEquals(fake.peers.length, before, "neither was contacted");
      assert(!trusting.output.includes("secret-pw"), "the password is never logged");
      assertMatch(trusting.output, /refused the registry entry of "with-credentials"/);
    });
  },
});

Deno.test("relayed parts get the same size and memory limits as a publisher's", async (t) => {
  const PART = 100_000;
  const flood =
    (count: number) => async (_pull: unknown, peer: { send(data: string | Uint8Array): void }) => {
      peer.send("OK:parts=1");
      for (let part = 0; part < count; part++) {
        peer.send(`P:seq=0&part=${part}${part === 0 ? "&independent=1" : ""}`);
        peer.send(new Uint8Array(PART).fill(0x47));
        if (part % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };

  await t.step("the buffer memory limit holds against an upstream's parts", async () => {
    await using upstream = await FakeUpstream.start(flood(200));
    await using node = await startNode({
      env: {
        RELAY_FROM_ENABLED: "YES",
        RELAY_FROM_URL: `${upstream.origin}/`,
        BUFFER_MEMORY_LIMITER_ENABLED: "YES",
        BUFFER_MEMORY_LIMIT_MB: "8",
      },
    });
    await using spectator = await pull(node.wsUrl, "flood", "&parts=1");
    assertEquals(await answer(spectator), "OK");
    let code = "";
    for (;;) {
      const message = await spectator.nextMessage(10000);
      if (message.type === "E") {
        code = message.code;
        break;
      }
      if (message.type === "P") await spectator.next(10000);
    }
    assertEquals(code, "BUFFER_MEMORY_LIMIT");
    await upstream.peers[0].closed;
    assertEquals((await stats(node)).bufferBytes, 0);
    assertEquals((await metrics(node)).get("hlswscdn_buffer_bytes"), 0);
  });

  await t.step("and so does MAX_BINARY_MESSAGE_SIZE for the parts of one fragment", async () => {
    await using upstream = await FakeUpstream.start(flood(20));
    await using node = await startNode({
      env: {
        RELAY_FROM_ENABLED: "YES",
        RELAY_FROM_URL: `${upstream.origin}/`,
        MAX_BINARY_MESSAGE_SIZE: "1000000",
      },
    });
    await using spectator = await pull(node.wsUrl, "big", "&parts=1");
    assertEquals(await answer(spectator), "OK");
    let last = "";
    for (;;) {
      const message = await spectator.nextMessage(10000);
      if (message.type === "E") {
        last = `${message.code}: ${message.message}`;
        break;
      }
      if (message.type === "P") await spectator.next(10000);
    }
    assertMatch(last, /^UPSTREAM_ERROR: .*more than 1000000 bytes/);
    await upstream.peers[0].closed;
    assertEquals((await stats(node)).bufferBytes, 0);
  });
});

Deno.test("an upstream's error texts and a spectator's via cannot poison a relay", async (t) => {
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => release = resolve);
  await using upstream = await FakeUpstream.start(async (pull, peer) => {
    const via = pull.via ?? [];
    if (pull.stream === "weird") {
      peer.send(
        `E:code=${encodeURIComponent("WEIRD\n[ERROR] X")}&message=${
          encodeURIComponent("bad\n2026-01-01T00:00:00.000Z [ERROR] FORGED\u001b[31m")
        }`,
      );
      return;
    }
    if (via.includes("origin")) await held;
    if (via.includes("origin") || via.length >= 8) {
      peer.send("E:code=LOOP_DETECTED&message=loop");
      return;
    }
    peer.send("OK");
    peer.send("F:duration=1&seq=0");
    peer.send(new Uint8Array(188).fill(0x47));
  });
  await using edge = await startNode({
    env: {
      NODE_ID: "edge",
      RELAY_FROM_ENABLED: "YES",
      RELAY_FROM_URL: `${upstream.origin}/`,
      LOG_DEBUG: "YES",
      LOG_INFO: "YES",
    },
  });

  await t.step("a spectator's fake via fails only its own pull", async () => {
    await using attacker = await pull(edge.wsUrl, "shared", "&via=origin");
    await upstream.waitForPulls(1);
    await using player = await pull(edge.wsUrl, "shared");
    await waitUntil(
      () => /joins the relay of "shared"/.test(edge.output),
      5000,
      "the player joined",
    );
    release();
    assertMatch(await answer(attacker), /^LOOP_DETECTED/);
    assertEquals(await answer(player), "OK", "the player gets the stream");
    assertEquals(upstream.pulls.at(-1)?.via, ["edge"], "the relay's own path");
  });

  await t.step("a via too long to relay is refused here, and ids are checked", async () => {
    const before = upstream.pulls.length;
    const fake = Array.from({ length: 7 }, (_, index) => `fake-${index}`).join(",");
    await using long = await pull(edge.wsUrl, "long", `&via=${fake}`);
    assertMatch(await answer(long), /^LOOP_DETECTED/);
    assertEquals(upstream.pulls.length, before, "no relay was started for it");
    await using player = await pull(edge.wsUrl, "long");
    assertEquals(await answer(player), "OK");
    await using bad = await pull(edge.wsUrl, "long", "&via=a%20b");
    assertMatch(await answer(bad), /^INVALID_MESSAGE/);
  });

  await t.step(
    "an upstream's E reaches logs and metrics escaped, and no URL reaches spectators",
    async () => {
      await using spectator = await pull(edge.wsUrl, "weird");
      const refused = await answer(spectator);
      assertMatch(refused, /^UPSTREAM_ERROR/);
      assert(!refused.includes(String(upstream.port)), `no upstream URL: ${refused}`);
      await waitUntil(() => edge.output.includes("WEIRD"), 3000, "logged");
      for (const line of edge.output.split("\n")) {
        if (line === "") continue;
        assertMatch(line, /^\d{4}-\d\d-\d\dT[\d:.]+Z \[[A-Z]+\] /);
        assert(!line.includes("\u001b"), line);
      }
      const text = await (await fetch(`${edge.httpUrl}/metrics`)).text();
      assert(!text.includes("WEIRD"), "an unknown code is not a label value");
      assertMatch(text, /hlswscdn_relay_errors_total\{reason="other"\} 1/);
    },
  );

  await t.step("an unreachable upstream is reported without its URL", async () => {
    const port = freePort();
    await using lonely = await startNode({
      env: { RELAY_FROM_ENABLED: "YES", RELAY_FROM_URL: `ws://127.0.0.1:${port}/` },
    });
    await using spectator = await pull(lonely.wsUrl, "any");
    const refused = await answer(spectator);
    assertMatch(refused, /^UPSTREAM_ERROR/);
    assert(!refused.includes(String(port)), `no upstream URL: ${refused}`);
  });
});
