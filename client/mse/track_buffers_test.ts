import { assertEquals } from "../../tests/helpers/assert.ts";
import type { Placement } from "../media/timeline.ts";
import { FakeMediaSource } from "../testing/fake_media.ts";
import { installFakeWorker } from "../testing/fake_worker.ts";
import { createTrackBuffers } from "./track_buffers.ts";

const TRACKS = { video: "avc1.42c01e", audio: "mp4a.40.2", unsupported: [] };
const placed = (newTimeline: boolean, offset = 0): Placement => ({
  newTimeline,
  drop: false,
  offset,
  start: 0,
});

function openSource(): FakeMediaSource {
  const source = new FakeMediaSource();
  source.readyState = "open";
  return source;
}

const ops = (source: FakeMediaSource, index: number) =>
  source.sourceBuffers[index].operations.map((operation) =>
    operation.op === "offset" ? `offset ${operation.value}` : operation.op
  );

Deno.test("DirectTrackBuffers resets the MPEG-TS parser only at a new timeline", async () => {
  const source = openSource();
  const buffers = createTrackBuffers("direct", source as unknown as MediaSource, TRACKS);
  await Promise.all(await buffers.enqueue(new Uint8Array(1), placed(true, 3)));
  await Promise.all(await buffers.enqueue(new Uint8Array(1), placed(false, 3)));
  assertEquals(ops(source, 0), ["abort", "offset 3", "append", "append"]);
  assertEquals([...buffers.queues.keys()], ["ts"]);
  buffers.destroy();
});

Deno.test("TransmuxTrackBuffers moves every track to a new timeline, even one without media", async () => {
  using workers = installFakeWorker();
  const source = openSource();
  const buffers = createTrackBuffers("transmux", source as unknown as MediaSource, TRACKS, {
    workerUrl: "http://127.0.0.1/worker.js",
  });
  workers.created[0].answer = ({ id }) => ({ id, output: { video: { data: new Uint8Array(1) } } });
  await Promise.all(await buffers.enqueue(new Uint8Array(1), placed(true, 5)));
  assertEquals(ops(source, 0), ["offset 5", "append"]);
  assertEquals(ops(source, 1), ["offset 5"], "audio moves too");
  assertEquals(buffers.backlog, 0);
  assertEquals(buffers.describe(), "video ; audio ");
  buffers.destroy();
});
