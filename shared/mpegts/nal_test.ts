import { assert, assertEquals, assertThrows } from "../../tests/helpers/assert.ts";
import { probe, tsStream } from "../../tests/helpers/ts_stream.ts";
import { avcCodecString, findAvcSps, KeyframeDetector, type NalCodec } from "./nal.ts";
import { packetPayload, packetPid, payloadUnitStart, TS_PACKET_SIZE } from "./packet.ts";
import { parsePesHeader } from "./pes.ts";

/** The keyframe flags of every video access unit, from the NAL units alone (ignoring the RAI bit). */
function keyframes(ts: Uint8Array, codec: NalCodec): boolean[] {
  const flags: boolean[] = [];
  let detector: KeyframeDetector | undefined;
  for (let offset = 0; offset < ts.byteLength; offset += TS_PACKET_SIZE) {
    const packet = ts.subarray(offset, offset + TS_PACKET_SIZE);
    if (packetPid(packet) !== 0x100) continue;
    let payload = packetPayload(packet);
    if (payloadUnitStart(packet)) {
      if (detector !== undefined) flags.push(detector.result ?? false);
      detector = new KeyframeDetector(codec);
      payload = payload.subarray(parsePesHeader(payload)!.payloadOffset);
    }
    // Feed a byte at a time now and then, so start codes are cut across pushes.
    if (offset % 3 === 0) { for (const byte of payload) detector?.push(new Uint8Array([byte])); }
    else detector?.push(payload);
  }
  if (detector !== undefined) flags.push(detector.result ?? false);
  return flags;
}

for (const codec of ["h264", "hevc"] as const) {
  Deno.test(`${codec} keyframes found from NAL units match ffprobe's`, async () => {
    const ts = await tsStream({ seconds: 3, gopSeconds: 0.5, codec });
    const flags = keyframes(ts, codec);
    const frames = (await probe(ts, "frame=media_type,key_frame")).frames!
      .filter((frame) => frame.media_type === "video")
      .map((frame) => frame.key_frame === 1);
    assertEquals(flags.length, 90);
    assertEquals(frames.length, 90);
    const keys = (list: boolean[]) => list.flatMap((key, index) => key ? [index] : []);
    assertEquals(keys(frames), [0, 15, 30, 45, 60, 75], "ffprobe, presentation order");
    if (codec === "h264") assertEquals(flags, frames);
    else {
      // Here in decoding order: x265's B-frames put each keyframe two frames earlier.
      assertEquals(keys(flags), [0, 13, 28, 43, 58, 73]);
    }
  });
}

Deno.test("avc1 codec string from the SPS of x264 output", async () => {
  const ts = await tsStream({ seconds: 1 });
  let sps: Uint8Array | undefined;
  for (let offset = 0; offset < ts.byteLength && sps === undefined; offset += TS_PACKET_SIZE) {
    const packet = ts.subarray(offset, offset + TS_PACKET_SIZE);
    if (packetPid(packet) === 0x100) sps = findAvcSps(packetPayload(packet));
  }
  assert(sps !== undefined);
  // ffprobe: Constrained Baseline (profile_idc 66, constraint_set1), level 13 (1.3).
  assertEquals(avcCodecString(sps), "avc1.42c00d");
  assertThrows(() => avcCodecString(new Uint8Array([0x68, 1, 2, 3])), RangeError);
});
