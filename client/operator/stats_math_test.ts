/** The operator page's arithmetic: rates, label sums, and histogram quantiles between polls. */
import { assertEquals } from "../../tests/helpers/assert.ts";
import { bucketsOf, byLabel, quantile, rate, sum } from "./stats_math.ts";

Deno.test("rates are per second, 0 on the first poll, never negative after a restart", () => {
  assertEquals(rate(300, 100, 2), 100);
  assertEquals(rate(300, undefined, 2), 0);
  assertEquals(rate(5, 100, 2), 0);
});

Deno.test("sums and label values leave other metrics out", () => {
  const metrics = {
    'hlswscdn_connections{role="publisher"}': 1,
    'hlswscdn_connections{role="spectator"}': 4,
    hlswscdn_connections_total: 9,
  };
  assertEquals(sum(metrics, "hlswscdn_connections"), 5);
  assertEquals(byLabel(metrics, "hlswscdn_connections", "role"), { publisher: 1, spectator: 4 });
});

Deno.test("quantiles come from the counts between two polls, interpolated in their bucket", () => {
  const at = (counts: number[]) => {
    const metrics: Record<string, number> = {};
    ["0.01", "0.1", "+Inf"].forEach((le, index) => {
      metrics[`hlswscdn_send_delay_seconds_bucket{le="${le}"}`] = counts[index];
    });
    return bucketsOf(metrics);
  };
  const before = at([10, 10, 10]);
  const now = at([20, 30, 30]); // since before: 10 below 10 ms, 10 between 10 and 100 ms
  assertEquals(quantile(now, before, 0.5), 10);
  assertEquals(Math.round(quantile(now, before, 0.75)! * 1000) / 1000, 55);
  assertEquals(quantile(before, before, 0.5), null, "nothing counted");
  assertEquals(quantile(at([0, 0, 4]), [], 0.5), 100, "past the last bound: its lower edge");
});
