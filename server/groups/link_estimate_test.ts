import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { LinkEstimate } from "./link_estimate.ts";

Deno.test("link estimate: lag is the age of the oldest byte not reported received", () => {
  const link = new LinkEstimate();
  assertEquals(link.lagMs(1000, 30), 30, "the socket's queue until the client reports");
  link.sent(1000, 0);
  link.sent(1000, 100);
  link.report({ type: "R", bytes: 0 }, 150);
  assertEquals(link.lagMs(200), 200);
  link.report({ type: "R", bytes: 1500 }, 250);
  assertEquals(link.lagMs(300), 200, "the second send is half delivered");
  link.report({ type: "R", bytes: 2000 }, 350);
  assertEquals(link.lagMs(400), 0);
  link.report({ type: "R", bytes: 99_999 }, 400);
  assertEquals(link.receivedBytes, 2000, "a report beyond what was sent is capped");
  assertEquals(link.lagMs(500, 70), 70, "the socket's own queue still counts");
});

Deno.test("link estimate: capacity from timed frames, median, only large frames, recent ones", () => {
  const link = new LinkEstimate();
  link.sent(1_000_000, 0);
  link.report({ type: "R", bytes: 10, size: 1000, span: 1 }, 10); // too small to time
  link.report({ type: "R", bytes: 20, size: 8000, span: 1 }, 10); // inside a link's burst
  link.report({ type: "R", bytes: 30, size: 8000, span: 1 }, 10);
  link.report({ type: "R", bytes: 40, size: 8000, span: 1 }, 10);
  assertEquals(link.capacityBps(10), undefined, "frames under 8 KiB are no samples");
  for (const [at, span] of [[100, 100], [200, 80], [300, 400]]) {
    link.report({ type: "R", bytes: at * 1000, size: 50_000, span }, at);
  }
  assertEquals(link.capacityBps(300), 4_000_000, "the median of 5, 4 and 1 Mbit/s");
  assert(link.capacityBps(10_000) === undefined, "old samples are forgotten");
});

Deno.test("link estimate: bounded for a client that never reports, or reports too often", () => {
  const link = new LinkEstimate();
  for (let i = 0; i < 10_000; i++) link.sent(100, i);
  assertEquals(link.lagMs(10_000), 0, "no report yet: the socket's queue");
  link.report({ type: "R", bytes: 0 }, 10_000);
  assert(link.lagMs(10_000) <= 10_000 - 5000, "only the last sends are remembered");
  for (let i = 0; i < 1000; i++) {
    link.report({ type: "R", bytes: 0, size: 20_000, span: i % 2 ? 10 : 20 }, 10_000);
  }
  assert(link.capacityBps(10_000)! > 0);
});
