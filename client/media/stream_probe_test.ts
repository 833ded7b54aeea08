import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { tsFragments } from "../../tests/helpers/media.ts";
import { pesStarts } from "../../tests/helpers/pes_starts.ts";
import { tsStream } from "../../tests/helpers/ts_stream.ts";
import { StreamProbe } from "./stream_probe.ts";

const TS_PACKET_SIZE = 188;

Deno.test("StreamProbe reads the program, codec strings and first PTS of ffmpeg fragments", async () => {
  const media = await tsFragments({ seconds: 3, fragmentSeconds: 1 });
  const probe = new StreamProbe();
  const first = probe.probe(media[0].data);
  assertEquals(probe.videoStreamType, 0x1b);
  assertEquals(probe.audioStreamType, 0x0f);
  assert(/^avc1\.[0-9a-f]{6}$/.test(probe.videoCodec ?? ""), `video codec ${probe.videoCodec}`);
  assertEquals(probe.audioCodec, "mp4a.40.2");
  assert(probe.complete);
  assertEquals(probe.unsupported, []);
  assertEquals(probe.codecs, [probe.videoCodec, "mp4a.40.2"]);
  const second = probe.probe(media[1].data);
  assert(first.firstPts !== undefined && second.firstPts !== undefined);
  const gap = (second.firstPts - first.firstPts) / 90000;
  assert(Math.abs(gap - media[0].duration) < 0.05, `PTS gap ${gap} vs ${media[0].duration}`);
});

Deno.test("StreamProbe remembers the program for parts without tables", async () => {
  const [fragment] = await tsFragments({ seconds: 3, fragmentSeconds: 1 });
  const starts = pesStarts(fragment.data);
  assert(starts.length >= 25, `${starts.length} video PES in a 1 s fragment`);
  const probe = new StreamProbe();
  probe.probe(fragment.data.subarray(0, starts[1].offset));
  const part = fragment.data.subarray(starts[10].offset, starts[20].offset);
  assertEquals(probe.probe(part).firstPts, starts[10].pts, "first PTS of a part without tables");
});

Deno.test("StreamProbe finds codecs that come in a later part than the tables", async () => {
  const [fragment] = await tsFragments({ seconds: 2, fragmentSeconds: 1 });
  const probe = new StreamProbe();
  // The PAT and PMT alone (ffmpeg writes them first): the program, no codec yet.
  const tables = fragment.data.subarray(0, 3 * TS_PACKET_SIZE);
  probe.probe(tables);
  assert(probe.videoStreamType !== undefined && !probe.complete, "program known, codecs not yet");
  probe.probe(fragment.data.subarray(3 * TS_PACKET_SIZE));
  assert(probe.complete, `codecs ${probe.codecs}`);
});

Deno.test("StreamProbe finds audio-only and video-only programs", async () => {
  for (
    const [options, codec] of [[{ video: false }, "mp4a.40.2"], [{ audio: false }, "avc1"]] as const
  ) {
    const [fragment] = await tsFragments({ seconds: 2, fragmentSeconds: 1, ...options });
    const probe = new StreamProbe();
    const info = probe.probe(fragment.data);
    assert(probe.complete, JSON.stringify(options));
    assertEquals(probe.codecs.length, 1);
    assert(probe.codecs[0].startsWith(codec), probe.codecs.join(","));
    assert(info.firstPts !== undefined);
  }
});

Deno.test("StreamProbe names streams the player cannot play (HEVC)", async () => {
  const stream = await tsStream({ seconds: 1, codec: "hevc", audio: false });
  const probe = new StreamProbe();
  probe.probe(stream);
  assert(probe.complete, "an HEVC program is complete: nothing more can be learned");
  assertEquals(probe.codecs, []);
  assertEquals(probe.unsupported, ["video of stream type 0x24 (HEVC)"]);
});
