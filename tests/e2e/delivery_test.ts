/**
 * Delivery on one node: byte-exact fragments in order, the initial-fragment rules, many
 * spectators, a large fragment, stream ends, republish. Runs on every transport.
 */

import { assert, assertEquals } from "../helpers/assert.ts";
import {
  expectFragments,
  publisherFor,
  pullToken,
  spectatorFor,
  TestClient,
} from "../helpers/client.ts";
import { hasProgramTables, sameBytes, tsFragments } from "../helpers/media.ts";
import { startNode, testTransports } from "../helpers/node_process.ts";

for (const transport of testTransports()) {
  Deno.test(`[${transport}] delivery on one node`, async (t) => {
    await using node = await startNode({
      transport,
      // The publisher grace has its own suite (publisher_grace_test.ts); here a loss ends at once.
      env: { FRAGMENT_BUFFER_MAX_LENGTH: "3", PUBLISHER_GRACE_SECONDS: "0" },
    });
    const media = await tsFragments({ seconds: 8, fragmentSeconds: 1 });
    assert(media.length >= 6, `ffmpeg made ${media.length} fragments`);

    await t.step("fragments arrive byte-exact, in order, with their durations", async () => {
      await using publisher = await publisherFor(node.wsUrl, "exact");
      await using spectator = await spectatorFor(node.wsUrl, "exact");
      for (const fragment of media) publisher.sendFragment(fragment.duration, fragment.data);
      for (const [index, fragment] of media.entries()) {
        const received = await spectator.nextFragment();
        assertEquals(received.header.duration, fragment.duration);
        assertEquals(received.header.seq, index);
        assert(hasProgramTables(received.data), "starts with the MPEG-TS tables");
        assert(sameBytes(received.data, fragment.data), `fragment ${index} is byte-exact`);
      }
      publisher.send({ type: "CLOSE" });
      assertEquals(await spectator.nextMessage(), { type: "CLOSE" });
      await spectator.waitClosed();
      await publisher.waitClosed();
    });

    await t.step(
      "a new spectator gets min(max_initial_fragments, buffered) most recent fragments",
      async () => {
        await using publisher = await publisherFor(node.wsUrl, "initial");
        for (const fragment of media.slice(0, 5)) {
          publisher.sendFragment(fragment.duration, fragment.data);
        }
        // The ring holds 3 (FRAGMENT_BUFFER_MAX_LENGTH); make sure all 5 went through first.
        await using probe = await spectatorFor(node.wsUrl, "initial", { maxInitialFragments: 0 });
        publisher.sendFragment(media[5].duration, media[5].data);
        assertEquals((await probe.nextFragment()).header.seq, 5);

        let last = 5;
        for (const max of [undefined, 2, 0, 1000]) {
          const ring = [last - 2, last - 1, last];
          const expected = max === undefined
            ? ring
            : ring.slice(ring.length - Math.min(max, ring.length));
          await using spectator = await spectatorFor(node.wsUrl, "initial", {
            maxInitialFragments: max,
          });
          for (const seq of expected) {
            const received = await spectator.nextFragment();
            assertEquals(received.header.seq, seq, `max_initial_fragments=${max}`);
            assert(sameBytes(received.data, media[seq % media.length].data));
          }
          last++;
          publisher.sendFragment(
            media[last % media.length].duration,
            media[last % media.length].data,
          );
          const live = await spectator.nextFragment();
          assertEquals(live.header.seq, last, `then live fragments (max_initial_fragments=${max})`);
          assertEquals((await probe.nextFragment()).header.seq, last);
        }
      },
    );

    await t.step("50 spectators each get every fragment in order", async () => {
      await using publisher = await publisherFor(node.wsUrl, "fifty");
      const spectators = await Promise.all(
        Array.from({ length: 50 }, () => spectatorFor(node.wsUrl, "fifty")),
      );
      try {
        for (const fragment of media) {
          publisher.sendFragment(fragment.duration, fragment.data);
        }
        publisher.send({ type: "CLOSE" });
        await Promise.all(spectators.map(async (spectator) => {
          await expectFragments(spectator, media);
          assertEquals(await spectator.nextMessage(), { type: "CLOSE" });
        }));
      } finally {
        for (const spectator of spectators) spectator.close();
      }
    });

    await t.step("a 20 MB fragment is delivered whole", async () => {
      const parts: Uint8Array[] = [];
      let size = 0;
      while (size < 20 * 1024 * 1024) {
        for (const fragment of media) {
          parts.push(fragment.data);
          size += fragment.data.byteLength;
        }
      }
      const big = new Uint8Array(size);
      let offset = 0;
      for (const part of parts) {
        big.set(part, offset);
        offset += part.byteLength;
      }
      await using publisher = await publisherFor(node.wsUrl, "big");
      await using spectator = await spectatorFor(node.wsUrl, "big");
      publisher.sendFragment(60, big);
      const received = await spectator.nextFragment(20000);
      assert(sameBytes(received.data, big), "20 MB fragment byte-exact");
    });

    await t.step(
      "without a grace, a publisher that vanishes ends the stream: PUBLISHER_LOST",
      async () => {
        const publisher = await publisherFor(node.wsUrl, "vanish");
        await using spectator = await spectatorFor(node.wsUrl, "vanish");
        publisher.sendFragment(media[0].duration, media[0].data);
        await spectator.nextFragment();
        publisher.close();
        const error = await spectator.nextMessage();
        assertEquals(error.type === "E" && error.code, "PUBLISHER_LOST");
        await spectator.waitClosed();
      },
    );

    await t.step("a stream can be published again after it ended, and then pulled", async () => {
      for (let round = 0; round < 2; round++) {
        await using publisher = await publisherFor(node.wsUrl, "again");
        await using spectator = await spectatorFor(node.wsUrl, "again", { maxInitialFragments: 0 });
        publisher.sendFragment(media[round].duration, media[round].data);
        const received = await spectator.nextFragment();
        assert(sameBytes(received.data, media[round].data));
        publisher.send({ type: "CLOSE" });
        assertEquals(await spectator.nextMessage(), { type: "CLOSE" });
      }
    });

    await t.step(
      "pulling a stream that does not exist: E STREAM_NOT_FOUND for a new client",
      async () => {
        await using spectator = await TestClient.connect(node.wsUrl);
        spectator.send({
          type: "PULL",
          stream: "nobody",
          auth: await pullToken("nobody"),
          caps: [],
        });
        const answer = await spectator.nextMessage();
        assertEquals(answer.type === "E" && answer.code, "STREAM_NOT_FOUND");
        await spectator.waitClosed();
      },
    );

    await t.step("...and OK then CLOSE for an old one, as the original answered", async () => {
      await using spectator = await TestClient.connect(node.wsUrl);
      spectator.send({
        type: "PULL",
        stream: "nobody",
        auth: await pullToken("nobody"),
        parts: true,
      });
      assertEquals(await spectator.nextMessage(), { type: "OK" });
      assertEquals(await spectator.nextMessage(), { type: "CLOSE" });
      await spectator.waitClosed();
    });
  });
}
