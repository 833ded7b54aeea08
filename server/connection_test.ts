/**
 * Connection on a recording socket, with the node's real publications and a fake token check: the
 * first message and its OK (with caps for new clients), the frame-size limit of each state, media
 * held while a PUSH is checked, a spectator that gets what is buffered then live media, what each
 * role may not send, the farewell of old and new clients, the tick's timeouts and heartbeats, and
 * shutdown.
 */

import { assert, assertEquals } from "../tests/helpers/assert.ts";
import { ErrorCode, ProtocolError } from "../shared/errors.ts";
import { BufferMemory } from "./buffer_memory.ts";
import { parseConfig } from "./config.ts";
import { Connection, CONTROL_FRAME_MAX_BYTES } from "./connection.ts";
import { Logger } from "./log.ts";
import { Metrics } from "./metrics.ts";
import { SourceChain } from "./sources/chain.ts";
import { LocalPublications } from "./sources/local.ts";
import { RecordingSocket } from "./testing/recording_socket.ts";

const request = { url: new URL("ws://node/"), headers: new Headers(), remoteAddress: "10.0.0.1" };

/** A node's parts for connections; `check` decides tokens (resolving by default). */
function node(
  env: Record<string, string> = {},
  check: () => Promise<void> = () => Promise.resolve(),
) {
  const config = parseConfig({
    PULL_SECRET: "p",
    PUSH_SECRET: "q",
    PUBLISHER_GRACE_SECONDS: "0",
    MAX_BINARY_MESSAGE_SIZE: "1000000",
    ...env,
  });
  const metrics = new Metrics();
  const publications = new LocalPublications({
    maxFragments: 3,
    memory: new BufferMemory(Infinity),
    metrics,
    log: Logger.silent(),
  });
  const forgotten: Connection[] = [];
  const context = {
    config,
    log: Logger.silent(),
    verifier: { verify: () => check() },
    publications,
    sources: new SourceChain([publications]),
    metrics,
    spectatorPolicy: { maxQueueBytes: 1 << 20, maxLagMs: 5000, stallTimeoutMs: 20_000 },
    forget: (connection: Connection) => forgotten.push(connection),
  };
  const connect = () => {
    const socket = new RecordingSocket();
    const connection = new Connection(socket, request, context);
    return { socket, connection };
  };
  return { connect, publications, forgotten };
}

/** Lets the checks of a first message (promises) run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("a publisher gets OK (with caps when it sent some), then its media reaches the stream", async () => {
  const { connect, publications } = node();
  const { socket, connection } = connect();
  assertEquals(socket.maxMessageSize, CONTROL_FRAME_MAX_BYTES, "small frames before OK");
  socket.text("PUSH:stream=room%2Fa&auth=t&parts=1&caps=errors,teleport");
  await settle();
  assertEquals(socket.sent, ["OK:parts=1&caps=errors"]);
  assertEquals(socket.maxMessageSize, 1_000_000, "media frames once it has OK");
  assertEquals([connection.role, connection.streamId], ["publisher", "room/a"]);
  socket.text("F:duration=2&seq=5");
  socket.binary(new Uint8Array(188));
  assertEquals(publications.get("room/a")?.buffered.map((f) => f.seq), [5]);
  socket.text("CLOSE");
  assertEquals(publications.get("room/a"), undefined, "CLOSE ends the stream");
  assertEquals(socket.closed, { code: 1000, reason: "stream ended" });
});

Deno.test("what arrives while a PUSH is checked is held and handled after OK, in order", async () => {
  let allow: () => void = () => {};
  const { connect, publications } = node({}, () => new Promise((resolve) => allow = resolve));
  const { socket } = connect();
  socket.text("PUSH:stream=a&auth=t");
  socket.text("F:duration=1&seq=1");
  socket.binary(new Uint8Array(188));
  await settle();
  assertEquals(socket.sent, [], "no OK yet");
  allow();
  await settle();
  assertEquals(socket.sent, ["OK"]);
  assertEquals(publications.get("a")?.buffered.map((f) => f.seq), [1]);
});

Deno.test("a spectator gets OK, the buffered fragments, then live ones; it may not send media", async () => {
  const { connect } = node();
  const publisher = connect().socket;
  publisher.text("PUSH:stream=a&auth=t");
  await settle();
  publisher.text("F:duration=1&seq=1");
  publisher.binary(new Uint8Array(10));
  const { socket, connection } = connect();
  socket.text("PULL:stream=a&auth=t&caps=errors");
  await settle();
  assertEquals(connection.role, "spectator");
  publisher.text("F:duration=1&seq=2");
  publisher.binary(new Uint8Array(20));
  assertEquals(socket.types(), ["OK", "F", "F"]);
  assertEquals(socket.sent.filter((frame) => frame instanceof Uint8Array).map((f) => f.length), [
    10,
    20,
  ]);
  socket.binary(new Uint8Array(1));
  assertEquals(socket.messages().at(-1), {
    type: "E",
    code: "PROTOCOL_ERROR",
    message: "spectators may not send binary frames",
  });
  socket.drop(1000);
  assertEquals(connection.role, "spectator");
});

Deno.test("a first message that is not PUSH or PULL, or a second one, is a protocol error", async () => {
  const { connect } = node();
  const first = connect().socket;
  first.text("H");
  assertEquals(first.types(), ["E"]);
  assertEquals(first.messages()[0], {
    type: "E",
    code: "PROTOCOL_ERROR",
    message: "the first message must be PUSH or PULL, got H",
  });
  const binary = connect().socket;
  binary.binary(new Uint8Array(1));
  assertEquals(binary.types(), ["E"]);
  const twice = connect().socket;
  twice.text("PUSH:stream=a&auth=t");
  await settle();
  twice.text("PULL:stream=a&auth=t");
  assertEquals(twice.types(), ["OK", "E"]);
});

Deno.test("a stream nobody has: STREAM_NOT_FOUND for new clients, OK then CLOSE for old ones", async () => {
  const { connect } = node();
  const fresh = connect().socket;
  fresh.text("PULL:stream=none&auth=t&caps=");
  await settle();
  const [refusal] = fresh.messages();
  assert(refusal.type === "E" && refusal.code === "STREAM_NOT_FOUND", JSON.stringify(refusal));
  const old = connect().socket;
  old.text("PULL:stream=none&auth=t");
  await settle();
  assertEquals(old.types(), ["OK", "CLOSE"]);
});

Deno.test("a refused token is told as E; a closed connection is forgotten", async () => {
  const { connect, forgotten } = node(
    {},
    () => Promise.reject(new ProtocolError(ErrorCode.AUTH_FAILED, "bad token")),
  );
  const { socket, connection } = connect();
  socket.text("PUSH:stream=a&auth=x");
  await settle();
  assertEquals(socket.messages(), [{ type: "E", code: "AUTH_FAILED", message: "bad token" }]);
  socket.drop(1000);
  assertEquals(forgotten, [connection]);
});

Deno.test("the tick: the first-message deadline, heartbeats, silence, and a close that hangs", async () => {
  const { connect } = node({
    FIRST_MESSAGE_TIMEOUT_SECONDS: "30",
    HEARTBEAT_INTERVAL_SECONDS: "30",
  });
  const start = performance.now();
  const quiet = connect();
  quiet.connection.tick(start + 31_000);
  assertEquals(quiet.socket.messages(), [{
    type: "E",
    code: "TIMEOUT",
    message: "no PUSH or PULL within 30 s",
  }]);
  const closing = performance.now();
  quiet.connection.tick(closing + 4000);
  assert(!quiet.socket.terminated, "the close handshake has 5 s");
  quiet.connection.tick(closing + 6000);
  assert(quiet.socket.terminated, "then the socket is dropped");

  const publisher = connect();
  publisher.socket.text("PUSH:stream=h&auth=t");
  await settle();
  publisher.connection.tick(performance.now() + 10_000);
  assertEquals(publisher.socket.types(), ["OK"]);
  publisher.connection.tick(performance.now() + 31_000);
  assertEquals(publisher.socket.types(), ["OK", "H"], "H after 30 s without sending");
  publisher.connection.tick(performance.now() + 61_000);
  assertEquals(publisher.socket.messages().at(-1), {
    type: "E",
    code: "TIMEOUT",
    message: "nothing received for 60 s",
  });
});

Deno.test("shutdown tells a publisher SHUTTING_DOWN; a publisher that vanishes ends its stream", async () => {
  const { connect, publications } = node();
  const leaving = connect();
  leaving.socket.text("PUSH:stream=a&auth=t");
  await settle();
  leaving.connection.shutdown();
  assertEquals(leaving.socket.messages().at(-1), {
    type: "E",
    code: "SHUTTING_DOWN",
    message: "the node is shutting down; reconnect",
  });
  assertEquals(leaving.socket.closed?.code, 1001);

  const vanishing = connect();
  vanishing.socket.text("PUSH:stream=b&auth=t");
  await settle();
  const stream = publications.get("b")!;
  vanishing.socket.drop(1006);
  assertEquals(stream.ended?.kind === "failed" && stream.ended.code, "PUBLISHER_LOST");
});
