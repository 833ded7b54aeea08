/**
 * Edge tiers through `RELAY_FROM_URL`, with real node processes: two hops byte-exact with the
 * initial-fragment rules, parts through two hops, one upstream connection for 100 spectators and
 * its release after the inactivity period, `only_source`, unknown streams, an upstream killed
 * mid-stream and restarted (spectators continue without duplicates or holes), a stream gone
 * everywhere (spectators get `E`, not silence), an unreachable upstream, and two nodes relaying from
 * each other (`E LOOP_DETECTED` within seconds, no storm). Runs on every transport.
 */

import { metric, stats, streamStats } from "../helpers/node_metrics.ts";
import { waitForValue } from "../helpers/wait.ts";
import { assert, assertAtMost, assertEquals } from "../helpers/assert.ts";
import {
  expectFragments,
  expectRefusal,
  publisherFor,
  type Received,
  spectatorFor,
  TestClient,
} from "../helpers/client.ts";
import { type MediaFragment, sameBytes, splitIntoParts, tsFragments } from "../helpers/media.ts";
import {
  freePort,
  startNode,
  TEST_OPERATOR_TOKEN,
  testTransports,
} from "../helpers/node_process.ts";

/** Sends a fragment as parts (`P` + binary), `pauseMs` apart. */
async function sendParts(
  publisher: TestClient,
  seq: number,
  fragment: MediaFragment,
  count: number,
  pauseMs = 0,
): Promise<void> {
  const parts = splitIntoParts(fragment.data, count);
  for (const [part, data] of parts.entries()) {
    const last = part === parts.length - 1;
    publisher.send({
      type: "P",
      seq,
      part,
      last: last || undefined,
      duration: last ? fragment.duration : undefined,
    });
    publisher.sendBinary(data);
    if (pauseMs > 0 && !last) await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
}

/** Collects whole fragments (from `F`, or assembled from `P`) until `CLOSE`/`E` or a stop. */
class Collector {
  /** Complete fragments, in arrival order. */
  readonly fragments: { seq: number; data: Uint8Array }[] = [];
  /** Fragments abandoned mid-way (a part 0 again, after an upstream resume). */
  restarts = 0;
  /** The `CLOSE` or `E` that ended the stream. */
  end: Received | undefined;
  #parts: Uint8Array[] = [];
  #seq = -1;
  #done: Promise<void>;

  constructor(client: TestClient) {
    this.#done = this.#run(client);
  }

  async #run(client: TestClient): Promise<void> {
    for (;;) {
      let item: Received;
      try {
        item = await client.next(60000);
      } catch {
        return;
      }
      if (item.kind !== "text") throw new Error("binary frame without F or P");
      const message = item.message;
      if (message.type === "H") continue;
      if (message.type === "CLOSE" || message.type === "E") {
        this.end = item;
        return;
      }
      const body = await client.next(10000);
      if (body.kind !== "binary") throw new Error(`expected binary after ${message.type}`);
      if (message.type === "F") {
        this.fragments.push({ seq: message.seq!, data: body.data });
      } else if (message.type === "P") {
        if (message.part === 0) {
          if (this.#parts.length > 0) this.restarts++;
          this.#parts = [];
          this.#seq = message.seq;
        }
        assertEquals(message.seq, this.#seq, "parts of one fragment");
        this.#parts.push(body.data);
        if (message.last) {
          this.fragments.push({ seq: message.seq, data: concat(this.#parts) });
          this.#parts = [];
        }
      }
    }
  }

  /** Waits until the collector has a fragment with `seq` (or the stream ended). */
  async waitFor(seq: number, timeoutMs: number): Promise<void> {
    await waitForValue(
      () => Promise.resolve(this.end !== undefined || this.fragments.some((f) => f.seq >= seq)),
      true,
      timeoutMs,
    );
  }

  /** Resolves when the stream ended. */
  done(): Promise<void> {
    return this.#done;
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const result = new Uint8Array(parts.reduce((size, part) => size + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    result.set(part, offset);
    offset += part.byteLength;
  }
  return result;
}

/** Opens `/stats` with the upstream URLs of relayed streams. */
const OPERATOR_TOKEN = TEST_OPERATOR_TOKEN;

for (const transport of testTransports()) {
  Deno.test(`[${transport}] relay: edge tiers through RELAY_FROM_URL`, async (t) => {
    const common = { RELAY_INACTIVITY_PERIOD_SEC: "1", OPERATOR_TOKEN };
    await using a = await startNode({
      transport,
      env: { ...common, NODE_ID: "A", FRAGMENT_BUFFER_MAX_LENGTH: "60" },
    });
    const bPort = freePort();
    const bEnv = {
      ...common,
      NODE_ID: "B",
      RELAY_FROM_ENABLED: "YES",
      RELAY_FROM_URL: a.wsUrl,
      // Deep enough that C can resume after B's restart from what B fetched again from A.
      FRAGMENT_BUFFER_MAX_LENGTH: "60",
    };
    let b = await startNode({ transport, port: bPort, env: bEnv });
    await using c = await startNode({
      transport,
      env: {
        ...common,
        NODE_ID: "C",
        RELAY_FROM_ENABLED: "YES",
        RELAY_FROM_URL: b.wsUrl,
        RELAY_RESUME_TIMEOUT_SECONDS: "20",
        FRAGMENT_BUFFER_MAX_LENGTH: "4",
      },
    });
    const media = await tsFragments({ seconds: 8, fragmentSeconds: 1 });

    try {
      await t.step("two hops, byte-exact, with the initial-fragment rules and CLOSE", async () => {
        await using publisher = await publisherFor(a.wsUrl, "hops");
        for (const fragment of media.slice(0, 4)) {
          publisher.sendFragment(fragment.duration, fragment.data);
        }
        await using everything = await spectatorFor(c.wsUrl, "hops");
        await using two = await spectatorFor(c.wsUrl, "hops", { maxInitialFragments: 2 });
        await using none = await spectatorFor(c.wsUrl, "hops", { maxInitialFragments: 0 });
        for (const seq of [0, 1, 2, 3]) {
          const received = await everything.nextFragment();
          assertEquals(received.header.seq, seq);
          assert(sameBytes(received.data, media[seq].data), `buffered fragment ${seq}`);
        }
        for (const seq of [2, 3]) assertEquals((await two.nextFragment()).header.seq, seq);
        for (const [seq, fragment] of media.entries()) {
          if (seq < 4) continue;
          publisher.sendFragment(fragment.duration, fragment.data);
          for (const spectator of [everything, two, none]) {
            const received = await spectator.nextFragment();
            assertEquals(received.header.seq, seq, "live fragments in order");
            assertEquals(received.header.duration, fragment.duration);
            assert(sameBytes(received.data, fragment.data), `live fragment ${seq}`);
          }
        }
        assertEquals((await streamStats(c, "hops", OPERATOR_TOKEN))?.upstream, b.wsUrl);
        assertEquals((await streamStats(b, "hops", OPERATOR_TOKEN))?.upstream, a.wsUrl);
        publisher.send({ type: "CLOSE" });
        for (const spectator of [everything, two, none]) {
          assertEquals(await spectator.nextMessage(), { type: "CLOSE" });
        }
      });

      await t.step("parts through two hops, and whole fragments assembled from them", async () => {
        await using publisher = await publisherFor(a.wsUrl, "parts", { parts: true });
        await sendParts(publisher, 0, media[0], 3);
        await using whole = await spectatorFor(c.wsUrl, "parts");
        assert(sameBytes((await whole.nextFragment()).data, media[0].data), "assembled, buffered");
        await using partsSpectator = await spectatorFor(c.wsUrl, "parts", {
          parts: true,
          maxInitialFragments: 0,
        });
        for (let seq = 1; seq < 4; seq++) {
          await sendParts(publisher, seq, media[seq], 4);
          const chunks = splitIntoParts(media[seq].data, 4);
          for (const [index, chunk] of chunks.entries()) {
            const header = await partsSpectator.nextMessage();
            assert(header.type === "P", `expected P, got ${header.type}`);
            assertEquals([header.seq, header.part, header.last ?? false], [
              seq,
              index,
              index === 3,
            ]);
            const body = await partsSpectator.next();
            assert(body.kind === "binary" && sameBytes(body.data, chunk), "part byte-exact");
          }
          const assembled = await whole.nextFragment();
          assertEquals(assembled.header.seq, seq);
          assert(sameBytes(assembled.data, media[seq].data), "byte-identical whole fragment");
        }
      });

      await t.step("100 spectators share one upstream connection per hop", async () => {
        await using publisher = await publisherFor(a.wsUrl, "crowd");
        const spectators = await Promise.all(
          Array.from({ length: 100 }, () => spectatorFor(c.wsUrl, "crowd")),
        );
        try {
          for (const fragment of media.slice(0, 3)) {
            publisher.sendFragment(fragment.duration, fragment.data);
          }
          await Promise.all(
            spectators.map((spectator) => expectFragments(spectator, media.slice(0, 3))),
          );
          const onC = await streamStats(c, "crowd");
          assertEquals([onC?.spectators, onC?.upstreamConnections], [100, 1]);
          assertEquals((await streamStats(b, "crowd"))?.spectators, 1, "B serves C once");
          assertEquals((await streamStats(a, "crowd"))?.spectators, 1, "A serves B once");
        } finally {
          for (const spectator of spectators) spectator.close();
        }
        // RELAY_INACTIVITY_PERIOD_SEC=1 on C, then on B.
        await waitForValue(async () => (await streamStats(a, "crowd"))?.spectators, 0, 6000);
        assertEquals(await streamStats(c, "crowd"), undefined);
        assertEquals(await streamStats(b, "crowd"), undefined);
      });

      await t.step("only_source=true never leaves the node", async () => {
        await using _publisher = await publisherFor(a.wsUrl, "solo");
        const took = await expectRefusal(c.wsUrl, "solo", "STREAM_NOT_FOUND", {
          onlySource: true,
        });
        assertAtMost(took, 3000, "ms to refuse");
        assertEquals(await streamStats(b, "solo"), undefined, "B was not asked");
        assertEquals((await streamStats(a, "solo"))?.spectators, 0, "A was not asked");
      });

      await t.step("a stream no node has is STREAM_NOT_FOUND through the chain", async () => {
        const took = await expectRefusal(c.wsUrl, "nobody", "STREAM_NOT_FOUND");
        assertAtMost(took, 5000, "ms to refuse");
      });

      await t.step("upstream killed mid-stream and restarted: no duplicates, no hole", async () => {
        await using publisher = await publisherFor(a.wsUrl, "resume", { parts: true });
        await using partsClient = await spectatorFor(c.wsUrl, "resume", { parts: true });
        await using wholeClient = await spectatorFor(c.wsUrl, "resume");
        const partsSpectator = new Collector(partsClient);
        const wholeSpectator = new Collector(wholeClient);
        let seq = 0;
        let publishing = true;
        const pacing = (async () => {
          while (publishing) {
            await sendParts(publisher, seq, media[seq % media.length], 4, 40);
            seq++;
            await new Promise((resolve) => setTimeout(resolve, 40));
          }
        })();
        try {
          await partsSpectator.waitFor(3, 10000);
          await b.kill();
          await new Promise((resolve) => setTimeout(resolve, 500));
          b = await startNode({ transport, port: bPort, env: bEnv });
          const target = seq + 3;
          await partsSpectator.waitFor(target, 20000);
          await wholeSpectator.waitFor(target, 20000);
        } finally {
          publishing = false;
          await pacing;
        }
        for (const [name, spectator] of [["parts", partsSpectator], ["whole", wholeSpectator]]) {
          const { fragments, end } = spectator as Collector;
          assertEquals(end, undefined, `${name}: still live`);
          const seqs = fragments.map((fragment) => fragment.seq);
          assertEquals(seqs, seqs.map((_, index) => seqs[0] + index), `${name}: ${seqs}`);
          for (const fragment of fragments) {
            assert(
              sameBytes(fragment.data, media[fragment.seq % media.length].data),
              `${name}: fragment ${fragment.seq} byte-exact`,
            );
          }
        }
        assert(((await streamStats(c, "resume"))?.resumes as number) >= 1, "C resumed");
        // The metrics say so too.
        assert(await metric(c, "hlswscdn_relay_reconnects_total") >= 1, "relay_reconnects_total");
        assert(
          await metric(c, 'hlswscdn_relay_errors_total{reason="lost"}') >= 1,
          "relay_errors_total{lost}",
        );
        assertEquals(
          await metric(c, "hlswscdn_relay_upstream_connections"),
          1,
          "one upstream connection on C",
        );
      });
    } finally {
      await b.stop();
    }
  });

  Deno.test(`[${transport}] relay: failures end with E, never silence`, async (t) => {
    await t.step("a stream gone everywhere ends with E; an unreachable upstream too", async () => {
      const origin = await startNode({ transport, env: { NODE_ID: "O" } });
      try {
        await using edge = await startNode({
          transport,
          env: {
            NODE_ID: "D",
            RELAY_FROM_ENABLED: "YES",
            RELAY_FROM_URL: origin.wsUrl,
            RELAY_RESUME_TIMEOUT_SECONDS: "2",
            UPSTREAM_TIMEOUT_SECONDS: "2",
          },
        });
        const media = await tsFragments({ seconds: 2, fragmentSeconds: 1 });
        const publisher = await publisherFor(origin.wsUrl, "gone");
        publisher.sendFragment(media[0].duration, media[0].data);
        await using spectator = await spectatorFor(edge.wsUrl, "gone");
        await spectator.nextFragment();
        await origin.kill();
        const start = performance.now();
        const answer = await spectator.nextMessage(15000);
        assertEquals(answer.type === "E" && answer.code, "UPSTREAM_ERROR");
        assertAtMost(performance.now() - start, 8000, "ms until E");
        await spectator.waitClosed();
        const took = await expectRefusal(edge.wsUrl, "other", "UPSTREAM_ERROR");
        assertAtMost(took, 5000, "ms to refuse with an unreachable upstream");
      } finally {
        await origin.stop();
      }
    });

    await t.step("two nodes relaying from each other end with E LOOP_DETECTED", async () => {
      const [ePort, fPort] = [freePort(), freePort()];
      const relayTo = (port: number) => ({
        RELAY_FROM_ENABLED: "YES",
        RELAY_FROM_URL: `ws://127.0.0.1:${port}/`,
      });
      await using e = await startNode({
        transport,
        port: ePort,
        env: { NODE_ID: "E", ...relayTo(fPort) },
      });
      await using f = await startNode({
        transport,
        port: fPort,
        env: { NODE_ID: "F", ...relayTo(ePort) },
      });
      for (const node of [e, f]) {
        const took = await expectRefusal(node.wsUrl, "loop", "LOOP_DETECTED");
        assertAtMost(took, 5000, "ms until E LOOP_DETECTED");
      }
      await waitForValue(async () => (await stats(e)).connections, 0, 2000);
      await waitForValue(async () => (await stats(f)).connections, 0, 2000);
      assertEquals((await stats(e)).streams, []);
    });
  });
}
