import { assertEquals } from "../../tests/helpers/assert.ts";
import { BINARY, frameHeader, mediaPrefix, TEXT } from "./frame.ts";

Deno.test("frame headers use the shortest length form of RFC 6455", () => {
  assertEquals([...frameHeader(BINARY, 0)], [0x82, 0]);
  assertEquals([...frameHeader(BINARY, 125)], [0x82, 125]);
  assertEquals([...frameHeader(TEXT, 126)], [0x81, 126, 0, 126]);
  assertEquals([...frameHeader(BINARY, 65535)], [0x82, 126, 0xff, 0xff]);
  assertEquals([...frameHeader(BINARY, 65536)], [0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]);
  assertEquals([...frameHeader(BINARY, 20 * 1024 * 1024)].slice(6), [1, 64, 0, 0]);
});

Deno.test("a media prefix is the whole text frame and the binary frame header", () => {
  const text = new TextEncoder().encode("F:duration=1");
  assertEquals([...mediaPrefix(text, 300)], [0x81, 12, ...text, 0x82, 126, 1, 44]);
});
