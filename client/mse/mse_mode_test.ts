import { assertEquals, assertThrows } from "../../tests/helpers/assert.ts";
import { PlayerError } from "../events.ts";
import { chooseMseMode } from "./mse_mode.ts";

const both = { video: "avc1.42c01e", audio: "mp4a.40.2", unsupported: [] };
const all = () => true;
const onlyTs = (type: string) => type.startsWith("video/mp2t");
const onlyMp4 = (type: string) => type.includes("/mp4");

Deno.test("chooseMseMode: auto transmuxes where fMP4 is accepted, else appends MPEG-TS", () => {
  assertEquals(chooseMseMode("auto", both, all), { mode: "transmux" });
  assertEquals(chooseMseMode("auto", both, onlyTs), { mode: "direct" });
  assertEquals(chooseMseMode("direct", both, all), { mode: "direct" });
  assertEquals(chooseMseMode("transmux", both, onlyMp4), { mode: "transmux" });
});

Deno.test("chooseMseMode falls back when the wanted mode is not available, and says so", () => {
  assertEquals(chooseMseMode("direct", both, onlyMp4), {
    mode: "transmux",
    fallback: "direct path not available: using transmux",
  });
  assertEquals(chooseMseMode("transmux", both, onlyTs).mode, "direct");
});

Deno.test("chooseMseMode checks each track's fMP4 type, and the MPEG-TS type with all codecs", () => {
  const asked: string[] = [];
  chooseMseMode(
    "auto",
    { audio: "mp4a.40.2", unsupported: [] },
    (type) => (asked.push(type), true),
  );
  assertEquals(asked, ['video/mp2t; codecs="mp4a.40.2"', 'audio/mp4; codecs="mp4a.40.2"']);
});

Deno.test("chooseMseMode refuses what cannot play with UNSUPPORTED_CODEC", () => {
  const hevc = assertThrows(
    () => chooseMseMode("auto", { audio: "mp4a.40.2", unsupported: ["video (HEVC)"] }, all),
    PlayerError,
  );
  assertEquals([hevc.code, hevc.message], [
    "UNSUPPORTED_CODEC",
    "the player cannot play video (HEVC)",
  ]);
  const none = assertThrows(() => chooseMseMode("auto", both, () => false), PlayerError);
  assertEquals(none.message, "this browser cannot play avc1.42c01e, mp4a.40.2");
});
