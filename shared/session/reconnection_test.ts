/**
 * Reconnection: delays from the back-off, cut to the period's end; a period begins once and ends
 * with progress; without a limit it never expires; the limit may change (a publisher lifts it
 * after its first OK). ResumePoint: `after=` from whole fragments and last parts only.
 */

import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { Backoff } from "../backoff.ts";
import { Reconnection } from "./reconnection.ts";
import { ResumePoint } from "./resume_point.ts";

function clock() {
  const time = { now: 1000 };
  return { time, now: () => time.now };
}

Deno.test("delays double, are cut to what is left, and stop when the period is over", () => {
  const { time, now } = clock();
  const retry = new Reconnection({
    backoff: { initialMs: 100, maxMs: 400, jitter: 0 },
    limitMs: 1000,
    now,
  });
  assert(!retry.waiting && !retry.expired(), "no period before a loss");
  retry.lost();
  assertEquals([retry.nextDelay(), retry.nextDelay(), retry.nextDelay()], [100, 200, 400]);
  assertEquals(retry.attempts, 3);
  time.now += 300;
  retry.lost(); // a second loss in the same period changes nothing
  assertEquals(retry.remainingMs(), 700);
  time.now += 600;
  assertEquals(retry.nextDelay(), 100, "400 cut to the 100 ms left");
  time.now += 100;
  assert(retry.expired());
  assertEquals(retry.nextDelay(), null);
});

Deno.test("progress ends the period and starts the delays over", () => {
  const { time, now } = clock();
  const backoff = new Backoff({ initialMs: 50, jitter: 0 });
  const retry = new Reconnection({ backoff, limitMs: 200, now });
  retry.lost();
  retry.nextDelay();
  retry.nextDelay();
  time.now += 150;
  retry.progress();
  assert(!retry.waiting);
  assertEquals(retry.attempts, 0);
  time.now += 1000;
  assert(!retry.expired(), "no period runs after progress");
  retry.lost();
  assertEquals(retry.nextDelay(), 50);
  assertEquals(retry.remainingMs(), 200);
});

Deno.test("without a limit a period never expires; a limit may be lifted", () => {
  const { time, now } = clock();
  const open = new Reconnection({ backoff: { initialMs: 10, jitter: 0 }, now });
  open.lost();
  time.now += 1e9;
  assertEquals(open.nextDelay(), 10);
  const lifted = new Reconnection({ limitMs: 100, now });
  lifted.lost();
  time.now += 200;
  assert(lifted.expired());
  lifted.limitMs = Infinity;
  assert(!lifted.expired());
  const none = new Reconnection({ limitMs: 0, now });
  none.lost();
  assertEquals(none.nextDelay(), null, "a limit of 0 gives up at once");
});

Deno.test("ResumePoint names the last complete fragment; a fragment without a number ends that", () => {
  const point = new ResumePoint();
  assert(!point.started && point.lastSeq === undefined);
  point.note({ type: "F", duration: 1, seq: 4 });
  point.note({ type: "P", seq: 5, part: 0 });
  assertEquals(point.lastSeq, 4, "fragment 5 is not complete");
  point.note({ type: "P", seq: 5, part: 1, last: true });
  assertEquals(point.lastSeq, 5);
  point.note({ type: "F", duration: 1 });
  assert(point.started && !point.known);
  assertEquals(point.lastSeq, undefined);
  point.note({ type: "F", duration: 1, seq: 9 });
  assertEquals(point.lastSeq, undefined, "numbers stay unknown for good");
});
