/**
 * The slow-spectator policy: a spectator that stops reading never delays the others, never gets a
 * fragment cut in the middle, is moved forward to a fragment boundary marked `jump=1`, and is
 * dropped when it stays behind too long: with `E SLOW_SPECTATOR` when it sent `caps` (a new
 * client), without a word when it did not (an old player, which reconnects). Runs on every
 * transport.
 */

import { assert, assertAtMost, assertEquals } from "../helpers/assert.ts";
import { publisherFor, pullToken, spectatorFor } from "../helpers/client.ts";
import { sameBytes, tsFragments } from "../helpers/media.ts";
import { stats, waitUntil } from "../helpers/node_metrics.ts";
import { type NodeProcess, startNode, testTransports } from "../helpers/node_process.ts";
import { type RawFrame, RawWebSocket } from "../helpers/raw_socket.ts";
import { parseMessage } from "../../shared/protocol.ts";

const decoder = new TextDecoder();

/** About 400 KB of real MPEG-TS per fragment, several fragments glued together. */
async function bigFragments(count: number): Promise<Uint8Array[]> {
  const media = await tsFragments({
    seconds: 8,
    fragmentSeconds: 1,
    size: "640x360",
    videoBitrate: "1500k",
  });
  const result: Uint8Array[] = [];
  for (let index = 0; index < count; index++) {
    const pieces = [media[index % media.length], media[(index + 1) % media.length]].map((item) =>
      item.data
    );
    const size = pieces.reduce((sum, piece) => sum + piece.byteLength, 0);
    const fragment = new Uint8Array(size + 4);
    let offset = 0;
    for (const piece of pieces) {
      fragment.set(piece, offset);
      offset += piece.byteLength;
    }
    new DataView(fragment.buffer).setUint32(size, index); // makes every fragment unique
    result.push(fragment);
  }
  return result;
}

/** Waits until the node has `count` spectators attached. */
function spectators(node: NodeProcess, count: number): Promise<void> {
  return waitUntil(
    async () => (await stats(node)).spectators === count,
    5000,
    `${count} spectators`,
  );
}

/** Pairs text and binary frames into fragments; returns the text messages too. */
function readFrames(frames: RawFrame[]) {
  const fragments: { seq: number; jump: boolean; data: Uint8Array }[] = [];
  const texts: string[] = [];
  for (let index = 0; index < frames.length; index++) {
    const frame = frames[index];
    if (frame.opcode !== 1) continue;
    const text = decoder.decode(frame.payload);
    texts.push(text);
    const message = parseMessage(text);
    if (message.type === "F") {
      const body = frames[index + 1];
      assert(body !== undefined && body.opcode === 2, "F is followed by its binary frame");
      fragments.push({ seq: message.seq!, jump: message.jump === true, data: body.payload });
      index++;
    }
  }
  return { fragments, texts };
}

for (const transport of testTransports()) {
  Deno.test(`[${transport}] a spectator that reads nothing for 10 s is moved forward, others stay on time`, async () => {
    await using node = await startNode({
      transport,
      env: {
        SPECTATOR_MAX_LAG_SECONDS: "1",
        SPECTATOR_MAX_QUEUE_MB: "2",
        SPECTATOR_STALL_TIMEOUT_SECONDS: "30",
      },
    });
    const fragments = await bigFragments(56);
    await using publisher = await publisherFor(node.wsUrl, "slow");
    const fast = await Promise.all(
      [0, 1, 2].map(() => spectatorFor(node.wsUrl, "slow", { maxInitialFragments: 0 })),
    );
    const slow = await RawWebSocket.connect(node.port);
    try {
      await slow.sendText(
        `PULL:stream=slow&auth=${await pullToken("slow")}&max_initial_fragments=0`,
      );
      await spectators(node, 4);

      const sentAt: number[] = [];
      const started = performance.now();
      for (const [index, fragment] of fragments.entries()) {
        const due = started + index * 250;
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
        sentAt.push(performance.now());
        publisher.sendFragment(0.25, fragment);
        if (index === 40) slow.resume(); // after 10 s of reading nothing
      }
      publisher.send({ type: "CLOSE" });

      let worst = 0;
      for (const spectator of fast) {
        for (const [index, fragment] of fragments.entries()) {
          const received = await spectator.nextFragment(5000);
          assertEquals(received.header.seq, index);
          assert(sameBytes(received.data, fragment), `fragment ${index} byte-exact`);
          worst = Math.max(worst, received.at - sentAt[index]);
        }
        assertEquals(await spectator.nextMessage(), { type: "CLOSE" });
      }
      assertAtMost(worst, 1500, "worst delay of a fast spectator (ms)");

      assert(
        await slow.waitFor(
          (frames) =>
            frames.some((frame) => frame.opcode === 1 && decoder.decode(frame.payload) === "CLOSE"),
          20000,
        ),
        "slow spectator gets CLOSE",
      );
      const { fragments: got, texts } = readFrames(slow.frames);
      assert(
        !texts.some((text) => text.startsWith("E")),
        `no error: ${texts.filter((text) => text.startsWith("E"))}`,
      );
      assert(
        got.length < fragments.length,
        `the slow spectator skipped fragments (got ${got.length})`,
      );
      assert(got.length > 0);
      let previous = -1;
      let jumps = 0;
      for (const item of got) {
        assert(item.seq > previous, "sequence numbers increase");
        assert(
          sameBytes(item.data, fragments[item.seq]),
          `fragment ${item.seq} is whole and byte-exact`,
        );
        assertEquals(
          item.jump,
          item.seq !== previous + 1 && previous !== -1,
          `jump flag on ${item.seq} after ${previous}`,
        );
        if (item.jump) jumps++;
        previous = item.seq;
      }
      assert(jumps >= 1, "at least one jump");
      assertEquals(got.at(-1)!.seq, fragments.length - 1, "it caught up with the live edge");
    } finally {
      await slow.close();
      for (const spectator of fast) spectator.close();
    }
  });

  Deno.test(`[${transport}] a spectator that stays behind is dropped: E SLOW_SPECTATOR for a new client, nothing for an old one`, async () => {
    await using node = await startNode({
      transport,
      env: {
        SPECTATOR_MAX_LAG_SECONDS: "0.5",
        SPECTATOR_MAX_QUEUE_MB: "1",
        SPECTATOR_STALL_TIMEOUT_SECONDS: "1",
      },
    });
    const fragments = await bigFragments(30);
    await using publisher = await publisherFor(node.wsUrl, "stall");
    await using other = await spectatorFor(node.wsUrl, "stall", { maxInitialFragments: 0 });
    const pull = `PULL:stream=stall&auth=${await pullToken("stall")}&max_initial_fragments=0`;
    const slowNew = await RawWebSocket.connect(node.port);
    const slowOld = await RawWebSocket.connect(node.port);
    try {
      await slowNew.sendText(`${pull}&caps=errors`);
      await slowOld.sendText(pull);
      await spectators(node, 3);
      for (const [index, fragment] of fragments.entries()) {
        publisher.sendFragment(0.1, fragment);
        await new Promise((resolve) => setTimeout(resolve, 100));
        if (index === 29) {
          // 3 s: behind for longer than the stall timeout
          slowNew.resume();
          slowOld.resume();
        }
      }
      for (const [slow, name] of [[slowNew, "new"], [slowOld, "old"]] as const) {
        const closed = await slow.waitFor(() => slow.closed, 10000);
        assert(
          closed,
          `the node closed the slow ${name} spectator (last frames: ${
            slow.frames.slice(-3).map((frame) =>
              frame.opcode === 2 ? frame.payload.length : decoder.decode(frame.payload)
            )
          })`,
        );
        const { texts, fragments: got } = readFrames(slow.frames);
        for (const item of got) {
          assert(sameBytes(item.data, fragments[item.seq]), "every fragment it got is whole");
        }
        const ends = texts.filter((text) => !/^(OK|F|H)(:|$)/.test(text));
        if (name === "new") {
          assertEquals(ends.length, 1, `one E: ${ends}`);
          const message = parseMessage(ends[0]);
          assertEquals(message.type === "E" && message.code, "SLOW_SPECTATOR");
        } else {
          assertEquals(ends, [], "an old player is disconnected without a word, and reconnects");
          const close = slow.frames.find((frame) => frame.opcode === 8);
          assert(close !== undefined, "a WebSocket close frame");
          assertEquals(decoder.decode(close.payload.slice(2)), "SLOW_SPECTATOR", "its reason");
        }
      }
      // The other spectator got everything.
      for (let index = 0; index < fragments.length; index++) {
        assertEquals((await other.nextFragment()).header.seq, index);
      }
    } finally {
      await slowNew.close();
      await slowOld.close();
    }
  });
}
