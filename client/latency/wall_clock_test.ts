import { assertEquals } from "../../tests/helpers/assert.ts";
import { WallClock } from "./wall_clock.ts";

Deno.test("WallClock maps media time through the nearest earlier anchor", () => {
  const clock = new WallClock();
  clock.add(10, 5000);
  clock.add(12, 7100); // the publisher's clock says this fragment came 100 ms late
  clock.add(11, 6000); // out of order is fine
  assertEquals(clock.wallAt(10.25), 5250);
  assertEquals(clock.wallAt(11.5), 6500);
  assertEquals(clock.wallAt(12.5), 7600);
  assertEquals(clock.wallAt(9.9), undefined);
  assertEquals(clock.wallAt(80), undefined);
  clock.trim(11.5);
  assertEquals(clock.wallAt(10.5), undefined);
  assertEquals(clock.wallAt(11.5), 6500);
});
