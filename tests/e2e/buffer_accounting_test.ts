/**
 * The buffer memory account never drifts: many streams are published and ended, cleanly and
 * not (a publisher that vanishes mid-fragment or in the middle of a binary frame, protocol errors,
 * takeovers, parts in progress, `CLOSE` between parts, publishers back within their grace), with
 * spectators coming and going, under a small `BUFFER_MEMORY_LIMIT_MB`. While it runs the account stays under the limit; afterwards it
 * is back to exactly zero in `/stats` and `/metrics`. A parts publisher whose fragment cannot fit
 * gets `E BUFFER_MEMORY_LIMIT`. Runs on every transport.
 */

import { assert, assertEquals } from "../helpers/assert.ts";
import { publisherFor, pushToken, spectatorFor, TestClient } from "../helpers/client.ts";
import { tsFragments } from "../helpers/media.ts";
import { metrics, stats, waitUntil } from "../helpers/node_metrics.ts";
import { type NodeProcess, startNode, testTransports } from "../helpers/node_process.ts";
import { type RawFrame, RawWebSocket } from "../helpers/raw_socket.ts";

const LIMIT = 1024 * 1024;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const decoder = new TextDecoder();

/** Sends parts 0..count-1 of fragment `seq`, each `size` bytes; the last one ends it if `last`. */
function sendParts(client: TestClient, seq: number, count: number, size: number, last: boolean) {
  for (let part = 0; part < count; part++) {
    client.send({
      type: "P",
      seq,
      part,
      duration: 0.2,
      independent: part === 0,
      last: last && part === count - 1 ? true : undefined,
    });
    client.sendBinary(new Uint8Array(size).fill(part));
  }
}

/**
 * One publisher's life on stream `id`, chosen by `kind`, in two phases so that concurrent lives do
 * not race by design: `prepare` connects the publisher and its spectators (a takeover keeps the
 * stream, so nothing can end it while the round is preparing), and the returned `act` does what
 * ends or abandons the stream. A round prepares every life before any acts.
 */
async function prepare(node: NodeProcess, id: string, kind: number): Promise<() => Promise<void>> {
  const media = await tsFragments();
  if (kind === 0) {
    // Vanishes in the middle of a binary frame: raw TCP, half a frame, hang up.
    const raw = await RawWebSocket.connect(node.port);
    await raw.sendText(`PUSH:stream=${encodeURIComponent(id)}&auth=${await pushToken(id)}`);
    raw.resume();
    const ok = (frames: RawFrame[]) =>
      frames.some((frame) => frame.opcode === 1 && decoder.decode(frame.payload) === "OK");
    assert(await raw.waitFor(ok, 5000), "the raw publisher got OK");
    return async () => {
      try {
        await raw.sendText("F:duration=1");
        await raw.sendRaw(new Uint8Array([0x82, 0xfe, 0x80, 0x00, 1, 2, 3, 4, 9, 9, 9]));
        await pause(30);
      } catch (error) {
        // Taken over while the round prepared: the node closed it already.
        const gone = error instanceof Deno.errors.BrokenPipe ||
          error instanceof Deno.errors.ConnectionReset;
        assert(raw.closed || gone, String(error));
      } finally {
        await raw.close();
      }
    };
  }
  const publisher = await publisherFor(node.wsUrl, id, { parts: kind >= 4 });
  const spectators = await Promise.all([
    spectatorFor(node.wsUrl, id),
    spectatorFor(node.wsUrl, id, { parts: true, old: true }),
  ]);
  return async () => {
    try {
      switch (kind) {
        case 1: // clean: whole fragments (more than the limit holds), then CLOSE
          for (const fragment of media.slice(0, 4)) publisher.sendFragment(1, fragment.data);
          for (let index = 0; index < 4; index++) {
            publisher.sendFragment(1, new Uint8Array(300_000).fill(index));
          }
          publisher.send({ type: "CLOSE" });
          break;
        case 2: // F, then the connection goes away before the binary frame
          publisher.sendFragment(1, media[0].data);
          publisher.send("F:duration=1");
          break;
        case 3: // protocol error after some fragments
          publisher.sendFragment(1, media[1].data);
          publisher.sendFragment(1, new Uint8Array(300_000));
          publisher.sendBinary(new Uint8Array(10));
          break;
        case 4: // parts: one whole fragment, then a fragment in progress, then gone
          sendParts(publisher, 0, 3, 60_000, true);
          sendParts(publisher, 1, 2, 60_000, false);
          break;
        case 5: // parts in progress, then CLOSE
          sendParts(publisher, 0, 2, 80_000, false);
          publisher.send({ type: "CLOSE" });
          break;
        case 6: { // takeover in the middle of a fragment made of parts
          sendParts(publisher, 0, 2, 50_000, false);
          await pause(20);
          const second = await publisherFor(node.wsUrl, id, { parts: true });
          sendParts(second, 5, 2, 50_000, true);
          sendParts(second, 6, 1, 50_000, false);
          await pause(20);
          second.close();
          break;
        }
      }
      await pause(20 + (kind * 7) % 30);
      spectators[0].close();
      await pause(10);
    } finally {
      publisher.close();
      for (const spectator of spectators) spectator.close();
    }
  };
}

for (const transport of testTransports()) {
  Deno.test(`[${transport}] buffer memory: exact accounting back to zero, under the limit`, async (t) => {
    await using node = await startNode({
      transport,
      env: {
        BUFFER_MEMORY_LIMITER_ENABLED: "YES",
        BUFFER_MEMORY_LIMIT_MB: "1",
        FRAGMENT_BUFFER_MAX_LENGTH: "4",
        MAX_BINARY_MESSAGE_SIZE: "1000000",
        PUBLISHER_GRACE_SECONDS: "1",
      },
    });

    await t.step("a parts fragment that cannot fit gets E BUFFER_MEMORY_LIMIT", async () => {
      await using first = await publisherFor(node.wsUrl, "first", { parts: true });
      sendParts(first, 0, 3, 300_000, false);
      await waitUntil(async () => (await stats(node)).bufferBytes === 900_000, 5000, "held");
      await using second = await publisherFor(node.wsUrl, "second", { parts: true });
      sendParts(second, 0, 1, 300_000, false);
      const told = await second.nextMessage();
      assertEquals(told.type === "E" && told.code, "BUFFER_MEMORY_LIMIT");
      first.send({ type: "CLOSE" });
      await waitUntil(async () => (await stats(node)).bufferBytes === 0, 5000, "released");
    });

    await t.step("many streams, many ways to end, then zero", async () => {
      let maxSeen = 0;
      let polling = true;
      const poller = (async () => {
        while (polling) {
          maxSeen = Math.max(maxSeen, (await stats(node)).bufferBytes);
          await pause(20);
        }
      })();
      try {
        for (let round = 0; round < 3; round++) {
          const acts = await Promise.all(
            Array.from({ length: 21 }, (_, index) => prepare(node, `room/${index % 9}`, index % 7)),
          );
          await Promise.all(acts.map((act) => act()));
        }
      } finally {
        polling = false;
        await poller;
      }
      assert(maxSeen <= LIMIT, `the account stayed under the limit (max ${maxSeen})`);
      await waitUntil(async () => (await stats(node)).connections === 0, 10_000, "all closed");
      // Streams whose publisher vanished end when their grace (1 s) runs out.
      await waitUntil(async () => (await stats(node)).streams.length === 0, 5000, "graces over");
      const document = await stats(node);
      assertEquals(document.bufferBytes, 0);
      assertEquals(document.streams, []);
      const values = await metrics(node);
      assertEquals(values.get("hlswscdn_buffer_bytes"), 0);
      assertEquals(values.get('hlswscdn_streams{origin="local"}'), 0);
      for (const role of ["pending", "publisher", "spectator"]) {
        assertEquals(values.get(`hlswscdn_connections{role="${role}"}`), 0, role);
      }
      assert((values.get("hlswscdn_buffer_evictions_total") ?? 0) > 0, "the limiter worked");
      assertEquals(values.get('hlswscdn_refusals_total{code="INTERNAL_ERROR"}'), undefined);
    });
  });
}
