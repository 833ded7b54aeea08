import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { MediaClock } from "./media_clock.ts";

Deno.test("the media clock takes the fastest frame of recent windows", () => {
  const clock = new MediaClock({ windowMs: 1000 });
  assert(!clock.ready);
  assert(Number.isNaN(clock.wallTime(0)));
  // 30 fps frames arriving 20 to 60 ms after a base of 10_000.
  for (let frame = 0; frame < 30; frame++) {
    clock.observe(frame * 33.3, 10_000 + frame * 33.3 + 20 + (frame % 3) * 20);
  }
  assert(clock.ready);
  assertEquals(clock.wallTime(1000), 11_020);
});

Deno.test("the media clock follows drift and starts again after a jump back", () => {
  const clock = new MediaClock({ windowMs: 1000, resetAfterMs: 3000 });
  clock.observe(0, 5000);
  // The source clock runs 100 ms late after some windows: the old minimum ages out.
  for (let t = 0; t <= 3000; t += 100) clock.observe(t, 5100 + t);
  assertEquals(clock.wallTime(3000), 8100);
  // The media timeline restarts at 0 (a new encoder): the clock starts again.
  clock.observe(0, 20_000);
  assertEquals(clock.wallTime(0), 20_000);
});
