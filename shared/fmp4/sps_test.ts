import { assertEquals, assertThrows } from "../../tests/helpers/assert.ts";
import { parseSps } from "./sps.ts";

// SPS NAL units written by x264 (ffmpeg testsrc).
const HIGH_720P = new Uint8Array([
  0x67,
  0x64,
  0x00,
  0x1f,
  0xac,
  0xd9,
  0x40,
  0x50,
  0x05,
  0xbb,
  0x01,
  0x10,
  0x00,
  0x00,
  0x03,
  0x00,
  0x10,
  0x00,
  0x00,
  0x03,
  0x03,
  0xc0,
  0xf1,
  0x83,
  0x19,
  0x60,
]);
const HIGH_180P = new Uint8Array([
  0x67,
  0x64,
  0x00,
  0x0d,
  0xac,
  0xd9,
  0x41,
  0x41,
  0x9f,
  0x9f,
  0x01,
  0x10,
  0x00,
  0x00,
  0x03,
  0x00,
  0x10,
  0x00,
  0x00,
  0x03,
  0x03,
  0xc0,
  0xf1,
  0x42,
  0x99,
  0x60,
]);

Deno.test("SPS: profile, level and size of a High profile 1280x720 stream", () => {
  assertEquals(parseSps(HIGH_720P), {
    profile: 100,
    compatibility: 0,
    level: 31,
    width: 1280,
    height: 720,
  });
});

Deno.test("SPS: frame cropping gives 180 lines from 12 macroblock rows", () => {
  const info = parseSps(HIGH_180P);
  assertEquals([info.width, info.height, info.level], [320, 180, 13]);
});

Deno.test("SPS: another NAL type, or one cut short, is refused", () => {
  assertThrows(() => parseSps(new Uint8Array([0x68, 0xeb, 0xe3, 0xcb])), RangeError);
  assertThrows(() => parseSps(HIGH_720P.subarray(0, 6)), RangeError);
});
