import { assertEquals, assertThrows } from "../../tests/helpers/assert.ts";
import { box, fullBox, u16, u24, u32, u64 } from "./boxes.ts";

Deno.test("numbers are big-endian, 64-bit values exact above 2^32", () => {
  assertEquals([...u16(0x1234)], [0x12, 0x34]);
  assertEquals([...u24(0x123456)], [0x12, 0x34, 0x56]);
  assertEquals([...u32(-1)], [0xff, 0xff, 0xff, 0xff]);
  assertEquals([...u64(2 ** 33 + 5)], [0, 0, 0, 2, 0, 0, 0, 5]);
});

Deno.test("a box is its size, type and payload; a full box adds version and flags", () => {
  assertEquals([...box("mdat", new Uint8Array([9]))], [0, 0, 0, 9, 0x6d, 0x64, 0x61, 0x74, 9]);
  assertEquals(
    [...fullBox("tfdt", 1, 0x020001)],
    [0, 0, 0, 12, 0x74, 0x66, 0x64, 0x74, 1, 0x02, 0x00, 0x01],
  );
  assertThrows(() => box("toolong"), RangeError);
});
