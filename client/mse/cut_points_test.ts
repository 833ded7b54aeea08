import { assertEquals } from "../../tests/helpers/assert.ts";
import { CutPoints } from "./cut_points.ts";

Deno.test("CutPoints cuts at the latest fragment start far enough behind the playhead", () => {
  const cuts = new CutPoints();
  for (const start of [10, 12, 14, 16]) cuts.add(start);
  assertEquals(cuts.before(13, 4, 10), undefined, "no fragment starts 4 s behind 13 s");
  assertEquals(cuts.before(15, 4, 10), undefined, "a cut at the buffer's start removes nothing");
  assertEquals(cuts.before(17.5, 4, 10), 12);
  assertEquals(cuts.before(19, 4, 12), 14, "older starts were forgotten");
  assertEquals(cuts.before(19, 4, 14.05), undefined, "within 0.1 s of the buffer's start");
  assertEquals(cuts.before(30, 1, 14), 16, "the newest start is kept to cut at");
});
