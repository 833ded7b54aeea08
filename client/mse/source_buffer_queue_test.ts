import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { FakeSourceBuffer, markMedia } from "../testing/fake_media.ts";
import { SourceBufferQueue } from "./source_buffer_queue.ts";

function queueOn(
  buffer: FakeSourceBuffer,
  evictRange?: () => { start: number; end: number } | null,
): SourceBufferQueue {
  return new SourceBufferQueue(buffer as unknown as SourceBuffer, { evictRange });
}

const names = (buffer: FakeSourceBuffer) =>
  buffer.operations.map((operation) =>
    operation.op === "offset"
      ? `offset ${operation.value}`
      : operation.op === "remove"
      ? `remove ${operation.start}-${operation.end}`
      : operation.op === "append"
      ? `append ${operation.data.byteLength}`
      : operation.op
  );

Deno.test("SourceBufferQueue runs operations one after another, each after updateend", async () => {
  const buffer = new FakeSourceBuffer("video/mp2t");
  const queue = queueOn(buffer);
  // The fake throws InvalidStateError for anything started while updating: none may reject.
  const done = Promise.all([
    queue.append(markMedia(new Uint8Array(1), 0, 1)),
    queue.setTimestampOffset(5, true),
    queue.append(markMedia(new Uint8Array(2), 0, 1)),
    queue.remove(0, 2),
  ]);
  assertEquals(queue.length, 4);
  await queue.drained();
  await done;
  assertEquals(names(buffer), ["append 1", "abort", "offset 5", "append 2", "remove 0-2"]);
  assertEquals(buffer.ranges, [[5, 6]]);
  assertEquals(queue.length, 0);
});

Deno.test("SourceBufferQueue makes room when the buffer is full, then appends again first", async () => {
  const buffer = new FakeSourceBuffer("video/mp4");
  let asked = 0;
  const queue = queueOn(buffer, () => (asked++, { start: 0, end: 4 }));
  await queue.append(markMedia(new Uint8Array(1), 0, 6));
  buffer.quotaFull = 1;
  const full = queue.append(markMedia(new Uint8Array(2), 6, 7));
  const after = queue.append(markMedia(new Uint8Array(3), 7, 8));
  await Promise.all([full, after]);
  assertEquals(asked, 1);
  assertEquals(names(buffer), ["append 1", "remove 0-4", "append 2", "append 3"]);
  assertEquals(buffer.ranges, [[4, 8]]);

  // Full again after making room once: the append fails, and the queue goes on.
  buffer.quotaFull = 2;
  const error = await queue.append(new Uint8Array(4)).catch((error) => error);
  assert(error instanceof DOMException && error.name === "QuotaExceededError", String(error));
  assertEquals(asked, 2, "room is made once per append");
  await queue.append(new Uint8Array(5));
  assertEquals(names(buffer).at(-1), "append 5");
});

Deno.test("SourceBufferQueue: a full buffer with nothing to evict fails the append", async () => {
  const buffer = new FakeSourceBuffer("video/mp4");
  const queue = queueOn(buffer, () => null);
  buffer.quotaFull = 1;
  const error = await queue.append(new Uint8Array(1)).catch((error) => error);
  assert(error instanceof DOMException && error.name === "QuotaExceededError");
  assertEquals(buffer.operations, []);
});

Deno.test("SourceBufferQueue rejects an operation that ends in an error event, then goes on", async () => {
  const buffer = new FakeSourceBuffer("video/mp4");
  const queue = queueOn(buffer);
  buffer.failNext = true;
  const failed = queue.append(new Uint8Array(1)).then(() => "ok", (error) => error.message);
  const next = queue.append(markMedia(new Uint8Array(2), 0, 1));
  assertEquals(await failed, "SourceBuffer error");
  await next;
  assertEquals(buffer.ranges, [[0, 1]]);
});

Deno.test("SourceBufferQueue.destroy rejects what waits and lets go of the buffer", async () => {
  const buffer = new FakeSourceBuffer("video/mp4");
  const queue = queueOn(buffer);
  const running = queue.append(new Uint8Array(1)).catch((error) => error.message);
  const waiting = queue.append(new Uint8Array(2)).catch((error) => error.message);
  queue.destroy();
  assertEquals(await running, "SourceBuffer queue destroyed");
  assertEquals(await waiting, "SourceBuffer queue destroyed");
  assertEquals(
    await queue.drained().catch((error) => error.message),
    "SourceBuffer queue destroyed",
  );
  // The running append still finishes in the buffer; the queue does not start anything after it.
  await new Promise((resolve) => buffer.addEventListener("updateend", resolve, { once: true }));
  assertEquals(names(buffer), ["append 1"]);
});
