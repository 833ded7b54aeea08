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

Deno.test("clock: at and delay only for clients granted clock, the same at for every one of them", async () => {
  const { connect } = node({ PLAYER_TARGET_DELAY_SECONDS: "0.4" });
  const publisher = connect().socket;
  publisher.text("PUSH:stream=a&auth=t&parts=1&caps=errors,clock");
  await settle();
  assertEquals(publisher.sent, ["OK:parts=1&caps=errors%2Cclock"], "no delay on a PUSH's OK");
  const clocked = connect().socket;
  clocked.text("PULL:stream=a&auth=t&parts=1&caps=clock");
  const newer = connect().socket;
  newer.text("PULL:stream=a&auth=t&parts=1&caps=errors");
  const old = connect().socket;
  old.text("PULL:stream=a&auth=t&parts=1");
  await settle();
  assertEquals(clocked.sent, ["OK:parts=1&caps=clock&delay=0.4"]);
  assertEquals(newer.sent, ["OK:parts=1&caps=errors"]);
  assertEquals(old.sent, ["OK:parts=1"]);
  const before = Date.now();
  publisher.text("P:seq=1&part=0&at=5"); // a publisher's own at is replaced by the node's
  publisher.binary(new Uint8Array(188));
  publisher.text("P:seq=1&part=1&last=1&duration=1");
  publisher.binary(new Uint8Array(188));
  publisher.text("F:duration=1&seq=2&time=7");
  publisher.binary(new Uint8Array(188));
  const after = Date.now();
  const stamps = clocked.messages().slice(1).map((m) =>
    m.type === "P" || m.type === "F" ? m.at ?? -1 : -1
  );
  assertEquals(stamps.length, 3);
  for (const at of stamps) assert(at >= before && at <= after, `${at} on the node's clock`);
  assert(stamps[1] >= stamps[0] && stamps[2] >= stamps[1], "monotonic");
  for (const socket of [newer, old]) {
    assertEquals(socket.types(), ["OK", "P", "P", "F"]);
    const texts = socket.sent.filter((item): item is string => typeof item === "string");
    assert(texts.every((text) => !text.includes("at=")), texts.join(" "));
  }
  const late = connect().socket;
  late.text("PULL:stream=a&auth=t&caps=clock");
  await settle();
  const buffered = late.messages().filter((m) => m.type === "F").map((m) => m.type === "F" && m.at);
  assertEquals(
    buffered,
    [stamps[0], stamps[2]],
    "a fragment made of parts carries its first part's at",
  );
});

Deno.test("clock: T is answered at once for clients granted clock, at most 20 a second", async () => {
  const { connect } = node();
  connect().socket.text("PUSH:stream=a&auth=t");
  await settle();
  const { socket } = connect();
  socket.text("PULL:stream=a&auth=t&caps=clock");
  await settle();
  const before = Date.now();
  socket.text("T:id=42");
  assertEquals(socket.messages().at(-1)?.type, "T");
  const answer = socket.messages().at(-1)!;
  assert(answer.type === "T" && answer.id === 42);
  assert(answer.now! >= before && answer.now! <= Date.now());
  for (let index = 0; index < 40; index++) socket.text(`T:id=${index + 1}`);
  const answered = socket.types().filter((type) => type === "T").length;
  assert(answered >= 20 && answered < 41, `${answered} answers: the rest ignored`);
  assertEquals(socket.closed, null, "past the limit T is ignored, not an error");
});

Deno.test("clock: T from a client not granted clock is an unknown message, malformed or not", async () => {
  const { connect } = node();
  connect().socket.text("PUSH:stream=a&auth=t");
  await settle();
  const { socket } = connect();
  socket.text("PULL:stream=a&auth=t&caps=errors");
  await settle();
  socket.text("T:id=1");
  socket.text("T:id=0");
  socket.text("T");
  assertEquals(socket.types(), ["OK"], "no answer, no error");
  for (let index = 0; index < 40; index++) socket.text("T:id=1");
  assertEquals(socket.messages().at(-1)?.type, "E", "charged like any unknown message");
  assertEquals((socket.messages().at(-1) as { code: string }).code, "PROTOCOL_ERROR");
  const clocked = connect().socket;
  clocked.text("PULL:stream=a&auth=t&caps=clock");
  await settle();
  clocked.text("T:id=0");
  assertEquals(clocked.messages().at(-1), {
    type: "E",
    code: "INVALID_MESSAGE",
    message: "T: 'id' must be a whole number from 1 to 9007199254740991, got 0",
  });
});
