/**
 * Unit tests of the stream and the spectator queue. The socket is a recorder standing in for the
 * transport (the real sockets are covered by tests/e2e); everything above it is the real code.
 */

import { assert, assertEquals, assertThrows } from "../tests/helpers/assert.ts";
import { BufferMemory } from "./buffer_memory.ts";
import { Logger } from "./log.ts";
import { Metrics } from "./metrics.ts";
import { Spectator } from "./spectator.ts";
import { Stream } from "./stream.ts";
import type { StreamEnd } from "./stream_end.ts";
import { RecordingSocket } from "./testing/recording_socket.ts";
import { ProtocolError } from "../shared/errors.ts";

const metrics = new Metrics();
const log = Logger.silent();

function setup(options: { maxFragments?: number; limit?: number; maxFragmentBytes?: number } = {}) {
  const memory = new BufferMemory(options.limit);
  const stream = new Stream({
    id: "s",
    maxFragments: options.maxFragments ?? 3,
    maxFragmentBytes: options.maxFragmentBytes,
    memory,
    metrics,
    log,
  });
  return { stream, memory };
}

function spectator(socket: RecordingSocket, parts = false, ends: StreamEnd[] = []) {
  return new Spectator(socket, {
    parts,
    policy: { maxQueueBytes: 1000, maxLagMs: 60_000, stallTimeoutMs: 60_000 },
    metrics,
    finish: (end) => ends.push(end),
  });
}

const bytes = (size: number, fill = 1) => new Uint8Array(size).fill(fill);

Deno.test("sequence numbers: the origin's when increasing, else continued here", () => {
  const { stream } = setup();
  assertEquals(stream.pushFragment({ type: "F", duration: 1 }, bytes(10)).seq, 0);
  assertEquals(stream.pushFragment({ type: "F", duration: 1, seq: 7 }, bytes(10)).seq, 7);
  const restarted = stream.pushFragment({ type: "F", duration: 1, seq: 2 }, bytes(10));
  assertEquals(restarted.seq, 8);
  assertEquals(restarted.info.discontinuity, true, "a restarted origin is a discontinuity");
});

Deno.test("sequence numbers past what the protocol carries start over, marked", () => {
  const { stream } = setup();
  const max = Number.MAX_SAFE_INTEGER;
  assertEquals(stream.pushFragment({ type: "F", duration: 1, seq: max }, bytes(10)).seq, max);
  const next = stream.pushFragment({ type: "F", duration: 1 }, bytes(10));
  assertEquals([next.seq, next.info.discontinuity], [0, true]);
  assertEquals(stream.pushFragment({ type: "F", duration: 1 }, bytes(10)).seq, 1);
  // Parts too.
  stream.pushFragment({ type: "F", duration: 1, seq: max }, bytes(10));
  stream.pushPart({ type: "P", seq: 0, part: 0 }, bytes(10));
  stream.pushPart({ type: "P", seq: 0, part: 1, last: true, duration: 1 }, bytes(10));
  assertEquals(stream.buffered.at(-1)?.seq, 0);
  assertEquals(stream.nextSeq, 1);
});

Deno.test("every source is held to the fragment size and the buffer memory limit", () => {
  const sized = setup({ maxFragmentBytes: 100 });
  const whole = assertThrows(
    () => sized.stream.pushFragment({ type: "F", duration: 1 }, bytes(101)),
    ProtocolError,
  );
  assertEquals(whole.code, "MESSAGE_TOO_LARGE");
  sized.stream.pushPart({ type: "P", seq: 0, part: 0 }, bytes(60));
  try {
    sized.stream.pushPart({ type: "P", seq: 0, part: 1 }, bytes(60));
    throw new Error("parts adding up past the limit were taken");
  } catch (error) {
    assert(error instanceof ProtocolError && error.code === "MESSAGE_TOO_LARGE", String(error));
    assert(error.message.includes("more than 100 bytes"), error.message);
  }
  assertEquals(sized.memory.used, 60, "the refused part was not reserved");

  const limited = setup({ limit: 250, maxFragments: 5 });
  limited.stream.pushFragment({ type: "F", duration: 1 }, bytes(100));
  // Parts of the fragment in progress evict this stream's own ring first, then are refused.
  limited.stream.pushPart({ type: "P", seq: 1, part: 0 }, bytes(100));
  limited.stream.pushPart({ type: "P", seq: 1, part: 1 }, bytes(100));
  assertEquals(limited.stream.buffered.length, 0, "the ring made room");
  try {
    limited.stream.pushPart({ type: "P", seq: 1, part: 2 }, bytes(100));
    throw new Error("a part past the memory limit was taken");
  } catch (error) {
    assert(error instanceof ProtocolError && error.code === "BUFFER_MEMORY_LIMIT", String(error));
  }
  assert(limited.memory.used <= 250, `held ${limited.memory.used}`);
  limited.stream.end({ kind: "closed" });
  assertEquals(limited.memory.used, 0);
});

Deno.test("the ring keeps the newest fragments and a new spectator gets min(max, buffered)", () => {
  const { stream } = setup({ maxFragments: 3 });
  for (let index = 0; index < 5; index++) {
    stream.pushFragment({ type: "F", duration: 1 }, bytes(10));
  }
  const seqs = (max?: number, after?: number) => {
    const socket = new RecordingSocket();
    stream.attach(spectator(socket), { maxInitialFragments: max, after });
    return socket.messages().map((message) =>
      message.type === "F" ? [message.seq, message.jump ?? false] : null
    );
  };
  assertEquals(seqs(), [[2, false], [3, false], [4, false]]);
  assertEquals(seqs(2), [[3, false], [4, false]]);
  assertEquals(seqs(0), []);
  assertEquals(seqs(99), [[2, false], [3, false], [4, false]]);
  // Resuming: after the last one it has, without duplicates; a gap is marked.
  assertEquals(seqs(undefined, 3), [[4, false]]);
  assertEquals(seqs(undefined, 4), []);
  assertEquals(seqs(undefined, 0), [[2, true], [3, false], [4, false]]);
  assertEquals(seqs(1, 2), [[4, true]]);
  // A client ahead of the stream (the stream restarted with new numbers) gets the usual start, marked.
  assertEquals(seqs(undefined, 100), [[2, true], [3, false], [4, false]]);
});

Deno.test("parts: forwarded to parts spectators at once, assembled for the others", () => {
  const { stream, memory } = setup();
  const whole = new RecordingSocket();
  const parted = new RecordingSocket();
  stream.attach(spectator(whole), {});
  stream.attach(spectator(parted, true), {});
  stream.pushPart({ type: "P", seq: 10, part: 0, time: 1000 }, bytes(4, 1));
  assertEquals(parted.sent.length, 2, "part 0 forwarded at once");
  assertEquals(whole.sent.length, 0, "whole-fragment spectators wait");
  assertEquals(memory.used, 4, "parts in progress are counted");
  stream.pushPart({ type: "P", seq: 10, part: 1, independent: true }, bytes(4, 2));
  stream.pushPart({ type: "P", seq: 10, part: 2, last: true, duration: 2 }, bytes(4, 3));
  assertEquals(parted.sent.length, 6);
  assertEquals(whole.messages(), [{ type: "F", duration: 2, seq: 10, time: 1000 }]);
  assertEquals(
    whole.sent[1],
    new Uint8Array([1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]),
    "concatenated in order",
  );
  assertEquals(memory.used, 12, "the assembled fragment is counted once");
  // A late parts spectator joining mid-fragment gets the parts made so far.
  stream.pushPart({ type: "P", seq: 11, part: 0 }, bytes(4));
  stream.pushPart({ type: "P", seq: 11, part: 1, independent: true }, bytes(4));
  stream.pushPart({ type: "P", seq: 11, part: 2 }, bytes(4));
  const late = new RecordingSocket();
  stream.attach(spectator(late, true), { maxInitialFragments: 0 });
  assertEquals(
    late.messages().map((message) => message.type === "P" && message.part),
    [1, 2],
    "from the newest independent part",
  );
  const joined = new RecordingSocket();
  stream.attach(spectator(joined, true), { maxInitialFragments: 1 });
  assertEquals(joined.messages().map((message) => message.type), ["F", "P", "P", "P"]);
});

Deno.test("parts out of order are a protocol error", () => {
  const { stream } = setup();
  assertThrows(() => stream.pushPart({ type: "P", seq: 1, part: 1 }, bytes(1)), ProtocolError);
  stream.pushPart({ type: "P", seq: 1, part: 0 }, bytes(1));
  assertThrows(() => stream.pushPart({ type: "P", seq: 1, part: 2 }, bytes(1)), ProtocolError);
  assertThrows(() => stream.pushPart({ type: "P", seq: 2, part: 0 }, bytes(1)), ProtocolError);
  assertThrows(() => stream.pushFragment({ type: "F", duration: 1 }, bytes(1)), ProtocolError);
});

Deno.test("a slow spectator skips whole fragments and the next one says jump", () => {
  const { stream } = setup();
  const socket = new RecordingSocket();
  stream.attach(spectator(socket), {});
  stream.pushFragment({ type: "F", duration: 1 }, bytes(100));
  socket.bufferedAmount = 5000; // over maxQueueBytes
  stream.pushFragment({ type: "F", duration: 1 }, bytes(100));
  stream.pushFragment({ type: "F", duration: 1 }, bytes(100));
  socket.bufferedAmount = 0;
  stream.pushFragment({ type: "F", duration: 1 }, bytes(100));
  assertEquals(
    socket.messages().map((message) =>
      message.type === "F" && [message.seq, message.jump ?? false]
    ),
    [
      [0, false],
      [3, true],
    ],
  );
});

Deno.test("a parts spectator is never cut mid-fragment", () => {
  const { stream } = setup();
  const socket = new RecordingSocket();
  stream.attach(spectator(socket, true), {});
  stream.pushPart({ type: "P", seq: 0, part: 0 }, bytes(10));
  socket.bufferedAmount = 5000; // falls behind mid-fragment
  stream.pushPart({ type: "P", seq: 0, part: 1, last: true, duration: 1 }, bytes(10));
  stream.pushPart({ type: "P", seq: 1, part: 0 }, bytes(10)); // skipped at the boundary
  stream.pushPart({ type: "P", seq: 1, part: 1, last: true, duration: 1 }, bytes(10));
  socket.bufferedAmount = 0;
  stream.pushPart({ type: "P", seq: 2, part: 0 }, bytes(10));
  const sent = socket.messages().map((message) =>
    message.type === "P" && `${message.seq}.${message.part}${message.jump ? "j" : ""}`
  );
  assertEquals(sent, ["0.0", "0.1", "2.0j"]);
});

Deno.test("ending releases every buffered byte and tells spectators", () => {
  const { stream, memory } = setup();
  const ends: StreamEnd[] = [];
  stream.attach(spectator(new RecordingSocket(), false, ends), {});
  stream.pushFragment({ type: "F", duration: 1 }, bytes(100));
  stream.pushPart({ type: "P", seq: 5, part: 0 }, bytes(50));
  assertEquals(memory.used, 150);
  stream.end({ kind: "failed", code: "PUBLISHER_LOST", message: "gone" });
  assertEquals(memory.used, 0);
  assertEquals(ends, [{ kind: "failed", code: "PUBLISHER_LOST", message: "gone" }]);
  const late: StreamEnd[] = [];
  stream.attach(spectator(new RecordingSocket(), false, late), {});
  assertEquals(late.length, 1, "a spectator attaching to an ended stream is told at once");
});

Deno.test("under the memory limit the ring degrades; live delivery goes on", () => {
  const { stream, memory } = setup({ maxFragments: 10, limit: 250 });
  const socket = new RecordingSocket();
  stream.attach(spectator(socket), {});
  for (let index = 0; index < 5; index++) {
    stream.pushFragment({ type: "F", duration: 1 }, bytes(100));
  }
  assert(memory.used <= 250, `within the limit: ${memory.used}`);
  assertEquals(stream.buffered.map((fragment) => fragment.seq), [3, 4]);
  assertEquals(socket.messages().length, 5, "every fragment was still delivered live");
  stream.pushFragment({ type: "F", duration: 1 }, bytes(300)); // larger than the whole limit
  assertEquals(stream.buffered.length, 0);
  assertEquals(memory.used, 0);
  assertEquals(socket.messages().length, 6);
});
