/**
 * Frame-level parts end to end: the cutter's default (a part per video frame, out at the end of
 * the muxer's write) through the publisher library to an origin and two relay hops; parts
 * spectators on the far edge get every part byte-exact as it was made, whole-fragment and old
 * spectators the same fragments as before; an old publisher (whole fragments) and one of 200 ms
 * parts in the same fleet still reach parts spectators as they made them.
 */

import { assert, assertEquals } from "../helpers/assert.ts";
import { publisherFor, spectatorFor, type TestClient } from "../helpers/client.ts";
import { sameBytes } from "../helpers/media.ts";
import { startNode, TEST_SECRETS } from "../helpers/node_process.ts";
import { muxerWrites, tsStream } from "../helpers/ts_stream.ts";
import { concatBytes } from "../../shared/mpegts/packet.ts";
import { TsCutter, type TsCutterOptions, type TsPart } from "../../shared/mpegts/cutter.ts";
import { Publisher } from "../../shared/publisher/publisher.ts";
import type { Message } from "../../shared/protocol.ts";

type Media = { header: Extract<Message, { type: "F" | "P" }>; data: Uint8Array };

/** The next `F` or `P` and its bytes. */
async function nextMedia(client: TestClient): Promise<Media> {
  const header = await client.nextMessage(10_000);
  if (header.type !== "F" && header.type !== "P") {
    throw new Error(`expected F or P, got ${JSON.stringify(header)}`);
  }
  const body = await client.next(10_000);
  if (body.kind !== "binary") throw new Error("expected the binary frame");
  return { header, data: body.data };
}

/** Reads media until `count` fragments are complete (an `F`, or a last `P`, each). */
async function mediaUntil(client: TestClient, count: number): Promise<Media[]> {
  const out: Media[] = [];
  while (count > 0) {
    const media = await nextMedia(client);
    out.push(media);
    if (media.header.type === "F" || media.header.last) count--;
  }
  return out;
}

/** Cuts ffmpeg's stream as it comes from the muxer, in parts of `options`. */
async function cutParts(options: TsCutterOptions): Promise<TsPart[]> {
  const cutter = new TsCutter({ fragmentDuration: 1, ...options });
  const parts: TsPart[] = [];
  for (const write of muxerWrites(await tsStream({ seconds: 4, gopSeconds: 1 }))) {
    parts.push(...cutter.push(write));
  }
  parts.push(...cutter.flush());
  return parts;
}

/** Publishes `parts` with the publisher library, fragment 0 first, then the rest on `go`. */
async function publishParts(url: string, streamId: string, parts: TsPart[]) {
  const publisher = new Publisher({ url, streamId, secret: TEST_SECRETS.PUSH_SECRET });
  publisher.start();
  await publisher.ready();
  const send = (part: TsPart) =>
    publisher.sendPart({
      data: part.data,
      time: part.time,
      independent: part.independent,
      last: part.last,
      duration: part.duration,
    });
  const first = parts.findIndex((part) => part.last) + 1;
  parts.slice(0, first).forEach(send);
  return {
    publisher,
    rest: () => parts.slice(first).forEach(send),
    [Symbol.asyncDispose]: () => publisher.close(),
  };
}

Deno.test("frame-level parts through two relay hops, with old publishers and spectators in the mix", async (t) => {
  const relay = { RELAY_FROM_ENABLED: "YES", RELAY_INACTIVITY_PERIOD_SEC: "1" };
  await using a = await startNode({ env: { NODE_ID: "A" } });
  await using b = await startNode({ env: { NODE_ID: "B", ...relay, RELAY_FROM_URL: a.wsUrl } });
  await using c = await startNode({ env: { NODE_ID: "C", ...relay, RELAY_FROM_URL: b.wsUrl } });

  await t.step(
    "a part per frame, byte-exact on the far edge; whole fragments unchanged",
    async () => {
      const parts = await cutParts({}); // the default: "frame"
      const fragments = Math.max(...parts.map((part) => part.fragment)) + 1;
      assert(parts.length > fragments * 30, `${parts.length} parts for ${fragments} fragments`);
      await using source = await publishParts(a.wsUrl, "frames", parts);
      await using edgeParts = await spectatorFor(c.wsUrl, "frames", { parts: true });
      await using edgeWhole = await spectatorFor(c.wsUrl, "frames");
      await using edgeOld = await spectatorFor(c.wsUrl, "frames", { old: true, parts: true });
      await using originOld = await spectatorFor(a.wsUrl, "frames", { old: true });
      const spectators = [edgeParts, edgeWhole, edgeOld, originOld];
      // Fragment 0 was buffered before they joined: it comes whole to everyone.
      for (const spectator of spectators) {
        const [first] = await mediaUntil(spectator, 1);
        assertEquals(first.header.type, "F");
      }
      source.rest();
      const live = parts.filter((part) => part.fragment > 0);
      for (const spectator of [edgeParts, edgeOld]) {
        const received = await mediaUntil(spectator, fragments - 1);
        assertEquals(received.length, live.length, "every part, none merged or split");
        for (const [index, { header, data }] of received.entries()) {
          const made = live[index];
          assert(header.type === "P", `part ${index} is a P`);
          assertEquals([header.part, header.independent ?? false, header.last ?? false], [
            made.index,
            made.independent,
            made.last,
          ]);
          assert(sameBytes(data, made.data), `part ${made.fragment}.${made.index} byte-exact`);
        }
      }
      for (const spectator of [edgeWhole, originOld]) {
        const received = await mediaUntil(spectator, fragments - 1);
        assertEquals(received.length, fragments - 1);
        for (const [index, { header, data }] of received.entries()) {
          assert(header.type === "F", "whole fragments as before");
          const own = live.filter((part) => part.fragment === index + 1);
          assert(
            sameBytes(data, concatBytes(own.map((part) => part.data))),
            `fragment ${index + 1}`,
          );
        }
      }
    },
  );

  await t.step(
    "200 ms parts and an old publisher's whole fragments, as they were made",
    async () => {
      const parts = await cutParts({ partDuration: 0.2 });
      await using source = await publishParts(a.wsUrl, "fifths", parts);
      await using edgeParts = await spectatorFor(c.wsUrl, "fifths", { parts: true });
      await mediaUntil(edgeParts, 1);
      source.rest();
      const live = parts.filter((part) => part.fragment > 0);
      const received = await mediaUntil(edgeParts, live.filter((p) => p.last).length);
      assertEquals(received.map((m) => m.data.byteLength), live.map((p) => p.data.byteLength));
      assert(received.length <= 6 * live.filter((p) => p.last).length, "about 5 parts a second");

      await using old = await publisherFor(a.wsUrl, "old", { old: true });
      const whole = concatBytes(parts.filter((part) => part.fragment === 0).map((p) => p.data));
      old.sendFragment(1, whole);
      await using oldEdge = await spectatorFor(c.wsUrl, "old", { parts: true });
      const [fragment] = await mediaUntil(oldEdge, 1);
      assert(fragment.header.type === "F" && sameBytes(fragment.data, whole), "F through two hops");
      old.sendFragment(1, whole);
      const [next] = await mediaUntil(oldEdge, 1);
      assert(next.header.type === "F" && sameBytes(next.data, whole), "live F through two hops");
    },
  );
});
