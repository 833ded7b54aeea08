/**
 * Parts on one node, with every mix of old and new peers: a parts publisher with parts and
 * whole-fragment spectators (byte-identical fragments), an old publisher with a parts spectator,
 * and spectators that join in the middle of a fragment. Runs on every transport.
 */

import { assert, assertEquals } from "../helpers/assert.ts";
import { publisherFor, spectatorFor, type TestClient } from "../helpers/client.ts";
import { sameBytes, splitIntoParts, tsFragments } from "../helpers/media.ts";
import { startNode, testTransports } from "../helpers/node_process.ts";
import type { Message } from "../../shared/protocol.ts";

/** Sends part `index` of fragment `seq`; the last one closes the fragment. */
function sendPart(
  publisher: TestClient,
  seq: number,
  index: number,
  parts: Uint8Array[],
  duration: number,
) {
  const last = index === parts.length - 1;
  publisher.send({
    type: "P",
    seq,
    part: index,
    time: 1_700_000_000_000 + seq * 1000 + index * 100,
    independent: index === 0 || index === 2 || undefined,
    last: last || undefined,
    duration: last ? duration : undefined,
  });
  publisher.sendBinary(parts[index]);
}

async function nextPart(
  client: TestClient,
): Promise<{ header: Extract<Message, { type: "P" }>; data: Uint8Array }> {
  const header = await client.nextMessage();
  if (header.type !== "P") throw new Error(`expected P, got ${JSON.stringify(header)}`);
  const body = await client.next();
  if (body.kind !== "binary") throw new Error("expected the binary frame of the part");
  return { header, data: body.data };
}

for (const transport of testTransports()) {
  Deno.test(`[${transport}] parts with old and new peers`, async (t) => {
    await using node = await startNode({ transport });
    const media = await tsFragments({ seconds: 4, fragmentSeconds: 1 });

    await t.step(
      "parts go out at once; whole-fragment spectators get the same bytes assembled",
      async () => {
        await using publisher = await publisherFor(node.wsUrl, "mixed", { parts: true });
        await using parted = await spectatorFor(node.wsUrl, "mixed", { parts: true });
        await using whole = await spectatorFor(node.wsUrl, "mixed");
        for (const [seq, fragment] of media.entries()) {
          const parts = splitIntoParts(fragment.data, 5);
          sendPart(publisher, seq, 0, parts, fragment.duration);
          // Part 0 reaches the parts spectator before the publisher has made the rest of the fragment.
          const first = await nextPart(parted);
          assertEquals([first.header.seq, first.header.part, first.header.independent], [
            seq,
            0,
            true,
          ]);
          assert(sameBytes(first.data, parts[0]));
          for (let index = 1; index < parts.length; index++) {
            sendPart(publisher, seq, index, parts, fragment.duration);
          }
          for (let index = 1; index < parts.length; index++) {
            const part = await nextPart(parted);
            assertEquals([part.header.seq, part.header.part], [seq, index]);
            assert(sameBytes(part.data, parts[index]), `part ${seq}.${index} byte-exact`);
          }
          const received = await whole.nextFragment();
          assertEquals(received.header.seq, seq);
          assertEquals(received.header.duration, fragment.duration);
          assertEquals(
            received.header.time,
            1_700_000_000_000 + seq * 1000,
            "the stamp of the fragment's first frame",
          );
          assert(
            sameBytes(received.data, fragment.data),
            `fragment ${seq} byte-identical to the whole original`,
          );
        }
      },
    );

    await t.step("an old publisher's whole fragments reach a parts spectator as F", async () => {
      await using publisher = await publisherFor(node.wsUrl, "old-publisher");
      await using parted = await spectatorFor(node.wsUrl, "old-publisher", { parts: true });
      publisher.sendFragment(media[0].duration, media[0].data);
      const received = await parted.nextFragment();
      assert(sameBytes(received.data, media[0].data));
    });

    await t.step(
      "a spectator joining mid-fragment gets the parts made so far, or starts at the newest keyframe",
      async () => {
        await using publisher = await publisherFor(node.wsUrl, "join", { parts: true });
        const previous = splitIntoParts(media[0].data, 5);
        for (let index = 0; index < 5; index++) {
          sendPart(publisher, 0, index, previous, media[0].duration);
        }
        const parts = splitIntoParts(media[1].data, 5);
        for (let index = 0; index < 4; index++) {
          sendPart(publisher, 1, index, parts, media[1].duration);
        }
        // Make sure the node has them all before the spectators join.
        await using probe = await spectatorFor(node.wsUrl, "join", {
          parts: true,
          maxInitialFragments: 0,
        });
        await nextPart(probe);

        await using catchUp = await spectatorFor(node.wsUrl, "join", { parts: true });
        assert(
          sameBytes((await catchUp.nextFragment()).data, media[0].data),
          "the buffered fragment, whole",
        );
        for (let index = 0; index < 4; index++) {
          assertEquals((await nextPart(catchUp)).header.part, index);
        }

        await using live = await spectatorFor(node.wsUrl, "join", {
          parts: true,
          maxInitialFragments: 0,
        });
        const start = await nextPart(live);
        assertEquals(
          [start.header.seq, start.header.part],
          [1, 2],
          "starts at the newest independent part",
        );
        assertEquals((await nextPart(live)).header.part, 3);

        sendPart(publisher, 1, 4, parts, media[1].duration);
        assertEquals((await nextPart(catchUp)).header.last, true);
        assertEquals((await nextPart(live)).header.last, true);
      },
    );

    await t.step("resuming with after= gets exactly what follows", async () => {
      await using publisher = await publisherFor(node.wsUrl, "resume");
      for (const fragment of media) {
        publisher.sendFragment(fragment.duration, fragment.data);
      }
      await using first = await spectatorFor(node.wsUrl, "resume");
      const seqs: number[] = [];
      for (let index = 0; index < media.length; index++) {
        seqs.push((await first.nextFragment()).header.seq!);
      }
      await using resumed = await spectatorFor(node.wsUrl, "resume", { after: seqs[1] });
      const next = await resumed.nextFragment();
      assertEquals([next.header.seq, next.header.jump], [seqs[2], undefined]);
    });
  });
}
