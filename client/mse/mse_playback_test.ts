import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import type { AppendedChunk } from "../media/playback_path.ts";
import { fragmentChunk, partChunk } from "../testing/chunks.ts";
import { FakeMediaElement, installFakeMse, markMedia } from "../testing/fake_media.ts";
import { installFakeWorker } from "../testing/fake_worker.ts";
import { until } from "../../shared/testing/until.ts";
import { MsePlayback, type MsePlaybackOptions } from "./mse_playback.ts";

const TRACKS = { video: "avc1.42c01e", audio: "mp4a.40.2", unsupported: [] };
const onlyTs = (type: string) => type.startsWith("video/mp2t");

function setUp(options: Partial<MsePlaybackOptions> = {}) {
  const media = new FakeMediaElement();
  const path = new MsePlayback(media.element, { mediaPath: "auto", ...options });
  const appended: AppendedChunk[] = [];
  const errors: string[] = [];
  path.addEventListener("appended", (event) => appended.push(event.detail));
  path.addEventListener(
    "error",
    (event) => errors.push(`${event.detail.code}: ${event.detail.message}`),
  );
  return { media, path, appended, errors };
}

function operations(media: FakeMediaElement, index = 0): string[] {
  return media.source!.sourceBuffers[index].operations.map((operation) =>
    operation.op === "offset"
      ? `offset ${operation.value}`
      : operation.op === "remove"
      ? `remove ${operation.start}-${operation.end}`
      : operation.op
  );
}

Deno.test("MsePlayback appends MPEG-TS directly where fMP4 is not accepted, in order, on one timeline", async () => {
  using _mse = installFakeMse({ accepts: onlyTs });
  const { media, path, appended, errors } = setUp();
  path.configure(TRACKS);
  path.push(fragmentChunk({ seq: 1, start: 10, duration: 2 }));
  path.push(partChunk({ seq: 2, part: 0, start: 12, duration: 0.2 }));
  assertEquals(path.pending, 2);
  await until(() => appended.length === 2, "two chunks appended");
  assertEquals(errors, []);
  const [buffer] = media.source!.sourceBuffers;
  assertEquals(buffer.type, 'video/mp2t; codecs="avc1.42c01e,mp4a.40.2"');
  assertEquals(operations(media), ["abort", "offset 0", "append", "append"]);
  assertEquals(appended.map(({ start, newTimeline }) => [start, newTimeline]), [
    [10, true],
    [12, false],
  ]);
  assertEquals(path.buffered(), [[10, 12.2]]);
  assertEquals(path.pending, 0);
  assertEquals(path.stats().mediaPath, "direct");
  assert(!path.stats().worker);
  path.destroy();
});

Deno.test("MsePlayback transmuxes into one SourceBuffer per track, init segments first", async () => {
  using _mse = installFakeMse();
  using workers = installFakeWorker();
  const { media, path, appended } = setUp({ workerUrl: "http://127.0.0.1/worker.js" });
  path.configure(TRACKS);
  await until(() => workers.created.length === 1, "the worker starts once the source is open");
  const [worker] = workers.created;
  // The first chunk has video and audio with init segments; the second video only.
  worker.answer = ({ id, reset }) => ({
    id,
    output: reset
      ? {
        video: { init: new Uint8Array(1), data: markMedia(new Uint8Array(2), 10, 12) },
        audio: { init: new Uint8Array(1), data: markMedia(new Uint8Array(2), 10, 12) },
      }
      : { video: { data: markMedia(new Uint8Array(3), 12, 12.2) } },
  });
  path.push(fragmentChunk({ seq: 1, start: 10, duration: 2 }));
  path.push(partChunk({ seq: 2, part: 0, start: 12, duration: 0.2 }));
  await until(() => appended.length === 2, "two chunks appended");
  const [video, audio] = media.source!.sourceBuffers;
  assertEquals([video.type, audio.type], [
    'video/mp4; codecs="avc1.42c01e"',
    'audio/mp4; codecs="mp4a.40.2"',
  ]);
  assertEquals(worker.requests.map((request) => request.reset), [true, false]);
  assertEquals(operations(media, 0), ["offset 0", "append", "append", "append"]);
  assertEquals(operations(media, 1), ["offset 0", "append", "append"]);
  assertEquals(path.buffered(), [[10, 12]], "the intersection of both tracks");
  assertEquals(path.stats(), {
    playback: "mse",
    mediaPath: "transmux",
    worker: true,
    droppedFrames: 0,
    decodedFrames: 0,
  });
  path.destroy();
  assert(worker.terminated, "destroy stops the worker");
});

Deno.test("MsePlayback reports tracks it cannot play and takes nothing more", async () => {
  using _mse = installFakeMse();
  const { media, path, errors } = setUp();
  path.configure({ audio: "mp4a.40.2", unsupported: ["video of stream type 0x24 (HEVC)"] });
  path.push(fragmentChunk({ seq: 1, start: 0, duration: 2 }));
  await until(() => errors.length === 1, "an error");
  assertEquals(errors, [
    "UNSUPPORTED_CODEC: the player cannot play video of stream type 0x24 (HEVC)",
  ]);
  assertEquals(media.source!.sourceBuffers, []);
  path.push(fragmentChunk({ seq: 2, start: 2, duration: 2 }));
  assertEquals(path.pending, 0, "a failed path takes no chunks");
  path.destroy();
});

Deno.test("MsePlayback trims and evicts old media from fragment starts only", async () => {
  using _mse = installFakeMse({ accepts: onlyTs });
  const { media, path, appended } = setUp();
  path.configure(TRACKS);
  for (const [seq, start] of [0, 2, 4, 6].entries()) {
    path.push(fragmentChunk({ seq, start, duration: 2 }));
  }
  await until(() => appended.length === 4, "four fragments appended");
  media.playTo(7.5);
  path.trim(3); // keep 3 s behind the playhead: cut at the fragment start at 4
  await until(() => path.buffered()[0]?.[0] === 4, "media before 4 s removed");
  assertEquals(path.buffered(), [[4, 8]]);

  // A full buffer: all but the last second behind the playhead goes, then the append again.
  media.source!.sourceBuffers[0].quotaFull = 1;
  path.push(fragmentChunk({ seq: 4, start: 8, duration: 2 }));
  await until(() => appended.length === 5, "the fifth fragment appended");
  assertEquals(operations(media).slice(-2), ["remove 0-6", "append"]);
  assertEquals(operations(media).filter((name) => name.startsWith("remove")), [
    "remove 0-4",
    "remove 0-6",
  ]);
  assertEquals(path.buffered(), [[6, 10]]);
  path.destroy();
});

Deno.test("MsePlayback ends the stream once everything is appended", async () => {
  using _mse = installFakeMse({ accepts: onlyTs });
  const { media, path, appended } = setUp();
  path.configure(TRACKS);
  path.push(fragmentChunk({ seq: 1, start: 0, duration: 2 }));
  path.push(fragmentChunk({ seq: 2, start: 2, duration: 2 }));
  await path.endOfStream();
  assertEquals(appended.length, 2);
  assertEquals(media.source!.readyState, "ended");
  await path.endOfStream(); // again: nothing to do
  path.destroy();
});

Deno.test("MsePlayback moves the element's playhead and rate, and detaches on destroy", async () => {
  using _mse = installFakeMse({ accepts: onlyTs });
  const { media, path } = setUp();
  assertEquals(path.catchUp, "rate");
  media.readyState = 3;
  path.seek(4.5);
  path.setRate(1.05);
  assertEquals(media.seeks, [4.5]);
  assertEquals(path.position(), {
    currentTime: 4.5,
    paused: true,
    seeking: false,
    hasFrame: true,
    canPlay: true,
    rate: 1.05,
  });
  await until(() => media.source?.readyState === "open", "the source opens");
  const source = media.source!;
  path.destroy();
  assertEquals(media.src, "");
  assertEquals(source.readyState, "closed");
  path.push(fragmentChunk({ seq: 1, start: 0, duration: 2 }));
  assertEquals(path.pending, 0);
});
