/**
 * The `clock` capability on real nodes and raw WebSockets: the origin stamps `at` on every
 * fragment and part it receives from a publisher, spectators granted `clock` get it (and `delay`
 * on `OK`, and answers to `T`), others see exactly what they saw before; through two relay hops
 * `at` is the origin's, unchanged.
 */

import { assert, assertEquals } from "../helpers/assert.ts";
import { publisherFor, spectatorFor, type TestClient } from "../helpers/client.ts";
import { splitIntoParts, tsFragments } from "../helpers/media.ts";
import { startNode } from "../helpers/node_process.ts";
import type { Message } from "../../shared/protocol.ts";

/** `seq.part` (or `seq` for a whole fragment) and `at` of every F/P received so far, in order. */
function stamps(client: TestClient): { id: string; at: number | undefined }[] {
  return client.received.flatMap((item) => {
    if (item.kind !== "text") return [];
    const message = item.message;
    if (message.type === "F") return [{ id: `${message.seq}`, at: message.at }];
    if (message.type === "P") return [{ id: `${message.seq}.${message.part}`, at: message.at }];
    return [];
  });
}

/** The raw text frames received so far. */
function texts(client: TestClient): string[] {
  return client.received.flatMap((item) => item.kind === "text" ? [item.raw] : []);
}

/** Waits until `client` has received `count` F/P messages (and their bytes). */
async function mediaCount(client: TestClient, count: number): Promise<void> {
  let seen = 0;
  while (seen < count) {
    const item = await client.next(10_000);
    if (item.kind === "binary") seen++;
  }
}

/** Sends `T:id=<id>` and returns the answer and the round trip's bounds on this machine's clock. */
async function sample(client: TestClient, id: number): Promise<{ answer: Message; sent: number }> {
  const sent = Date.now();
  client.send({ type: "T", id });
  return { answer: await client.nextMessage(), sent };
}

Deno.test("clock: at from the origin through two relay hops, delay on OK, T answered; old clients see none of it", async () => {
  const relay = { RELAY_FROM_ENABLED: "YES", RELAY_INACTIVITY_PERIOD_SEC: "1" };
  await using a = await startNode({ env: { NODE_ID: "A", PLAYER_TARGET_DELAY_SECONDS: "0.3" } });
  await using b = await startNode({ env: { NODE_ID: "B", ...relay, RELAY_FROM_URL: a.wsUrl } });
  await using c = await startNode({ env: { NODE_ID: "C", ...relay, RELAY_FROM_URL: b.wsUrl } });
  const media = await tsFragments({ seconds: 4, fragmentSeconds: 1 });
  const start = Date.now();
  await using publisher = await publisherFor(a.wsUrl, "clocked", { parts: true });
  publisher.sendFragment(media[0].duration, media[0].data, { seq: 0, at: 1 });

  await using clockA = await spectatorFor(a.wsUrl, "clocked", { parts: true });
  await using clockC = await spectatorFor(c.wsUrl, "clocked", { parts: true });
  await using wholeC = await spectatorFor(c.wsUrl, "clocked", { caps: ["clock"] });
  await using newer = await spectatorFor(a.wsUrl, "clocked", { parts: true, caps: ["errors"] });
  await using old = await spectatorFor(a.wsUrl, "clocked", { parts: true, old: true });
  await using oldC = await spectatorFor(c.wsUrl, "clocked", { old: true });

  assertEquals(texts(clockA)[0], "OK:parts=1&caps=errors%2Cclock&delay=0.3", "A's own delay");
  assertEquals(texts(clockC)[0], "OK:parts=1&caps=errors%2Cclock&delay=0.1", "C's default");
  assertEquals(texts(newer)[0], "OK:parts=1&caps=errors");
  assertEquals(texts(old)[0], "OK:parts=1");
  assertEquals(texts(oldC)[0], "OK");

  for (const [seq, fragment] of media.entries()) {
    if (seq === 0) continue;
    for (const [part, data] of splitIntoParts(fragment.data, 3).entries()) {
      const last = part === 2;
      publisher.send({
        type: "P",
        seq,
        part,
        last: last || undefined,
        duration: last ? fragment.duration : undefined,
      });
      publisher.sendBinary(data);
    }
  }
  // The buffered fragment, then 3 fragments of 3 parts (or 3 whole fragments).
  await Promise.all([clockA, clockC, newer, old].map((s) => mediaCount(s, 1 + 9)));
  await Promise.all([wholeC, oldC].map((s) => mediaCount(s, 1 + 3)));
  const end = Date.now();

  const origin = stamps(clockA);
  assertEquals(origin.map((s) => s.id), [
    "0",
    "1.0",
    "1.1",
    "1.2",
    "2.0",
    "2.1",
    "2.2",
    "3.0",
    "3.1",
    "3.2",
  ]);
  let previous = 0;
  for (const { id, at } of origin) {
    assert(at !== undefined && at >= start && at <= end, `${id}: at=${at} on the node's clock`);
    assert(at >= previous, `${id}: at=${at} after ${previous}`);
    previous = at;
  }
  assertEquals(stamps(clockC), origin, "two relay hops keep the origin's at");
  assertEquals(
    stamps(wholeC),
    origin.filter((s) => !s.id.includes(".") || s.id.endsWith(".0")).map((s) => ({
      id: s.id.split(".")[0],
      at: s.at,
    })),
    "a fragment assembled from parts carries the at of its first part",
  );
  for (const spectator of [newer, old, oldC]) {
    assert(texts(spectator).every((text) => !/[:&]at=/.test(text)), texts(spectator).join("\n"));
  }

  // T round trips, on the origin and on the edge (the stream is quiet now).
  for (const [spectator, id] of [[clockA, 5], [clockC, 2 ** 53 - 1]] as const) {
    const { answer, sent } = await sample(spectator, id);
    assert(answer.type === "T" && answer.id === id, JSON.stringify(answer));
    assert(answer.now! >= sent && answer.now! <= Date.now(), `now=${answer.now}`);
  }

  // A T from a client without clock is an unknown message: no answer (its CLOSE is handled after).
  for (const spectator of [newer, old]) {
    spectator.send("T:id=9");
    spectator.send({ type: "CLOSE" });
    await spectator.waitClosed();
    assert(!texts(spectator).some((text) => text.startsWith("T")), texts(spectator).join("\n"));
  }
});
