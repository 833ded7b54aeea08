import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { ClockTarget } from "./clock_target.ts";

const AT = 1_000_000;

Deno.test("ClockTarget rounds the needed delay up to its step, so close lags hold one delay", () => {
  const a = new ClockTarget({ warmupMs: 0 });
  const b = new ClockTarget({ warmupMs: 0 });
  a.anchor(10, AT, AT + 22); // 22 ms lag
  b.anchor(10, AT, AT + 31); // 31 ms lag: a viewer whose delivery is 9 ms slower
  assertEquals(a.needed(AT + 40), 0.05);
  assertEquals(b.needed(AT + 40), 0.05, "the same delay: both show the same frame");
  const c = new ClockTarget({ warmupMs: 0 });
  c.anchor(10, AT, AT + 40); // 40 + 15 ms = 55 ms: the next step
  assertEquals(c.needed(AT + 50), 0.1);
});

Deno.test("ClockTarget with step 0 keeps the exact delay; a value on a step stays on it", () => {
  const exact = new ClockTarget({ warmupMs: 0, step: 0 });
  exact.anchor(10, AT, AT + 22);
  assert(Math.abs(exact.needed(AT + 30) - 0.037) < 1e-9, "22 ms lag + 15 ms margin");
  const onStep = new ClockTarget({ warmupMs: 0, margin: 0.02 });
  onStep.anchor(10, AT, AT + 80); // 80 + 20 ms: exactly two steps
  assertEquals(onStep.needed(AT + 90), 0.1);
});
