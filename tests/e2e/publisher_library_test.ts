/**
 * The publisher client against real node processes (every transport): parts and whole
 * fragments, tokens, every fatal refusal, reconnection after the node is killed and restarted on
 * the same port, and an older node that knows no parts.
 */

import { assert, assertAtMost, assertEquals } from "../helpers/assert.ts";
import { pushToken, spectatorFor, type TestClient } from "../helpers/client.ts";
import { type MediaFragment, sameBytes, tsFragments } from "../helpers/media.ts";
import { freePort, startNode, TEST_SECRETS, testTransports } from "../helpers/node_process.ts";
import type { FragmentMessage, PartMessage } from "../../shared/protocol.ts";
import { parseMessage } from "../../shared/protocol.ts";
import {
  Publisher,
  type PublisherErrorEvent,
  type PublisherOptions,
  type PublisherState,
} from "../../shared/publisher/publisher.ts";

const FAST_BACKOFF = { initialMs: 100, maxMs: 400 };

function publisher(url: string, streamId: string, options: Partial<PublisherOptions> = {}) {
  const client = new Publisher({
    url,
    streamId,
    secret: TEST_SECRETS.PUSH_SECRET,
    backoff: FAST_BACKOFF,
    ...options,
  });
  const states: PublisherState[] = [];
  const errors: PublisherErrorEvent[] = [];
  client.addEventListener("state", (event) => states.push(event.state));
  client.addEventListener("error", (event) => errors.push(event));
  return { client, states, errors };
}

/** Splits a fragment into two parts at a packet boundary. */
function halves(data: Uint8Array): [Uint8Array, Uint8Array] {
  const middle = Math.floor(data.byteLength / 188 / 2) * 188;
  return [data.subarray(0, middle), data.subarray(middle)];
}

function sendInParts(client: Publisher, fragment: MediaFragment, time = Date.now()): void {
  const [first, second] = halves(fragment.data);
  client.sendPart({ data: first, time });
  client.sendPart({ data: second, time: time + 500, last: true, duration: fragment.duration });
}

/** Reads parts from a parts spectator until `count` fragments are complete; returns them joined. */
async function readParted(spectator: TestClient, count: number, timeoutMs = 5000) {
  const fragments: { seq: number; time?: number; data: Uint8Array; parts: PartMessage[] }[] = [];
  let current: { parts: PartMessage[]; chunks: Uint8Array[] } = { parts: [], chunks: [] };
  while (fragments.length < count) {
    const message = await spectator.nextMessage(timeoutMs);
    if (message.type !== "P") throw new Error(`expected P, got ${JSON.stringify(message)}`);
    const body = await spectator.next(timeoutMs);
    if (body.kind !== "binary") throw new Error("P without binary");
    current.parts.push(message);
    current.chunks.push(body.data);
    if (message.last) {
      const size = current.chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0);
      const data = new Uint8Array(size);
      let offset = 0;
      for (const chunk of current.chunks) {
        data.set(chunk, offset);
        offset += chunk.byteLength;
      }
      fragments.push({ seq: message.seq, time: current.parts[0].time, data, parts: current.parts });
      current = { parts: [], chunks: [] };
    }
  }
  return fragments;
}

for (const transport of testTransports()) {
  Deno.test(`[${transport}] publisher client against a node`, async (t) => {
    await using node = await startNode({ transport });
    const media = await tsFragments({ seconds: 4, fragmentSeconds: 1 });

    await t.step(
      "parts with seq and time; whole fragments for old-style spectators, byte-identical",
      async () => {
        const { client, states } = publisher(node.wsUrl, "lib/parts", { firstSeq: 500 });
        client.start();
        await client.ready();
        assert(client.nodeAcceptsParts, "the node answered OK with parts=1");
        await using partsSpectator = await spectatorFor(node.wsUrl, "lib/parts", {
          parts: true,
          maxInitialFragments: 0,
        });
        await using wholeSpectator = await spectatorFor(node.wsUrl, "lib/parts", {
          maxInitialFragments: 0,
        });
        const times = media.map((_, index) => 1_700_000_000_000 + index * 1000);
        for (const [index, fragment] of media.entries()) {
          sendInParts(client, fragment, times[index]);
        }
        const parted = await readParted(partsSpectator, media.length);
        for (const [index, fragment] of media.entries()) {
          const whole = await wholeSpectator.nextFragment();
          assertEquals(whole.header.seq, 500 + index);
          assertEquals(whole.header.time, times[index]);
          assertEquals(whole.header.duration, fragment.duration);
          assert(sameBytes(whole.data, fragment.data), "whole fragment byte-exact");
          assertEquals(parted[index].seq, 500 + index);
          assertEquals(parted[index].parts.map((part) => part.part), [0, 1]);
          assertEquals(parted[index].parts[1].time, times[index] + 500);
          assert(sameBytes(parted[index].data, whole.data), "parts joined = the whole fragment");
        }
        assertEquals(client.stats.fragmentsSent, media.length);
        assertEquals(client.stats.partsSent, 2 * media.length);
        await client.close();
        assertEquals(await wholeSpectator.nextMessage(), { type: "CLOSE" });
        assertEquals(states, ["connecting", "ready", "closed"]);
      },
    );

    await t.step("whole fragments with parts off; a ready token and a token function", async () => {
      for (const token of [await pushToken("lib/whole"), () => pushToken("lib/whole")]) {
        const { client } = publisher(node.wsUrl, "lib/whole", {
          parts: false,
          token,
          secret: undefined,
        });
        client.start();
        await client.ready();
        assert(!client.nodeAcceptsParts);
        await using spectator = await spectatorFor(node.wsUrl, "lib/whole", {
          maxInitialFragments: 0,
        });
        client.sendFragment({ data: media[0].data, duration: media[0].duration, time: 42 });
        sendInParts(client, media[1]); // joined into one F
        const first = await spectator.nextFragment();
        assertEquals(first.header.time, 42);
        assert(sameBytes(first.data, media[0].data));
        const second = await spectator.nextFragment();
        assertEquals(second.header.seq, first.header.seq! + 1);
        assert(sameBytes(second.data, media[1].data));
        await client.close();
      }
    });

    await t.step("fatal refusals stop the publisher with their code", async () => {
      const cases: [string, Partial<PublisherOptions>, string][] = [
        ["lib/auth", { secret: "wrong secret" }, "AUTH_FAILED"],
        ["lib/auth", { token: "not.a.token", secret: undefined }, "AUTH_FAILED"],
        ["", {}, "INVALID_STREAM_ID"],
      ];
      for (const [stream, options, code] of cases) {
        const { client, errors, states } = publisher(node.wsUrl, stream, options);
        client.start();
        const error = await client.ready().then(() => null, (error: Error) => error);
        assertEquals(error?.name, code);
        assertEquals(errors.map((event) => [event.code, event.fatal]), [[code, true]]);
        assertEquals(states, ["connecting", "closed"]);
      }
    });

    await t.step(
      "a second publisher takes over: the first one stops with PUBLISHER_REPLACED",
      async () => {
        const first = publisher(node.wsUrl, "lib/takeover");
        first.client.start();
        await first.client.ready();
        const second = publisher(node.wsUrl, "lib/takeover");
        second.client.start();
        await second.client.ready();
        const deadline = Date.now() + 5000;
        while (first.client.state !== "closed" && Date.now() < deadline) await delay(20);
        assertEquals(first.errors.map((event) => [event.code, event.fatal]), [[
          "PUBLISHER_REPLACED",
          true,
        ]]);
        assertEquals(second.client.state, "ready");
        await second.client.close();
      },
    );
  });

  Deno.test(`[${transport}] publisher client: refused pushes, unreachable node`, async () => {
    await using node = await startNode({ transport, env: { PUSH_ALLOWED: "NO" } });
    const refused = publisher(node.wsUrl, "lib/refused");
    refused.client.start();
    assertEquals((await refused.client.ready().catch((error) => error)).name, "PUSH_NOT_ALLOWED");

    const unreachable = publisher(`ws://127.0.0.1:${freePort()}/`, "lib/nowhere", {
      startTimeoutMs: 1500,
    });
    const started = performance.now();
    unreachable.client.start();
    const error = await unreachable.client.ready().catch((error) => error);
    assertEquals(error.name, "UNREACHABLE");
    assertAtMost(performance.now() - started, 4000, "gave up in time");
    assert(
      unreachable.errors.some((event) => event.code === "CONNECTION_FAILED" && !event.fatal),
      "retried first",
    );
    assertEquals(unreachable.errors.at(-1)?.fatal, true);
  });

  Deno.test(`[${transport}] publisher client resumes after the node is killed and restarted`, async () => {
    const port = freePort();
    let node = await startNode({ transport, port });
    const media = await tsFragments({ seconds: 4, fragmentSeconds: 1 });
    const { client, states } = publisher(node.wsUrl, "lib/resume");
    client.start();
    await client.ready();
    let index = 0;
    let maxHeld = 0;
    // A live source: one fragment every 100 ms, in two parts.
    const feeder = setInterval(() => {
      sendInParts(client, media[index++ % media.length]);
    }, 100);
    try {
      {
        await using spectator = await spectatorFor(node.wsUrl, "lib/resume", {
          parts: true,
          maxInitialFragments: 0,
        });
        await readParted(spectator, 3);
      }
      await node.kill();
      const deadline = Date.now() + 5000;
      while (client.state === "ready" && Date.now() < deadline) await delay(10);
      assertEquals(client.state, "reconnecting");
      const seqBefore = client.nextSeq;
      // Fragments keep coming while the node is away: held, newest only.
      for (let tick = 0; tick < 10; tick++) {
        maxHeld = Math.max(maxHeld, client.stats.heldBytes);
        await delay(100);
      }
      assert(
        client.stats.fragmentsDropped >= 5,
        `${client.stats.fragmentsDropped} fragments dropped while away`,
      );
      const largest = Math.max(...media.map((item) => item.data.byteLength));
      assert(maxHeld > 0, "the newest fragment is held");
      assertAtMost(maxHeld, 2 * largest, "bytes held while the node is away");
      node = await startNode({ transport, port });
      await client.ready();
      await using spectator = await spectatorFor(node.wsUrl, "lib/resume", {
        parts: true,
        maxInitialFragments: 0,
      });
      const fragments = await readParted(spectator, 3);
      assert(
        fragments[0].seq > seqBefore,
        "live fragments after the restart, numbers still increasing",
      );
      for (let next = 1; next < fragments.length; next++) {
        assertEquals(fragments[next].seq, fragments[next - 1].seq + 1);
      }
      for (const fragment of fragments) {
        assert(
          media.some((item) => sameBytes(item.data, fragment.data)),
          "whole fragments, never half",
        );
      }
      assertEquals(client.stats.reconnects, 1);
      assertEquals(states.slice(0, 3), ["connecting", "ready", "reconnecting"]);
      assertEquals(states.at(-1), "ready");
    } finally {
      clearInterval(feeder);
      await client.close();
      await node.stop();
    }
  });
}

Deno.test("publisher client with an older node that answers OK without parts", async () => {
  // A minimal node of the older kind: OK without parts=1, records what it gets.
  const received: (FragmentMessage | PartMessage | string)[] = [];
  const binaries: Uint8Array[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    socket.binaryType = "arraybuffer";
    socket.onmessage = (event) => {
      if (typeof event.data !== "string") return binaries.push(new Uint8Array(event.data));
      const message = parseMessage(event.data);
      if (message.type === "PUSH") socket.send("OK");
      else if (message.type === "F" || message.type === "P") received.push(message);
      else received.push(message.type);
    };
    return response;
  });
  try {
    const media = await tsFragments({ seconds: 4, fragmentSeconds: 1 });
    const { client } = publisher(`ws://127.0.0.1:${server.addr.port}/`, "old/node");
    client.start();
    await client.ready();
    assert(!client.nodeAcceptsParts);
    sendInParts(client, media[0], 1000);
    sendInParts(client, media[1], 2000);
    await client.close();
    const deadline = Date.now() + 3000;
    while (!received.includes("CLOSE") && Date.now() < deadline) await delay(20);
    assertEquals(received.map((message) => typeof message === "string" ? message : message.type), [
      "F",
      "F",
      "CLOSE",
    ]);
    const [first, second] = received as FragmentMessage[];
    assertEquals([first.time, second.time, second.seq! - first.seq!], [1000, 2000, 1]);
    assert(sameBytes(binaries[0], media[0].data) && sameBytes(binaries[1], media[1].data));
  } finally {
    await server.shutdown();
  }
});

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
