/**
 * Graceful shutdown of a node process: on SIGTERM or SIGINT it stops accepting, tells publishers
 * and spectators `E SHUTTING_DOWN` (which our publisher and player retry, elsewhere where they
 * can), removes its publish-registry entries, drops clients that do not close in time, and exits
 * with code 0 within `SHUTDOWN_TIMEOUT_SECONDS` plus a small margin. Runs on every transport.
 */

import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { publisherFor, pullToken, spectatorFor, type TestClient } from "../helpers/client.ts";
import { tsFragments } from "../helpers/media.ts";
import { stats, waitUntil } from "../helpers/node_metrics.ts";
import { startNode, testTransports } from "../helpers/node_process.ts";
import { RawWebSocket } from "../helpers/raw_socket.ts";
import { startRedis } from "../helpers/redis.ts";
import { waitForValue } from "../helpers/wait.ts";
import { isRetriable } from "../../shared/errors.ts";

/** The `E` code a client was sent (heartbeats and media before it skipped). */
async function toldCode(client: TestClient): Promise<string> {
  for (;;) {
    const item = await client.next(5000);
    if (item.kind === "text" && item.message.type === "E") return item.message.code;
  }
}

for (const transport of testTransports()) {
  Deno.test(`[${transport}] SIGTERM: clients told, registry entries removed, exit 0 in time`, async () => {
    await using redis = await startRedis();
    const namespace = "shutdown-test:";
    const node = await startNode({
      transport,
      env: {
        PUB_REG_REDIS_ENABLED: "YES",
        PUB_REG_REDIS_PORT: String(redis.port),
        PUB_REG_NAMESPACE: namespace,
        SHUTDOWN_TIMEOUT_SECONDS: "3",
        LOG_INFO: "YES",
      },
    });
    try {
      const media = await tsFragments();
      await using publisher = await publisherFor(node.wsUrl, "leaving");
      await using spectator = await spectatorFor(node.wsUrl, "leaving");
      publisher.sendFragment(media[0].duration, media[0].data);
      await spectator.nextFragment();
      await waitForValue(() => redis.command("EXISTS", `${namespace}leaving`), "1", 5000);
      // A client that reads nothing, so it never answers the closing handshake.
      const stuck = await RawWebSocket.connect(node.port);
      await stuck.sendText(`PULL:stream=leaving&auth=${await pullToken("leaving")}`);
      await waitUntil(async () => (await stats(node)).spectators === 2, 5000, "stuck attached");

      const started = performance.now();
      const status = await node.stop("SIGTERM", 15_000);
      const elapsed = performance.now() - started;
      await stuck.close();

      assertEquals(status.code, 0, node.output);
      assert(elapsed < 3000 + 3000, `exited after ${Math.round(elapsed)} ms`);
      for (const client of [publisher, spectator]) {
        const code = await toldCode(client);
        assertEquals(code, "SHUTTING_DOWN");
        assert(isRetriable(code), "our publisher and player retry it");
      }
      assertEquals(await redis.command("EXISTS", `${namespace}leaving`), "0", "entry removed");
      assertMatch(node.output, /SIGTERM: shutting down/);
      assertMatch(node.output, /stopped/);
    } finally {
      await node.kill();
    }
  });

  Deno.test(`[${transport}] SIGINT: idle node and its clients leave at once`, async () => {
    const node = await startNode({ transport, env: { SHUTDOWN_TIMEOUT_SECONDS: "10" } });
    try {
      await using publisher = await publisherFor(node.wsUrl, "bye");
      await using spectator = await spectatorFor(node.wsUrl, "bye");
      const started = performance.now();
      const status = await node.stop("SIGINT", 15_000);
      const elapsed = performance.now() - started;
      assertEquals(status.code, 0, node.output);
      assert(
        elapsed < 2500,
        `clients that close at once do not wait for the deadline (${elapsed} ms)`,
      );
      assertEquals(await toldCode(publisher), "SHUTTING_DOWN");
      assertEquals(await toldCode(spectator), "SHUTTING_DOWN");
      await spectator.waitClosed();
    } finally {
      await node.kill();
    }
  });
}
