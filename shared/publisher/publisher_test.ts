/**
 * The publisher library on a fake WebSocket: the PUSH it sends, parts paired with their bytes,
 * whole fragments for a node without parts, fatal and retried refusals, reconnection that sends
 * the newest held fragment, the start timeout, congestion, and `close`. The same library against
 * real nodes is `tests/e2e/publisher_library_test.ts`.
 */

import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { acceptNext, type FakeWebSocket, fakeWebSockets } from "../testing/fake_websocket.ts";
import { until } from "../testing/until.ts";
import {
  Publisher,
  type PublisherErrorEvent,
  type PublisherOptions,
  type PublisherState,
} from "./publisher.ts";

/** A publisher on fake sockets, its states and errors recorded. */
function setup(options: Partial<PublisherOptions> = {}) {
  const sockets = fakeWebSockets();
  const publisher = new Publisher({
    url: "ws://node/",
    streamId: "room/a",
    token: "token",
    firstSeq: 10,
    backoff: { initialMs: 5, maxMs: 10, jitter: 0 },
    WebSocket: sockets.WebSocket,
    ...options,
  });
  const states: PublisherState[] = [];
  const errors: PublisherErrorEvent[] = [];
  publisher.addEventListener("state", (event) => states.push(event.state));
  publisher.addEventListener("error", (event) => errors.push(event));
  /** The node's side of the next socket, answering `answer` (`OK` with parts by default). */
  const next = (answer: string | null = "OK:parts=1&caps=errors") =>
    acceptNext(sockets, answer ?? undefined);
  /** Closes the publisher, the node completing the closing handshake. */
  const close = async () => {
    const closing = publisher.close();
    sockets.created.at(-1)?.drop(1000);
    await closing;
  };
  return { publisher, sockets, states, errors, next, close };
}

/** What the node received after the first message: text as is, binary frames as their size. */
function received(socket: FakeWebSocket): string[] {
  return socket.frames.slice(1).map((frame) =>
    typeof frame === "string" ? frame : `[${frame.byteLength}]`
  );
}

Deno.test("the publisher pushes with parts and caps, and sends each part with its bytes", async () => {
  const { publisher, states, next } = setup();
  publisher.start();
  const socket = await next();
  await publisher.ready();
  assertEquals(socket.sent[0], "PUSH:stream=room%2Fa&auth=token&parts=1&caps=errors%2Cclock");
  assert(publisher.nodeAcceptsParts);
  publisher.sendPart({ data: new Uint8Array(188), time: 1000 });
  publisher.sendPart({ data: new Uint8Array(376), time: 1200, last: true, duration: 2 });
  assertEquals(received(socket), [
    "P:seq=10&part=0&time=1000&independent=1",
    "[188]",
    "P:seq=10&part=1&time=1200&last=1&duration=2",
    "[376]",
  ]);
  assertEquals([publisher.stats.partsSent, publisher.stats.fragmentsSent], [2, 1]);
  const closing = publisher.close();
  assertEquals(socket.sent.at(-1), "CLOSE");
  socket.drop(1000);
  await closing;
  assertEquals(states, ["connecting", "ready", "closed"]);
});

Deno.test("a node without parts gets whole fragments, parts joined", async () => {
  const { publisher, next, close } = setup();
  publisher.start();
  const socket = await next("OK");
  await publisher.ready();
  assert(!publisher.nodeAcceptsParts);
  publisher.sendPart({ data: new Uint8Array(188).fill(1), time: 5 });
  publisher.sendPart({ data: new Uint8Array(188).fill(2), last: true, duration: 1 });
  publisher.sendFragment({ data: new Uint8Array(188), duration: 1, time: 7 });
  assertEquals(received(socket), [
    "F:duration=1&seq=10&time=5",
    "[376]",
    "F:duration=1&seq=11&time=7",
    "[188]",
  ]);
  await close();
});

Deno.test("a refusal that will not pass stops the publisher; others are retried", async () => {
  const refused = setup();
  refused.publisher.start();
  await refused.next("E:code=AUTH_FAILED&message=bad+token");
  const error = await refused.publisher.ready().catch((error: Error) => error);
  assertEquals(error?.name, "AUTH_FAILED");
  assertEquals(refused.errors.map((event) => [event.code, event.fatal]), [["AUTH_FAILED", true]]);
  assertEquals(refused.states, ["connecting", "closed"]);

  const retried = setup();
  retried.publisher.start();
  await retried.next("E:code=SERVER_FULL&message=full");
  await retried.next("E:code=SOMETHING_NEW&message=later");
  await retried.next();
  await retried.publisher.ready();
  assertEquals(retried.errors.map((event) => [event.code, event.fatal]), [
    ["SERVER_FULL", false],
    ["SOMETHING_NEW", false],
  ]);
  await retried.close();
});

Deno.test("after a loss the publisher reconnects and sends the newest fragment it held", async () => {
  const { publisher, states, errors, next, close } = setup();
  publisher.start();
  const first = await next();
  await publisher.ready();
  first.drop(1006);
  await until(() => publisher.state === "reconnecting", "reconnecting");
  assertEquals(errors.at(-1)?.code, "CONNECTION_LOST");
  assertEquals(publisher.sendFragment({ data: new Uint8Array(188), duration: 1 }), "held");
  assertEquals(publisher.sendFragment({ data: new Uint8Array(376), duration: 1 }), "held");
  assertEquals(publisher.stats.fragmentsDropped, 1, "only the newest is held");
  const second = await next();
  await publisher.ready();
  assertEquals(received(second).map((frame) => frame.replace(/&time=\d+/, "")), [
    "F:duration=1&seq=11",
    "[376]",
  ]);
  assertEquals(publisher.stats.reconnects, 1);
  assertEquals(states, ["connecting", "ready", "reconnecting", "ready"]);
  await close();
});

Deno.test("no OK within startTimeoutMs is fatal UNREACHABLE, after retries", async () => {
  const started = performance.now();
  const { publisher, sockets, errors } = setup({ startTimeoutMs: 60 });
  publisher.start();
  const failed = publisher.ready().catch((error: Error) => error);
  const closed = () => publisher.state === "closed";
  while (!closed()) {
    await until(() => closed() || sockets.created.at(-1)?.readyState === 0, "an attempt");
    if (!closed()) sockets.created.at(-1)!.drop(1006);
  }
  assertEquals((await failed)?.name, "UNREACHABLE");
  assert(performance.now() - started >= 55, "not before the start timeout");
  assert(errors.filter((event) => !event.fatal).length >= 2, "retried first");
  assertEquals(errors.at(-1)?.fatal, true);
});

Deno.test("a node that does not answer within openTimeoutMs is retried with TIMEOUT", async () => {
  const { publisher, errors, next, close } = setup({ openTimeoutMs: 30 });
  publisher.start();
  await next(null);
  await until(() => errors.length === 1, "the open deadline");
  assertEquals([errors[0].code, errors[0].fatal], ["TIMEOUT", false]);
  await next();
  await publisher.ready();
  await close();
});

Deno.test("a congested socket drops a new fragment whole", async () => {
  const { publisher, next, close } = setup({ maxBufferedBytes: 1000 });
  publisher.start();
  const socket = await next();
  await publisher.ready();
  socket.bufferedAmount = 5000;
  assertEquals(publisher.sendFragment({ data: new Uint8Array(188), duration: 1 }), "dropped");
  publisher.sendPart({ data: new Uint8Array(188) });
  assertEquals(publisher.sendPart({ data: new Uint8Array(188), last: true }), "dropped");
  assertEquals(received(socket), []);
  socket.bufferedAmount = 0;
  assertEquals(publisher.sendFragment({ data: new Uint8Array(188), duration: 1 }), "sent");
  assertEquals(publisher.stats.fragmentsDropped, 2);
  await close();
});
