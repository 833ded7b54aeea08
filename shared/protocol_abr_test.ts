import { assert, assertEquals, assertMatch, assertThrows } from "../tests/helpers/assert.ts";
import { ProtocolError } from "./errors.ts";
import { type KnownMessage, parseMessage, writeMessage } from "./protocol.ts";
import { grantCapabilities } from "./capabilities.ts";

Deno.test("protocol (abr): group pulls, rendition lists, stamps, reports and pins round-trip", () => {
  const messages: KnownMessage[] = [
    {
      type: "PULL",
      stream: "room/live",
      auth: "t",
      parts: true,
      caps: ["errors", "abr"],
      group: true,
    },
    {
      type: "OK",
      parts: true,
      caps: ["errors", "abr"],
      renditions: ["room/live/1280x720-30~2500", "room/live/640x360-30~800"],
    },
    {
      type: "P",
      seq: 7,
      part: 0,
      independent: true,
      rendition: "room/live/640x360-30~800",
      reason: "down",
      codecs: "avc1.64001f,mp4a.40.2",
    },
    { type: "F", duration: 1, seq: 8, rendition: "room/live/1280x720-30~2500", reason: "up" },
    { type: "R", bytes: 123456, t: 5012.5, seq: 7, part: 3, size: 40000, span: 12.5 },
    { type: "PIN", rendition: "room/live/640x360-30~800" },
    { type: "PIN" },
  ];
  for (const message of messages) assertEquals(parseMessage(writeMessage(message)), message);
  assertEquals(writeMessage({ type: "PIN" }), "PIN");
  assertEquals(
    writeMessage({ type: "PULL", stream: "room/live", auth: "", group: true, caps: ["abr"] }),
    "PULL:stream=room%2Flive&auth=&caps=abr&group=1",
  );
});

Deno.test("protocol (abr): what old peers never see, and bad reports", () => {
  assertEquals(
    writeMessage({ type: "F", duration: 1, seq: 1 }),
    "F:duration=1&seq=1",
    "no stamp unless switched",
  );
  assertEquals(writeMessage({ type: "OK" }), "OK");
  assertEquals(grantCapabilities(["errors", "abr"]), ["errors", "abr"]);
  assertMatch(
    assertThrows(() => parseMessage("R:t=1"), ProtocolError).message,
    /missing parameter 'bytes'/,
  );
  assertMatch(
    assertThrows(() => parseMessage("R:bytes=-1"), ProtocolError).message,
    /'bytes' must be a whole number/,
  );
  assertMatch(
    assertThrows(() => parseMessage("R:bytes=1&span=x"), ProtocolError).message,
    /'span' must be a number/,
  );
  const unknown = parseMessage("LEVEL:x=1");
  assert(unknown.type === "UNKNOWN");
});
