import { assertEquals } from "../../tests/helpers/assert.ts";
import { groupStats } from "./group_stats.ts";

Deno.test("groupStats counts viewers per group, rendition, pin and reason; groups in id order", () => {
  const top = "b/live/1280x720-30~2500";
  const low = "b/live/640x360-30~800";
  const stats = groupStats([
    { group: "b/live", rendition: top, pinned: false, reason: "start" },
    { group: "b/live", rendition: low, pinned: false, reason: "down" },
    { group: "a/live", rendition: "a/live/640x360-30~800", pinned: true, reason: "pin" },
    { group: "b/live", rendition: low, pinned: false, reason: "down" },
  ]);
  assertEquals(stats, [
    {
      group: "a/live",
      viewers: 1,
      renditions: { "a/live/640x360-30~800": 1 },
      pinned: 1,
      reasons: { pin: 1 },
    },
    {
      group: "b/live",
      viewers: 3,
      renditions: { [top]: 1, [low]: 2 },
      pinned: 0,
      reasons: { start: 1, down: 2 },
    },
  ]);
  assertEquals(groupStats([]), []);
});
