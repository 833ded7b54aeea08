/**
 * The player's connection component (`client/connection.ts`) against real nodes: parts, a
 * publisher back within its grace (nothing for the player to do), resume after a lost publisher
 * (no grace), `CLOSE`, refusals and the give-up timeout. Runs on every transport.
 */

import { assert, assertEquals } from "../helpers/assert.ts";
import { publisherFor } from "../helpers/client.ts";
import { pullToken } from "../helpers/client.ts";
import { tsFragments } from "../helpers/media.ts";
import { metric, stats, waitUntil } from "../helpers/node_metrics.ts";
import { startNode, testTransports } from "../helpers/node_process.ts";
import { Backoff } from "../../shared/backoff.ts";
import {
  type MediaChunk,
  PullConnection,
  type PullConnectionHandlers,
} from "../../client/connection.ts";
import type { PlayerError, ReconnectInfo } from "../../client/events.ts";

/** A connection whose events are recorded, with waits on them. */
function recorded(options: ConstructorParameters<typeof PullConnection>[0]) {
  const chunks: MediaChunk[] = [];
  const reconnects: ReconnectInfo[] = [];
  let failed: PlayerError | undefined;
  let ended = false;
  const handlers: PullConnectionHandlers = {
    media: (chunk) => chunks.push(chunk),
    ended: () => ended = true,
    failed: (error) => failed = error,
    reconnect: (info) => reconnects.push(info),
  };
  const connection = new PullConnection(options, handlers);
  const until = async (check: () => boolean, what: string, ms = 5000) => {
    const deadline = Date.now() + ms;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  return {
    connection,
    chunks,
    reconnects,
    until,
    get failed() {
      return failed;
    },
    get ended() {
      return ended;
    },
  };
}

for (const transport of testTransports()) {
  Deno.test(`[${transport}] PullConnection receives parts, resumes after a lost publisher, and ends on CLOSE`, async () => {
    await using node = await startNode({
      transport,
      env: { LOG_INFO: "NO", PUBLISHER_GRACE_SECONDS: "0" },
    });
    const [fragment] = await tsFragments({ seconds: 2, fragmentSeconds: 1 });
    const half = Math.floor(fragment.data.byteLength / 188 / 2) * 188;
    const pull = recorded({
      url: node.wsUrl,
      streamId: "c",
      authToken: await pullToken("c"),
      maxInitialFragments: 0,
      backoff: new Backoff({ initialMs: 50, maxMs: 200 }),
    });
    let publisher = await publisherFor(node.wsUrl, "c", { parts: true });
    pull.connection.start();
    await pull.until(() => pull.connection.counters.parts, "OK with parts");
    const sendFragment = (seq: number) => {
      publisher.send({ type: "P", seq, part: 0, time: 1000 + seq });
      publisher.sendBinary(fragment.data.subarray(0, half));
      publisher.send({ type: "P", seq, part: 1, last: true, duration: 1 });
      publisher.sendBinary(fragment.data.subarray(half));
    };
    sendFragment(0);
    sendFragment(1);
    await pull.until(() => pull.chunks.length === 4, "four parts");
    assertEquals(pull.chunks.map((chunk) => [chunk.kind, chunk.seq, chunk.starts, chunk.ends]), [
      ["part", 0, true, false],
      ["part", 0, false, true],
      ["part", 1, true, false],
      ["part", 1, false, true],
    ]);
    assertEquals(pull.chunks[0].time, 1000);
    assertEquals(pull.connection.counters.lastSeq, 1);

    // No grace: the publisher goes away, PUBLISHER_LOST, then STREAM_NOT_FOUND until it is back;
    // the fragment sent meanwhile waits in the ring for the player's `after=1`.
    publisher.close();
    await pull.until(() => pull.reconnects.length >= 1, "a reconnection");
    publisher = await publisherFor(node.wsUrl, "c", { parts: true });
    sendFragment(2);
    await pull.until(() => pull.chunks.length === 6, "parts after the resume");
    const resumed = pull.chunks[4];
    assert(resumed.resumed, "the first chunk after the loss is marked resumed");
    assertEquals(resumed.seq, 2, "numbering continues after the republish");
    assert(pull.reconnects[0].reason.includes("PUBLISHER_LOST"), pull.reconnects[0].reason);

    publisher.send({ type: "CLOSE" });
    await pull.until(() => pull.ended, "CLOSE");
    assertEquals(pull.failed, undefined);
    assertEquals(pull.connection.connected, false);
    pull.connection.destroy();
    publisher.close();
  });

  Deno.test(`[${transport}] PullConnection: a publisher back within its grace goes unnoticed`, async () => {
    await using node = await startNode({ transport, env: { LOG_INFO: "NO" } });
    const media = await tsFragments({ seconds: 3, fragmentSeconds: 1 });
    const pull = recorded({
      url: node.wsUrl,
      streamId: "g",
      authToken: await pullToken("g"),
      maxInitialFragments: 0,
    });
    let publisher = await publisherFor(node.wsUrl, "g");
    pull.connection.start();
    await waitUntil(async () => (await stats(node)).spectators === 1, 5000, "attached");
    publisher.sendFragment(media[0].duration, media[0].data, { seq: 5 });
    await pull.until(() => pull.chunks.length === 1, "a fragment");
    publisher.close();
    await waitUntil(
      async () => await metric(node, 'hlswscdn_publisher_graces_total{event="entered"}') === 1,
      5000,
      "the grace began",
    );
    publisher = await publisherFor(node.wsUrl, "g");
    publisher.sendFragment(media[1].duration, media[1].data, { seq: 6 });
    await pull.until(() => pull.chunks.length === 2, "the next fragment");
    assertEquals(pull.reconnects, [], "no reconnection");
    assertEquals(pull.chunks.map((chunk) => [chunk.seq, chunk.resumed, chunk.discontinuity]), [
      [5, false, false],
      [6, false, true],
    ]);
    assertEquals(await metric(node, 'hlswscdn_publisher_graces_total{event="resumed"}'), 1);
    publisher.send({ type: "CLOSE" });
    await pull.until(() => pull.ended, "CLOSE");
    publisher.close();
  });

  Deno.test(`[${transport}] PullConnection gives up on refusals at once and on missing streams after the timeout`, async () => {
    await using node = await startNode({ transport, env: { LOG_INFO: "NO" } });
    const refused = recorded({ url: node.wsUrl, streamId: "x", authToken: "not-a-token" });
    refused.connection.start();
    await refused.until(() => refused.failed !== undefined, "AUTH_FAILED");
    assertEquals(refused.failed!.code, "AUTH_FAILED");
    assertEquals(refused.reconnects.length, 0);

    const missing = recorded({
      url: node.wsUrl,
      streamId: "nobody",
      authToken: await pullToken("nobody"),
      timeoutMs: 1200,
      backoff: new Backoff({ initialMs: 100, maxMs: 300 }),
    });
    const started = performance.now();
    missing.connection.start();
    await missing.until(() => missing.failed !== undefined, "TIMEOUT", 5000);
    const elapsed = performance.now() - started;
    assertEquals(missing.failed!.code, "TIMEOUT");
    assert(missing.failed!.message.includes("STREAM_NOT_FOUND"), missing.failed!.message);
    assert(missing.reconnects.length >= 2, `${missing.reconnects.length} retries`);
    assert(elapsed >= 1200 && elapsed < 3500, `gave up after ${elapsed} ms`);
    assertEquals(missing.connection.connected, false);
  });
}
