import { assert, assertEquals } from "../tests/helpers/assert.ts";
import { tsFragments } from "../tests/helpers/media.ts";
import { pesStartOffsets, TS_PACKET_SIZE, TsProbe } from "./ts_probe.ts";

Deno.test("TsProbe reads the program, codec strings and first PTS of ffmpeg fragments", async () => {
  const media = await tsFragments({ seconds: 3, fragmentSeconds: 1 });
  const probe = new TsProbe();
  const first = probe.probe(media[0].data);
  assert(first.hasPat);
  assertEquals(probe.video?.streamType, 0x1b);
  assertEquals(probe.audio?.streamType, 0x0f);
  assert(/^avc1\.[0-9A-F]{6}$/.test(probe.videoCodec ?? ""), `video codec ${probe.videoCodec}`);
  assertEquals(probe.audioCodec, "mp4a.40.2");
  assert(probe.complete);
  const second = probe.probe(media[1].data);
  assert(first.firstPts !== undefined && second.firstPts !== undefined);
  const gap = (second.firstPts - first.firstPts) / 90000;
  assert(Math.abs(gap - media[0].duration) < 0.05, `PTS gap ${gap} vs ${media[0].duration}`);
});

Deno.test("TsProbe remembers the program for parts without tables", async () => {
  const [fragment] = await tsFragments({ seconds: 3, fragmentSeconds: 1 });
  const probe = new TsProbe();
  probe.probe(fragment.data.subarray(0, TS_PACKET_SIZE * 4));
  const video = probe.video!;
  const starts = pesStartOffsets(fragment.data, video.pid);
  assert(starts.length >= 25, `${starts.length} video PES in a 1 s fragment`);
  const part = fragment.data.subarray(starts[10], starts[20]);
  const info = probe.probe(part);
  assert(!info.hasPat);
  assert(info.firstPts !== undefined);
});

Deno.test("TsProbe finds audio-only and video-only programs", async () => {
  for (
    const [options, codec] of [[{ video: false }, "mp4a.40.2"], [{ audio: false }, "avc1"]] as const
  ) {
    const [fragment] = await tsFragments({ seconds: 2, fragmentSeconds: 1, ...options });
    const probe = new TsProbe();
    const info = probe.probe(fragment.data);
    assert(probe.complete, JSON.stringify(options));
    assert(probe.codecs.join(",").startsWith(codec), probe.codecs.join(","));
    assert(info.firstPts !== undefined);
  }
});
