/**
 * LocalPublications with a publisher grace: a vanished publisher leaves the stream live (the
 * fragment it left half-made is dropped whole), a `PUSH` within the grace continues it with the
 * same spectators and sequence numbers and a discontinuity, the grace running out ends it with
 * `PUBLISHER_LOST`, a takeover elsewhere ends it with `STREAM_MOVED`, and without a grace a lost
 * publisher ends the stream at once. The spectator is a recorder at the stream's seam.
 */

import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { waitForValue } from "../../tests/helpers/wait.ts";
import { BufferMemory } from "../buffer_memory.ts";
import { Logger } from "../log.ts";
import { Metrics } from "../metrics.ts";
import { RecordingSubscriber } from "../testing/recording_subscriber.ts";
import { LocalPublications } from "./local.ts";

function setup(graceMs: number) {
  const metrics = new Metrics();
  const memory = new BufferMemory(Infinity);
  const publications = new LocalPublications({
    maxFragments: 4,
    memory,
    metrics,
    log: Logger.silent(),
    graceMs,
  });
  const events: string[] = [];
  for (const type of ["publish", "unpublish", "vacant"]) {
    publications.addEventListener(type, (event) => {
      events.push(`${type} ${(event as CustomEvent<string>).detail}`);
    });
  }
  const graces = async (event: string) =>
    (await metrics.publisherGraces.get()).values.find((value) => value.labels.event === event)
      ?.value;
  return { publications, memory, events, graces };
}

const handle = () => {
  const publisher = { replacedCount: 0, replaced() {} };
  publisher.replaced = () => publisher.replacedCount++;
  return publisher;
};
const bytes = (size: number) => new Uint8Array(size).fill(7);

Deno.test("a publisher back within the grace continues the stream for the same spectators", async () => {
  const { publications, memory, events, graces } = setup(60_000);
  const first = handle();
  const stream = publications.publish("s", first);
  const spectator = new RecordingSubscriber();
  stream.attach(spectator);
  stream.pushFragment({ type: "F", duration: 1, seq: 10 }, bytes(10));
  stream.pushPart({ type: "P", seq: 11, part: 0 }, bytes(5)); // half a fragment, then gone
  publications.vanish("s", first, "connection lost");

  assert(publications.isVacant("s"), "waiting for the publisher");
  assertEquals(publications.get("s"), stream, "the stream stays pullable");
  assertEquals(spectator.ends, [], "spectators stay");
  assertEquals(spectator.aborted, [11], "the half-sent fragment is dropped");
  assertEquals(memory.used, 10, "only the complete fragment stays buffered");
  assertEquals(await graces("entered"), 1);

  const second = handle();
  assertEquals(publications.publish("s", second), stream, "the same stream goes on");
  assertEquals(first.replacedCount, 0, "a vanished publisher is not told anything");
  assert(!publications.isVacant("s"));
  stream.pushFragment({ type: "F", duration: 1, seq: 12 }, bytes(10));
  const resumed = spectator.fragments.at(-1)!;
  assertEquals([resumed.seq, resumed.info.discontinuity], [12, true]);
  assertEquals(await graces("resumed"), 1);
  assertEquals(events, ["publish s", "vacant s"], "no unpublish: the registry entry stays");

  publications.unpublish("s", second, { kind: "closed" });
  assertEquals(spectator.ends, [{ kind: "closed" }]);
  assertEquals(memory.used, 0);
});

Deno.test("the grace running out ends the stream with PUBLISHER_LOST; a later PUSH starts again", async () => {
  const { publications, events, graces } = setup(50);
  const first = handle();
  const stream = publications.publish("s", first);
  stream.pushFragment({ type: "F", duration: 1, seq: 4 }, bytes(10));
  const spectator = new RecordingSubscriber();
  stream.attach(spectator);
  publications.vanish("s", first, "idle");
  await waitForValue(() => Promise.resolve(spectator.ends.length), 1, 2000);
  const end = spectator.ends[0];
  assert(end.kind === "failed" && end.code === "PUBLISHER_LOST", JSON.stringify(end));
  assert(end.message.includes("did not come back within 0.1 s"), end.message);
  assertEquals(publications.get("s"), undefined);
  assertEquals(await graces("expired"), 1);
  assertEquals(events, ["publish s", "vacant s", "unpublish s"]);
  const again = publications.publish("s", handle());
  assert(again !== stream && again.ended === null, "a new stream");
  assertEquals(again.nextSeq, 5, "numbering continues from the ended stream");
});

Deno.test("a takeover on another node ends the waiting stream with STREAM_MOVED", async () => {
  const { publications, graces } = setup(60_000);
  const first = handle();
  const stream = publications.publish("s", first);
  const spectator = new RecordingSubscriber();
  stream.attach(spectator);
  publications.moved("s", "ws://b/"); // not in grace: ignored
  assertEquals(spectator.ends, []);
  publications.vanish("s", first, "connection lost");
  publications.moved("s", "ws://b/");
  assertEquals(spectator.ends.map((end) => end.kind === "failed" && end.code), ["STREAM_MOVED"]);
  assertEquals(await graces("moved"), 1);
  assertEquals(await graces("expired"), 0);
});

Deno.test("without a grace a lost publisher ends the stream at once", async () => {
  const { publications, graces } = setup(0);
  const first = handle();
  const stream = publications.publish("s", first);
  publications.vanish("s", first, "connection lost");
  assert(stream.ended?.kind === "failed" && stream.ended.code === "PUBLISHER_LOST");
  assertEquals(await graces("entered"), 0);
});

Deno.test("a replaced publisher that vanishes ends nothing; endAll ends streams in grace", () => {
  const { publications } = setup(60_000);
  const first = handle();
  const stream = publications.publish("s", first);
  const second = handle();
  publications.publish("s", second);
  assertEquals(first.replacedCount, 1);
  publications.vanish("s", first, "closed after PUBLISHER_REPLACED");
  assert(!publications.isVacant("s"), "the replaced one does not hold the stream");
  publications.vanish("s", second, "connection lost");
  publications.endAll({ kind: "failed", code: "SHUTTING_DOWN", message: "bye" });
  assert(stream.ended?.kind === "failed" && stream.ended.code === "SHUTTING_DOWN");
  assertEquals(publications.streamIds, []);
});
