import { assertEquals } from "../../tests/helpers/assert.ts";
import { tsStream } from "../../tests/helpers/ts_stream.ts";
import { detectCodecs } from "./codecs.ts";
import { StreamType } from "./psi.ts";

Deno.test("codec strings of H.264 + AAC", async () => {
  const codecs = detectCodecs(await tsStream({ seconds: 1 }));
  assertEquals(codecs, {
    codecs: "avc1.42c00d,mp4a.40.2",
    video: "avc1.42c00d",
    audio: "mp4a.40.2",
    videoStreamType: StreamType.H264,
    audioStreamType: StreamType.AAC_ADTS,
  });
});

Deno.test("codec strings: audio only, HEVC left unnamed, no PMT", async () => {
  assertEquals(detectCodecs(await tsStream({ seconds: 1, video: false }))?.codecs, "mp4a.40.2");
  const hevc = detectCodecs(await tsStream({ seconds: 1, codec: "hevc" }));
  assertEquals(hevc?.video, undefined);
  assertEquals(hevc?.videoStreamType, StreamType.HEVC);
  assertEquals(hevc?.codecs, "mp4a.40.2");
  assertEquals(detectCodecs(new Uint8Array(188 * 3)), null);
});
