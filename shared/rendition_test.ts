/** Rendition ids: the group, the picture, the optional rate and bitrate; ids of other forms. */
import { assertEquals } from "../tests/helpers/assert.ts";
import { parseRenditionId } from "./rendition.ts";

Deno.test("a rendition id gives its group, size, frame rate and bitrate", () => {
  assertEquals(parseRenditionId("room/live/1280x720-30~2500"), {
    streamId: "room/live/1280x720-30~2500",
    group: "room/live",
    width: 1280,
    height: 720,
    fps: 30,
    kbps: 2500,
  });
  assertEquals(parseRenditionId("a/640x360-29.97"), {
    streamId: "a/640x360-29.97",
    group: "a",
    width: 640,
    height: 360,
    fps: 29.97,
  });
  assertEquals(parseRenditionId("320x180~300"), {
    streamId: "320x180~300",
    group: "",
    width: 320,
    height: 180,
    kbps: 300,
  });
});

Deno.test("ids whose last segment is not a rendition are not rendition ids", () => {
  for (
    const id of ["room/live", "room/1280x720/live", "room/live/1280x720-", "room/x1280x720", ""]
  ) {
    assertEquals(parseRenditionId(id), null, id);
  }
});
