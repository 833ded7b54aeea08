import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { type ControlInput, decide } from "./latency_control.ts";

const base: ControlInput = {
  currentTime: 10,
  paused: false,
  stuckMs: 0,
  buffered: [[8, 10.6]],
  liveEdge: 10.5,
  target: 0.5,
  maxDelay: 2,
  maxRate: 1.1,
};

Deno.test("decide holds the target, catches up gently and jumps only when far behind", () => {
  assertEquals(decide(base), { rate: 1, reason: "hold" });
  const behind = decide({ ...base, liveEdge: 11, buffered: [[8, 11]] });
  assertEquals(behind.reason, "catch-up");
  assert(behind.rate > 1 && behind.rate <= 1.1, `rate ${behind.rate}`);
  const far = decide({ ...base, liveEdge: 13, buffered: [[8, 13]], maxDelay: 5 });
  assertEquals(far.reason, "catch-up");
  assertEquals(far.rate, 1.1);
  const tooFar = decide({ ...base, liveEdge: 12.5, buffered: [[8, 12.5]] });
  assertEquals(tooFar, { rate: 1, seekTo: 12, reason: "jump" });
  const close = decide({ ...base, liveEdge: 10.2, buffered: [[8, 10.2]] });
  assertEquals(close.reason, "slow-down");
  assert(close.rate < 1 && close.rate >= 0.95);
});

Deno.test("decide starts at live minus the target, skips gaps and nudges a stuck playhead", () => {
  const start = decide({ ...base, currentTime: 0, buffered: [[1.4, 5]], liveEdge: 5 });
  assertEquals(start, { rate: 1, seekTo: 4.5, reason: "start" });
  const shortStart = decide({ ...base, currentTime: 0, buffered: [[1.4, 1.6]], liveEdge: 1.6 });
  assertEquals(shortStart.seekTo, 1.4);
  const gap = decide({
    ...base,
    currentTime: 10.6,
    buffered: [[8, 10.6], [11, 11.8]],
    liveEdge: 11.8,
  });
  assertEquals(gap.reason, "gap");
  assert(gap.seekTo! >= 11 && gap.seekTo! < 11.8);
  const stuck = decide({ ...base, stuckMs: 1500 });
  assertEquals(stuck.reason, "stuck");
  assert(stuck.seekTo! > 10);
  assertEquals(decide({ ...base, paused: true, liveEdge: 20, buffered: [[8, 20]] }).reason, "hold");
  assertEquals(decide({ ...base, buffered: [] }).reason, "hold");
});
