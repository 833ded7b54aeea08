/**
 * PullConnection on a fake WebSocket: the PULL it sends, chunks from fragments and parts, resume
 * with `after=` and the `resumed` mark after a loss, which `E` codes are retried and which end it,
 * the strict pairing rule, `CLOSE`, and the give-up timeout across retries.
 */

import { assert, assertEquals } from "../tests/helpers/assert.ts";
import { Backoff } from "../shared/backoff.ts";
import { acceptNext, fakeWebSockets } from "../shared/testing/fake_websocket.ts";
import { until } from "../shared/testing/until.ts";
import { type MediaChunk, PullConnection, type PullConnectionOptions } from "./connection.ts";
import type { PlayerError, ReconnectInfo } from "./events.ts";

/** A connection on fake sockets, its events recorded. */
function setup(options: Partial<PullConnectionOptions> = {}) {
  const sockets = fakeWebSockets();
  const chunks: MediaChunk[] = [];
  const reconnects: ReconnectInfo[] = [];
  const accepted: boolean[] = [];
  const state = { failed: undefined as PlayerError | undefined, ended: false };
  const connection = new PullConnection({
    url: "ws://node/",
    streamId: "room/a",
    authToken: "token",
    backoff: new Backoff({ initialMs: 5, maxMs: 10, jitter: 0 }),
    WebSocket: sockets.WebSocket,
    ...options,
  }, {
    media: (chunk) => chunks.push(chunk),
    ended: () => state.ended = true,
    failed: (error) => state.failed = error,
    accepted: (parts) => accepted.push(parts),
    reconnect: (info) => reconnects.push(info),
  });
  /** The newest socket, opened and answered `OK` (with parts). */
  const accept = async (ok = "OK:parts=1") => {
    const socket = await acceptNext(sockets, ok);
    await until(() => connection.counters.parts || ok === "OK", "OK handled");
    return socket;
  };
  return { connection, sockets, chunks, reconnects, accepted, state, accept };
}

Deno.test("the player pulls with parts and caps, and turns F and P into chunks", async () => {
  const { connection, chunks, accepted, accept } = setup({ maxInitialFragments: 1 });
  connection.start();
  const socket = await accept();
  assertEquals(socket.sent, [
    "PULL:stream=room%2Fa&auth=token&max_initial_fragments=1&parts=1&caps=errors%2Cclock",
  ]);
  assertEquals(accepted, [true]);
  socket.text("F:duration=2&seq=7&time=1000&jump=1");
  socket.binary(new Uint8Array(188));
  socket.text("P:seq=8&part=0&independent=1&discontinuity=1");
  socket.binary(new Uint8Array(376));
  socket.text("P:seq=8&part=1&independent=1&last=1&duration=2");
  socket.binary(new Uint8Array(188));
  assertEquals(
    chunks.map((
      c,
    ) => [c.kind, c.seq, c.part, c.starts, c.independent, c.ends, c.jump, c.discontinuity]),
    [
      ["fragment", 7, undefined, true, true, true, true, false],
      ["part", 8, 0, true, true, false, false, true],
      ["part", 8, 1, false, true, true, false, false],
    ],
  );
  assertEquals(chunks[0].time, 1000);
  assertEquals(connection.counters.bytes, 752);
  assertEquals(connection.counters.lastSeq, 8);
  connection.destroy();
  assertEquals(socket.closedWith?.code, 1000);
  assert(!connection.connected);
});

Deno.test("after a loss the player pulls again after the last complete fragment, marked resumed", async () => {
  const { connection, chunks, reconnects, accept } = setup();
  connection.start();
  const first = await accept();
  first.text("F:duration=1&seq=3");
  first.binary(new Uint8Array(188));
  first.text("P:seq=4&part=0");
  first.binary(new Uint8Array(188));
  first.drop(1006);
  await until(() => reconnects.length === 1, "a reconnection");
  assertEquals(reconnects[0], { attempt: 1, delayMs: 5, reason: "connection closed (code 1006)" });
  const second = await accept();
  assert(second.sent[0].includes("after=3"), second.sent[0]);
  second.text("P:seq=4&part=0");
  second.binary(new Uint8Array(188));
  assertEquals(chunks.map((chunk) => chunk.resumed), [false, false, true]);
  assertEquals(connection.counters.reconnects, 1);
  connection.destroy();
});

Deno.test("retriable E codes are retried, others end the player; a second F before its binary is a loss", async () => {
  const retried = setup();
  retried.connection.start();
  const socket = await retried.accept();
  socket.text("E:code=SHUTTING_DOWN&message=bye");
  await until(() => retried.reconnects.length === 1, "a reconnection");
  assertEquals(retried.reconnects[0].reason, "SHUTTING_DOWN: bye");
  const again = await retried.accept();
  again.text("F:duration=1");
  again.text("F:duration=1");
  await until(() => retried.reconnects.length === 2, "a reconnection after a protocol error");
  assert(retried.reconnects[1].reason.startsWith("protocol error from the node"));
  retried.connection.destroy();

  const refused = setup();
  refused.connection.start();
  await until(() => refused.sockets.created.length === 1, "a socket");
  refused.sockets.created[0].open();
  refused.sockets.created[0].text("E:code=AUTH_FAILED&message=bad+token");
  await until(() => refused.state.failed !== undefined, "the end");
  assertEquals([refused.state.failed!.code, refused.state.failed!.message], [
    "AUTH_FAILED",
    "bad token",
  ]);
  assertEquals(refused.reconnects, []);
  assert(!refused.connection.connected);
});

Deno.test("CLOSE ends the player; no media within timeoutMs across retries gives up with TIMEOUT", async () => {
  const closing = setup();
  closing.connection.start();
  (await closing.accept()).text("CLOSE");
  await until(() => closing.state.ended, "ended");
  assert(!closing.connection.connected);

  const started = performance.now();
  const missing = setup({ timeoutMs: 60 });
  missing.connection.start();
  for (let attempt = 0; missing.state.failed === undefined && attempt < 50; attempt++) {
    await until(
      () => missing.state.failed !== undefined || missing.sockets.created.at(-1)?.readyState === 0,
      "an attempt",
    );
    if (missing.state.failed !== undefined) break;
    const socket = missing.sockets.created.at(-1)!;
    socket.open();
    socket.text("E:code=STREAM_NOT_FOUND&message=no");
    await until(() => socket.readyState === 3, "refused");
  }
  await until(() => missing.state.failed !== undefined, "TIMEOUT", 3000);
  assert(performance.now() - started >= 55, "not before the timeout");
  assertEquals(missing.state.failed!.code, "TIMEOUT");
  assert(missing.state.failed!.message.includes("STREAM_NOT_FOUND"), missing.state.failed!.message);
  assert(missing.reconnects.length >= 2, `${missing.reconnects.length} retries`);
});

Deno.test("a node that grants clock: T round trips give its clock, at and delay are read", async () => {
  const { connection, chunks, accept } = setup();
  connection.start();
  const socket = await accept("OK:parts=1&caps=errors%2Cclock&delay=0.15");
  assertEquals(connection.counters.clock, true);
  assertEquals(connection.counters.nodeDelay, 0.15);
  await until(() => socket.sent.some((text) => text.startsWith("T:id=")), "a T sent");
  const ask = socket.sent.find((text) => text.startsWith("T:id="))!;
  const id = Number(ask.slice("T:id=".length));
  const nodeAhead = 60_000;
  socket.text(`T:id=${id}&now=${performance.timeOrigin + performance.now() + nodeAhead}`);
  const nodeNow = connection.nodeNow();
  assert(nodeNow !== undefined, "the offset is known after one answer");
  const error = nodeNow - (performance.timeOrigin + performance.now()) - nodeAhead;
  assert(Math.abs(error) < 50, `offset off by ${error} ms`);
  socket.text("P:seq=1&part=0&independent=1&at=1700000000123");
  socket.binary(new Uint8Array(188));
  assertEquals(chunks[0].at, 1700000000123);
  connection.destroy();
});

Deno.test("an old node (no clock granted): no T is sent, no node clock", async () => {
  const { connection, accept } = setup();
  connection.start();
  const socket = await accept("OK:parts=1");
  socket.text("P:seq=1&part=0&independent=1");
  socket.binary(new Uint8Array(188));
  await new Promise((resolve) => setTimeout(resolve, 60));
  assertEquals(socket.sent.filter((text) => text.startsWith("T:")), []);
  assertEquals([connection.counters.clock, connection.nodeNow()], [false, undefined]);
  connection.destroy();
});
