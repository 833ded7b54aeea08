import { assertEquals } from "../../tests/helpers/assert.ts";
import { tsStream } from "../../tests/helpers/ts_stream.ts";
import { packetPayload, packetPid, payloadUnitStart, TS_PACKET_SIZE } from "./packet.ts";
import { parsePesHeader, PTS_WRAP, TimestampUnwrapper } from "./pes.ts";

Deno.test("PES headers of ffmpeg's output: 30 fps video PTS, ffprobe's start time", async () => {
  const ts = await tsStream({ seconds: 1 });
  const pts: number[] = [];
  for (let offset = 0; offset < ts.byteLength; offset += TS_PACKET_SIZE) {
    const packet = ts.subarray(offset, offset + TS_PACKET_SIZE);
    if (packetPid(packet) !== 0x100 || !payloadUnitStart(packet)) continue;
    const header = parsePesHeader(packetPayload(packet))!;
    assertEquals(header.streamId, 0xe0);
    assertEquals(header.packetLength, 0);
    assertEquals(header.dts, undefined, "no B-frames: DTS is left out");
    pts.push(header.pts!);
  }
  assertEquals(pts.length, 30);
  // ffmpeg's muxer starts at 1.4 s plus the encoder's delay (ffprobe says start_time 1.421333).
  assertEquals(pts[0], 127920);
  for (let index = 1; index < pts.length; index++) assertEquals(pts[index] - pts[index - 1], 3000);
});

Deno.test("PES headers with B-frames carry DTS below PTS", async () => {
  const ts = await tsStream({ seconds: 1, bframes: 2 });
  let withDts = 0;
  for (let offset = 0; offset < ts.byteLength; offset += TS_PACKET_SIZE) {
    const packet = ts.subarray(offset, offset + TS_PACKET_SIZE);
    if (packetPid(packet) !== 0x100 || !payloadUnitStart(packet)) continue;
    const header = parsePesHeader(packetPayload(packet))!;
    if (header.dts !== undefined) {
      withDts++;
      if (header.dts > header.pts!) throw new Error("DTS after PTS");
    }
  }
  if (withDts < 10) throw new Error(`only ${withDts} PES headers with DTS`);
});

Deno.test("a payload that is no PES start gives null", () => {
  assertEquals(parsePesHeader(new Uint8Array([0, 0, 2, 0xe0, 0, 0, 0x80, 0x80, 5])), null);
  assertEquals(parsePesHeader(new Uint8Array([0, 0, 1, 0xe0, 0, 0, 0x80, 0x80, 5, 0x21])), null);
});

Deno.test("timestamps unwrap across 2^33 both ways", () => {
  const unwrapper = new TimestampUnwrapper();
  assertEquals(unwrapper.unwrap(PTS_WRAP - 3000), PTS_WRAP - 3000);
  assertEquals(unwrapper.unwrap(0), PTS_WRAP);
  assertEquals(unwrapper.unwrap(3000), PTS_WRAP + 3000);
  assertEquals(unwrapper.unwrap(PTS_WRAP - 1000), PTS_WRAP - 1000, "a late frame before the wrap");
  assertEquals(unwrapper.unwrap(PTS_WRAP - 1000 + 2 * 3000), PTS_WRAP + 5000 - PTS_WRAP + PTS_WRAP);
});
