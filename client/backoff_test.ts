import { assert, assertEquals } from "../tests/helpers/assert.ts";
import { Backoff } from "./backoff.ts";

Deno.test("Backoff grows exponentially up to its maximum, with jitter in the upper half", () => {
  const top = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0.999999 });
  assertEquals([1, 2, 3, 4, 5, 6].map(() => top.next()), [100, 200, 400, 800, 1000, 1000]);
  const bottom = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0 });
  assertEquals([1, 2, 3].map(() => bottom.next()), [50, 100, 200]);
  const random = new Backoff({ initialMs: 100, maxMs: 1000 });
  for (let i = 0; i < 50; i++) {
    const delay = random.next();
    assert(delay >= 50 && delay <= 1000, `delay ${delay}`);
  }
  random.reset();
  assertEquals(random.attempts, 0);
  const first = random.next();
  assert(first >= 50 && first <= 100);
});
