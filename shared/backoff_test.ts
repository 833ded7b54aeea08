import { assert, assertEquals } from "../tests/helpers/assert.ts";
import { Backoff } from "./backoff.ts";

Deno.test("back-off doubles up to the maximum and resets", () => {
  const backoff = new Backoff({ initialMs: 250, maxMs: 2000, jitter: 0 });
  assertEquals([1, 2, 3, 4, 5, 6].map(() => backoff.next()), [250, 500, 1000, 2000, 2000, 2000]);
  assertEquals(backoff.attempts, 6);
  backoff.reset();
  assertEquals(backoff.next(), 250);
});

Deno.test("jitter takes off at most its share, at random", () => {
  const values = [0, 0.5, 0.999];
  let index = 0;
  const backoff = new Backoff({
    initialMs: 1000,
    maxMs: 1000,
    jitter: 0.5,
    random: () => values[index++],
  });
  assertEquals([backoff.next(), backoff.next(), backoff.next()], [1000, 750, 500]);
  const real = new Backoff({ initialMs: 1000, maxMs: 1000 });
  for (let count = 0; count < 100; count++) {
    const delay = real.next();
    assert(delay >= 500 && delay <= 1000, `${delay}`);
  }
});
