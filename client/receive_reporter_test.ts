import { assert, assertEquals } from "../tests/helpers/assert.ts";
import type { ReceiveReportMessage } from "../shared/protocol.ts";
import { ReceiveReporter, SAMPLE_BYTES } from "./receive_reporter.ts";
import { until } from "../shared/testing/until.ts";

Deno.test("ReceiveReporter: at most one report per interval, large frames at once, the last one by a timer", async () => {
  const sent: ReceiveReportMessage[] = [];
  const reporter = new ReceiveReporter((message) => sent.push(message), 60);
  const now = performance.now();
  reporter.received({ type: "F", seq: 1 }, 100, now, now - 5);
  assertEquals(sent, [{
    type: "R",
    bytes: 100,
    t: Math.round(now * 10) / 10,
    seq: 1,
    size: 100,
    span: 5,
  }]);
  reporter.received({ type: "P", seq: 2, part: 0 }, 200, now + 1);
  reporter.received({ type: "P", seq: 2, part: 1 }, 300, now + 2);
  assertEquals(sent.length, 1, "small frames within the interval wait");
  reporter.received({ type: "P", seq: 2, part: 2 }, SAMPLE_BYTES, now + 3, now + 2);
  assertEquals(sent.length, 2, "a capacity sample goes at once");
  assertEquals(sent[1].bytes, 600 + SAMPLE_BYTES);
  assertEquals([sent[1].part, sent[1].size, sent[1].span], [2, SAMPLE_BYTES, 1]);
  reporter.received({ type: "P", seq: 2, part: 3 }, 50, performance.now());
  assertEquals(sent.length, 2);
  await until(() => sent.length === 3, "the held report");
  assert(sent[2].part === 3 && sent[2].bytes === 650 + SAMPLE_BYTES && sent[2].span === undefined);
  reporter.received({ type: "P", seq: 2, part: 4 }, 50, performance.now());
  const before = sent.length;
  reporter.stop();
  reporter.received({ type: "P", seq: 2, part: 5 }, 50, performance.now());
  await new Promise((resolve) => setTimeout(resolve, 80));
  assertEquals(sent.length, before, "nothing after stop");
});
