/**
 * Limits on a live node: connections and requests per address (token bucket, whitelist in CIDR
 * form), the node's connection cap, and the allow-list of page origins. Each refusal is an `E`
 * with its code (or a 429 for plain HTTP), a log line and a metric, and a publisher and
 * spectator on another address keep getting every fragment meanwhile. Clients play other
 * addresses by binding 127.0.0.2, 127.0.0.3... Runs on every transport.
 */

import http from "node:http";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { pullToken, TestClient } from "../helpers/client.ts";
import { metrics, stats, waitUntil } from "../helpers/node_metrics.ts";
import { type NodeProcess, startNode, testTransports } from "../helpers/node_process.ts";
import { WatchedStream } from "../helpers/watched_stream.ts";

/** Opens a connection from `from` (and `origin`) and sends a PULL of `stream`. */
async function pullFrom(
  node: NodeProcess,
  stream: string,
  options: { from?: string; origin?: string } = {},
): Promise<TestClient> {
  const client = await TestClient.connect(node.wsUrl, options);
  client.send({ type: "PULL", stream, auth: await pullToken(stream), maxInitialFragments: 0 });
  return client;
}

/** The first non-heartbeat answer: `OK`, or the code of an `E`. */
async function answer(client: TestClient): Promise<string> {
  const message = await client.nextMessage(5000);
  if (message.type === "OK") return "OK";
  assert(message.type === "E", `expected OK or E, got ${JSON.stringify(message)}`);
  return message.code;
}

/** A plain GET from a given local address; resolves with the status and Retry-After. */
function getFrom(node: NodeProcess, from: string, path = "/health") {
  return new Promise<{ status: number; retryAfter?: string }>((resolve, reject) => {
    const request = http.get(
      { host: "127.0.0.1", port: node.port, path, localAddress: from },
      (response) => {
        response.resume();
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            retryAfter: response.headers["retry-after"] as string,
          }));
      },
    );
    request.on("error", reject);
  });
}

for (const transport of testTransports()) {
  Deno.test(`[${transport}] limits: per address, per node, per origin`, async (t) => {
    await using node = await startNode({
      transport,
      env: {
        RATE_LIMIT_ENABLED: "YES",
        RATE_LIMIT_WHITELIST: "127.0.0.1, 127.0.0.3/32, fd00::/8",
        RATE_LIMIT_CONNECTIONS: "3",
        RATE_LIMIT_REQ_PER_SEC: "4",
        RATE_LIMIT_REQ_BURST: "4",
        MAX_CONNECTIONS: "14",
        ALLOWED_ORIGINS: "https://watch.example.com, https://*.example.org",
        LOG_INFO: "YES",
      },
    });
    await using watched = await WatchedStream.start(node.wsUrl, "good", 100);
    const clients: TestClient[] = [];
    try {
      await t.step(
        "open connections per address are capped; a closed one frees its slot",
        async () => {
          for (let index = 0; index < 3; index++) {
            const client = await pullFrom(node, "good", { from: "127.0.0.2" });
            clients.push(client);
            assertEquals(await answer(client), "OK");
          }
          await using fourth = await pullFrom(node, "good", { from: "127.0.0.2" });
          assertEquals(await answer(fourth), "RATE_LIMITED");
          await fourth.waitClosed();
          clients.pop()!.close();
          await waitUntil(async () => (await stats(node)).connections === 4, 5000, "slot freed");
          const again = await pullFrom(node, "good", { from: "127.0.0.2" });
          clients.push(again);
          assertEquals(await answer(again), "OK");
        },
      );

      await t.step("requests over the rate get 429; other addresses are not affected", async () => {
        const results = await Promise.all(
          Array.from({ length: 20 }, () => getFrom(node, "127.0.0.4")),
        );
        const ok = results.filter((result) => result.status === 200).length;
        const limited = results.filter((result) => result.status === 429);
        assert(ok >= 8 && ok <= 10, `rate + burst = 8 answered at once (got ${ok})`);
        assertEquals(limited.length, 20 - ok);
        assertEquals(limited[0].retryAfter, "1");
        assertEquals((await getFrom(node, "127.0.0.5")).status, 200, "a fresh address");
        const whitelisted = await Promise.all(
          Array.from({ length: 20 }, () => getFrom(node, "127.0.0.1")),
        );
        assert(
          whitelisted.every((result) => result.status === 200),
          "the whitelist is never limited",
        );
        await new Promise((resolve) => setTimeout(resolve, 600));
        assertEquals(
          (await getFrom(node, "127.0.0.4")).status,
          200,
          "tokens come back at the rate",
        );
      });

      await t.step("a whitelisted range has no per-address cap", async () => {
        for (let index = 0; index < 6; index++) {
          const client = await pullFrom(node, "good", { from: "127.0.0.3" });
          clients.push(client);
          assertEquals(await answer(client), "OK");
        }
      });

      await t.step("the node's connection cap gives SERVER_FULL", async () => {
        // publisher + spectator + 3 from .2 + 6 from .3 = 11 open.
        for (let index = 0; index < 3; index++) {
          const client = await pullFrom(node, "good");
          clients.push(client);
          assertEquals(await answer(client), "OK");
        }
        await using full = await pullFrom(node, "good");
        assertEquals(await answer(full), "SERVER_FULL");
        await full.waitClosed();
        for (const client of clients.splice(0)) client.close();
        await waitUntil(async () => (await stats(node)).connections === 2, 5000, "closed");
      });

      await t.step(
        "page origins: listed and wildcard pass, others are refused, none is fine",
        async () => {
          const cases: [string | undefined, string][] = [
            ["https://watch.example.com", "OK"],
            ["https://player.example.org", "OK"],
            [undefined, "OK"],
            ["https://evil.example", "ORIGIN_NOT_ALLOWED"],
            ["https://example.org", "ORIGIN_NOT_ALLOWED"],
            ["null", "ORIGIN_NOT_ALLOWED"],
          ];
          for (const [origin, expected] of cases) {
            await using client = await pullFrom(node, "good", { origin });
            assertEquals(await answer(client), expected, `origin ${origin}`);
          }
        },
      );

      await t.step("every refusal is counted and logged", async () => {
        const values = await metrics(node);
        assert((values.get('hlswscdn_refusals_total{code="RATE_LIMITED"}') ?? 0) >= 11);
        assertEquals(values.get('hlswscdn_refusals_total{code="SERVER_FULL"}'), 1);
        assertEquals(values.get('hlswscdn_refusals_total{code="ORIGIN_NOT_ALLOWED"}'), 3);
        assert((values.get('hlswscdn_http_responses_total{status="429"}') ?? 0) >= 10);
        assertMatch(
          node.output,
          /refused 127\.0\.0\.2 with RATE_LIMITED: too many open connections/,
        );
        assertMatch(node.output, /refused 127\.0\.0\.1 with SERVER_FULL/);
        assertMatch(
          node.output,
          /refused 127\.0\.0\.1 with ORIGIN_NOT_ALLOWED: pages from "https:\/\/evil/,
        );
      });

      await t.step("the publisher and spectator on another address lost nothing", async () => {
        const result = await watched.finish();
        assert(result.sent >= 3, `sent ${result.sent}`);
        assert(result.maxDelayMs < 1500, `max delay ${result.maxDelayMs} ms`);
      });
    } finally {
      for (const client of clients) client.close();
    }
  });
}
