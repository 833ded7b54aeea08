/** Unit tests of the blocked-request waiters. */

import { assertEquals } from "../../tests/helpers/assert.ts";
import { Waiters } from "./waiters.ts";

Deno.test("waiters of one key are answered together when their test holds", async () => {
  const waiters = new Waiters<{ parts: number }>();
  const results: boolean[] = [];
  const wait = () =>
    waiters.wait("7.3", (state) => state.parts > 3, 1000).then((ready) => results.push(ready));
  const all = Promise.all([wait(), wait(), wait()]);
  assertEquals(waiters.size, 3);
  waiters.release({ parts: 3 });
  assertEquals(waiters.size, 3, "not yet");
  waiters.release({ parts: 4 });
  await all;
  assertEquals(results, [true, true, true]);
  assertEquals(waiters.size, 0);
});

Deno.test("a sweep answers expired waiters with false; an abort drops one", async () => {
  const waiters = new Waiters<number>();
  const expired = waiters.wait("a", () => false, 0);
  const controller = new AbortController();
  const aborted = waiters.wait("b", () => false, 60_000, controller.signal);
  const kept = waiters.wait("b", () => false, 60_000);
  waiters.sweep(performance.now() + 1);
  assertEquals(await expired, false);
  controller.abort();
  assertEquals(await aborted, false);
  assertEquals(waiters.size, 1);
  waiters.releaseAll(true);
  assertEquals(await kept, true);
});
