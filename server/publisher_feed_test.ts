/**
 * PublisherFeed with the node's real publications: F and P paired with their bytes and fed to the
 * stream, what a publisher may not send, CLOSE, a broken protocol (the end) against a lost
 * connection (the grace), and a takeover by another PUSH.
 */

import { assert, assertEquals, assertThrows } from "../tests/helpers/assert.ts";
import { ProtocolError } from "../shared/errors.ts";
import { BufferMemory } from "./buffer_memory.ts";
import { Logger } from "./log.ts";
import { Metrics } from "./metrics.ts";
import { PublisherFeed } from "./publisher_feed.ts";
import { LocalPublications } from "./sources/local.ts";

function setup(graceMs = 0) {
  const publications = new LocalPublications({
    maxFragments: 4,
    memory: new BufferMemory(Infinity),
    metrics: new Metrics(),
    log: Logger.silent(),
    graceMs,
  });
  const told: string[] = [];
  const feed = () =>
    new PublisherFeed({
      streamId: "s",
      publications,
      fail: (code) => told.push(code),
      done: () => told.push("done"),
    });
  return { publications, told, feed };
}

Deno.test("F and P are paired with their bytes and fed to the stream", () => {
  const { publications, feed } = setup();
  const publisher = feed();
  publisher.handleText({ type: "F", duration: 1, seq: 4 });
  publisher.handleBinary(new Uint8Array(188));
  publisher.handleText({ type: "H" });
  publisher.handleText({ type: "P", seq: 5, part: 0 });
  publisher.handleBinary(new Uint8Array(188));
  publisher.handleText({ type: "P", seq: 5, part: 1, last: true, duration: 1 });
  publisher.handleBinary(new Uint8Array(188));
  const stream = publications.get("s")!;
  assertEquals(stream.buffered.map((f) => [f.seq, f.data.byteLength]), [[4, 188], [5, 376]]);
  assertEquals([publisher.kind, publisher.sentBytes], ["publisher", 0]);
});

Deno.test("a binary without F, a second F before its binary, or a PULL are protocol errors", () => {
  const { feed } = setup();
  assertThrows(() => feed().handleBinary(new Uint8Array(1)), ProtocolError);
  const twice = feed();
  twice.handleText({ type: "F", duration: 1 });
  assertThrows(() => twice.handleText({ type: "F", duration: 1 }), ProtocolError);
  assertThrows(() => feed().handleText({ type: "PULL", stream: "s", auth: "" }), ProtocolError);
});

Deno.test("CLOSE ends the stream cleanly; a broken protocol ends it with PUBLISHER_LOST", () => {
  const closing = setup();
  const publisher = closing.feed();
  const stream = closing.publications.get("s")!;
  publisher.handleText({ type: "CLOSE" });
  assertEquals(stream.ended, { kind: "closed" });
  assertEquals(closing.told, ["done"]);
  publisher.handleText({ type: "F", duration: 1 }); // after the end: ignored

  const broken = setup(60_000);
  const encoder = broken.feed();
  const lost = broken.publications.get("s")!;
  encoder.protocolBroken("a binary frame without F");
  assert(lost.ended?.kind === "failed" && lost.ended.code === "PUBLISHER_LOST", "no grace");
  assertEquals(broken.publications.get("s"), undefined);
});

Deno.test("a lost connection leaves the stream waiting; a new PUSH takes it over", () => {
  const { publications, feed, told } = setup(60_000);
  const first = feed();
  const stream = publications.get("s")!;
  first.connectionClosed("connection closed, code 1006");
  assert(publications.isVacant("s"), "in grace");
  assertEquals(stream.ended, null);
  const second = feed();
  assertEquals(publications.get("s"), stream, "the same stream goes on");
  const third = feed();
  assertEquals(told, ["PUBLISHER_REPLACED"], "the second publisher is replaced by the third");
  second.handleText({ type: "F", duration: 1 });
  third.connectionClosed("gone");
  publications.endAll({ kind: "closed" });
});
