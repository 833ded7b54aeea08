/**
 * The remuxer on real H.264/AAC from ffmpeg: a fragment cut into parts at its frames (as a
 * publisher cuts it), each part remuxed in order; the timeline is gapless and ffprobe decodes
 * init + fragments.
 */

import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { hasFfmpeg, tsFragments } from "../../tests/helpers/media.ts";
import { pesStarts } from "../../tests/helpers/pes_starts.ts";
import { child, children, readBoxes, view } from "../testing/box_reader.ts";
import { join } from "./boxes.ts";
import { SYNC_FLAGS } from "./fragment.ts";
import { initSegment } from "./init.ts";
import { TsToFmp4 } from "./remuxer.ts";

const ffmpeg = await hasFfmpeg();

interface Run {
  track: number;
  base: number;
  durations: number[];
  firstFlags?: number;
}

function runs(fragment: Uint8Array): Run[] {
  const moof = readBoxes(fragment)[0];
  return children(moof, "traf").map((traf) => {
    const tfhd = view(child(traf, "tfhd").payload);
    const tfdt = view(child(traf, "tfdt").payload);
    const trun = view(child(traf, "trun").payload);
    const flags = trun.getUint32(0) & 0xffffff;
    const stride = flags & 0x800 ? 16 : 8;
    const count = trun.getUint32(4);
    const durations: number[] = [];
    for (let index = 0; index < count; index++) durations.push(trun.getUint32(12 + stride * index));
    return {
      track: tfhd.getUint32(4),
      base: Number(tfdt.getBigUint64(4)),
      durations,
      firstFlags: flags & 0x400 ? trun.getUint32(20) : undefined,
    };
  });
}

Deno.test({
  name:
    "remux: parts of 6 frames give gapless fragments whose durations add up, ffprobe decodes them",
  ignore: !ffmpeg,
  async fn() {
    const fragments = await tsFragments({ seconds: 4, fragmentSeconds: 2 });
    const pieces: Uint8Array[] = [];
    let init: Uint8Array | undefined;
    let audioPieces = 0;
    let videoEnd: number | undefined;
    let frames = 0;
    for (const fragment of fragments) {
      const remuxer = new TsToFmp4();
      const starts = pesStarts(fragment.data).map((start) => start.offset);
      const first = pesStarts(fragment.data)[0].pts!;
      for (let index = 0; index < starts.length; index += 6) {
        const from = index === 0 ? 0 : starts[index];
        const to = starts[index + 6] ?? fragment.data.byteLength;
        const duration = index + 6 < starts.length
          ? (pesStarts(fragment.data)[index + 6].pts! - pesStarts(fragment.data)[index].pts!) /
            90000
          : fragment.duration - (pesStarts(fragment.data)[index].pts! - first) / 90000;
        const piece = remuxer.remux(fragment.data.subarray(from, to), pieces.length + 1, duration);
        assert(piece !== null, `part ${index / 6} gave a fragment`);
        // A part may have no audio frame yet: the init is made from what the fragment had.
        init = initSegment(piece.config);
        const [video, audio] = runs(piece.bytes);
        if (audio !== undefined) {
          assertEquals(audio.track, 2);
          assert(audio.durations.every((value) => value === 1024));
          audioPieces++;
        }
        assertEquals(video.track, 1);
        if (videoEnd !== undefined) assertEquals(video.base, videoEnd, "no gap, no overlap");
        if (index === 0) {
          assertEquals(video.firstFlags, SYNC_FLAGS, "a fragment starts with a sync sample");
        }
        const total = video.durations.reduce((sum, value) => sum + value, 0);
        assert(Math.abs(total - Math.round(duration * 90000)) <= 1, `part lasts ${total}`);
        videoEnd = video.base + total;
        frames += video.durations.length;
        pieces.push(piece.bytes);
      }
    }
    assertEquals(frames, 4 * 30);
    assert(audioPieces >= pieces.length / 2, `audio in ${audioPieces} of ${pieces.length} parts`);
    const file = await Deno.makeTempFile({ suffix: ".mp4" });
    try {
      await Deno.writeFile(file, join([init!, ...pieces]));
      const probe = await new Deno.Command("ffprobe", {
        args: [
          "-v",
          "error",
          "-count_frames",
          "-show_entries",
          "stream=codec_name,width,height,nb_read_frames,sample_rate,channels",
          "-of",
          "json",
          file,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assertEquals(new TextDecoder().decode(probe.stderr), "", "ffprobe reports no error");
      const streams = JSON.parse(new TextDecoder().decode(probe.stdout)).streams;
      assertEquals(streams[0].codec_name, "h264");
      assertEquals([streams[0].width, streams[0].height], [320, 180]);
      assertEquals(Number(streams[0].nb_read_frames), 120);
      assertEquals([streams[1].codec_name, streams[1].sample_rate, streams[1].channels], [
        "aac",
        "48000",
        1,
      ]);
      assert(Number(streams[1].nb_read_frames) >= 180, "4 s of 48 kHz AAC is about 187 frames");
      const decode = await new Deno.Command("ffmpeg", {
        args: ["-v", "error", "-i", file, "-f", "null", "-"],
        stdout: "null",
        stderr: "piped",
      }).output();
      assert(decode.success);
      assertEquals(new TextDecoder().decode(decode.stderr), "", "ffmpeg decodes without error");
    } finally {
      await Deno.remove(file);
    }
  },
});

Deno.test("remux: a piece with no codec configuration or no sample gives null", () => {
  const remuxer = new TsToFmp4();
  assertEquals(remuxer.remux(new Uint8Array(0), 1), null);
});
