import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { hasFfmpeg, tsFragments } from "../../tests/helpers/media.ts";
import { pesStarts } from "../../tests/helpers/pes_starts.ts";
import { type AudioSample, TsDemuxer, type VideoSample } from "./ts_demuxer.ts";

const ffmpeg = await hasFfmpeg();

Deno.test({
  name: "ts demuxer: real ffmpeg fragments give every frame, keyframes first, AAC frames",
  ignore: !ffmpeg,
  async fn() {
    const fragments = await tsFragments({ seconds: 2, fragmentSeconds: 1 });
    const demuxer = new TsDemuxer();
    const samples = fragments.flatMap((fragment) => demuxer.push(fragment.data));
    const video = samples.filter((sample): sample is VideoSample => sample.track === "video");
    const audio = samples.filter((sample): sample is AudioSample => sample.track === "audio");
    assertEquals(video.length, 60);
    assert(video[0].key && video[30].key && !video[1].key);
    assert(video.every((sample) => sample.data[0] === 0 && sample.data[1] === 0));
    // 48 kHz: 46.9 frames a second, give or take the encoder's priming.
    assert(audio.length >= 90 && audio.length <= 96, `audio frames: ${audio.length}`);
    assertEquals(audio[0].config.codec, "mp4a.40.2");
    assertEquals(audio[0].config.sampleRate, 48000);
    assert(audio[1].pts - audio[0].pts === 1920, "1024 samples at 48 kHz");
    assert(audio.every((sample) => sample.data[0] !== 0xff), "ADTS headers taken off");
  },
});

Deno.test({
  name: "ts demuxer: parts cut at frame starts give each frame as its part arrives",
  ignore: !ffmpeg,
  async fn() {
    const [fragment] = await tsFragments({ seconds: 2, fragmentSeconds: 1 });
    const starts = pesStarts(fragment.data);
    const demuxer = new TsDemuxer();
    const whole = new TsDemuxer().push(fragment.data).filter((sample) => sample.track === "video");
    let frames = 0;
    for (let index = 0; index < starts.length; index++) {
      const end = starts[index + 1]?.offset ?? fragment.data.byteLength;
      const part = fragment.data.subarray(index === 0 ? 0 : starts[index].offset, end);
      const video = demuxer.push(part).filter((sample) => sample.track === "video");
      assertEquals(video.length, 1, `part ${index}: one frame, at once`);
      assertEquals(video[0].pts, whole[frames].pts);
      assertEquals(video[0].data.byteLength, whole[frames].data.byteLength);
      frames++;
    }
    assertEquals(frames, whole.length);
  },
});
