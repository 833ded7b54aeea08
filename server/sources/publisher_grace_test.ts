/** PublisherGrace: one outcome per grace, counted once; the timer expires once and only unsettled. */

import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { waitForValue } from "../../tests/helpers/wait.ts";
import { Metrics } from "../metrics.ts";
import { PublisherGrace } from "./publisher_grace.ts";

async function counts(metrics: Metrics): Promise<Record<string, number>> {
  const values = (await metrics.publisherGraces.get()).values;
  return Object.fromEntries(values.map((value) => [String(value.labels.event), value.value]));
}

Deno.test("a grace expires once, after its time, and later outcomes count nothing", async () => {
  const metrics = new Metrics();
  let expired = 0;
  const grace = new PublisherGrace({ ms: 40, metrics, expire: () => expired++ });
  assert(!grace.settled);
  await waitForValue(() => Promise.resolve(expired), 1, 2000);
  assert(grace.elapsedMs >= 35, `expired after ${grace.elapsedMs} ms`);
  grace.resume();
  grace.moved();
  assertEquals(await counts(metrics), { entered: 1, resumed: 0, expired: 1, moved: 0 });
});

Deno.test("resume, moved and cancel stop the timer; cancel counts no outcome", async () => {
  const metrics = new Metrics();
  let expired = 0;
  const graces = [1, 2, 3].map(() =>
    new PublisherGrace({ ms: 30, metrics, expire: () => expired++ })
  );
  graces[0].resume();
  graces[1].moved();
  graces[2].cancel();
  assert(graces.every((grace) => grace.settled));
  await new Promise((resolve) => setTimeout(resolve, 60)); // past the timers: nothing may fire
  assertEquals(expired, 0);
  assertEquals(await counts(metrics), { entered: 3, resumed: 1, expired: 0, moved: 1 });
});
