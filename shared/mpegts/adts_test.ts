import { assertEquals } from "../../tests/helpers/assert.ts";
import { tsStream } from "../../tests/helpers/ts_stream.ts";
import { aacCodecString, findAdtsHeader, parseAdtsHeader } from "./adts.ts";
import { packetPayload, packetPid, TS_PACKET_SIZE } from "./packet.ts";

Deno.test("ADTS header of ffmpeg's AAC: LC, 48 kHz, mono", async () => {
  const ts = await tsStream({ seconds: 1 });
  let header = null;
  for (let offset = 0; offset < ts.byteLength && header === null; offset += TS_PACKET_SIZE) {
    const packet = ts.subarray(offset, offset + TS_PACKET_SIZE);
    if (packetPid(packet) === 0x101) header = findAdtsHeader(packetPayload(packet));
  }
  assertEquals(header?.objectType, 2);
  assertEquals(header?.sampleRate, 48000);
  assertEquals(header?.channels, 1);
  assertEquals(aacCodecString(header!), "mp4a.40.2");
});

Deno.test("ADTS: no header in other bytes", () => {
  assertEquals(
    parseAdtsHeader(new Uint8Array([0xff, 0xfb, 0x90, 0x64, 0, 0, 0])),
    null,
    "MP3 layer 3",
  );
  assertEquals(findAdtsHeader(new Uint8Array(100)), null);
});
