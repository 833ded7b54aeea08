/**
 * The latency controller on a node that grants `clock`: display held at `at` + delay on the
 * node's clock (the node's delay unless the page set one), the jitter buffer, a path with its own
 * playhead following the clock, an MSE-like path steered by rate, and the old behaviour without a
 * node clock.
 */

import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { partChunk } from "../testing/chunks.ts";
import { FakePlaybackPath } from "../testing/fake_playback_path.ts";
import { LatencyController, type LatencyControllerOptions } from "./latency_controller.ts";

const AT = 1_700_000_000_000;

function setUp(options: Partial<LatencyControllerOptions>, path: FakePlaybackPath) {
  const clock = { node: AT as number | undefined };
  const controller = new LatencyController(path, {
    delay: 0.5,
    delayGiven: false,
    maxRate: 1.1,
    intervalMs: 0,
    nodeSendsParts: () => true,
    nodeNow: () => clock.node,
    nodeDelay: () => 0.1,
    ...options,
  });
  /** A one-frame part of media time `start`, received by the origin at `at`, here `lagMs` later. */
  const arrive = (start: number, at: number, lagMs = 10) => {
    clock.node = at + lagMs;
    path.arrive({ ...partChunk({ seq: 1, part: 1, start, duration: 0.033 }), at });
  };
  return { controller, clock, arrive };
}

function followingPath(): { path: FakePlaybackPath; targets: Array<(now: number) => number> } {
  const path = new FakePlaybackPath("drop");
  const targets: Array<(now: number) => number> = [];
  path.follow = (target) => {
    if (target !== null) targets.push(target);
  };
  return { path, targets };
}

Deno.test("clock: a path with its own playhead follows at + the node's delay, frame by frame", () => {
  const { path, targets } = followingPath();
  const { controller, arrive } = setUp({}, path);
  for (let frame = 0; frame < 30; frame++) arrive(10 + frame / 30, AT + frame * 1000 / 30);
  controller.tick();
  assert(controller.onNodeClock);
  assertEquals(targets.length, 1, "the path is told once what to follow");
  assertEquals(controller.targetDelay, 0.1, "the node's delay: the arrivals are smooth");
  const now = performance.now();
  const due = targets[0](now);
  // Node time now is AT + 29 frames + 10 ms: the frame due is 0.1 s before.
  const expected = 10 + 29 / 30 + 0.01 - 0.1;
  assert(Math.abs(due - expected) < 0.005, `due ${due}, expected ${expected}`);
  assert(Math.abs(targets[0](now + 1000) - due - 1) < 1e-6, "it runs with the clock");
  assertEquals(path.seeks, [], "no seek, no rate: the path follows the clock");
  assertEquals(path.rates, []);
  controller.destroy();
});

Deno.test("clock: the page's delay overrides the node's; a late burst grows the buffer, which shrinks back", () => {
  const { path } = followingPath();
  const { controller, clock, arrive } = setUp({ delay: 0.2, delayGiven: true }, path);
  let frame = 0;
  const frames = (count: number, lagMs: number) => {
    for (let index = 0; index < count; index++, frame++) {
      arrive(10 + frame / 30, AT + frame * 1000 / 30, lagMs);
      controller.tick();
    }
  };
  frames(3, 900); // the start (the player's own work) is not counted
  frames(90, 10);
  assertEquals(controller.targetDelay, 0.2, "the page's delay");
  frames(3, 400); // a late burst: these parts came 0.4 s after the origin had them
  // 0.4 s lag + 15 ms margin, rounded up to the 50 ms step.
  assert(Math.abs(controller.targetDelay - 0.45) < 1e-9, `grown to ${controller.targetDelay}`);
  frames(115, 10); // the burst leaves the window after 3 s, then the buffer shrinks back
  const shrinking = controller.targetDelay;
  assert(shrinking < 0.45 && shrinking > 0.3, `shrinks back: ${shrinking}`);
  frames(120, 10);
  assertEquals(controller.targetDelay, 0.2, "back to the page's delay");
  assert(clock.node !== undefined);
  controller.destroy();
});

Deno.test("clock: a rate path is steered by rate to the node's clock", () => {
  const path = new FakePlaybackPath("rate");
  const { controller, arrive } = setUp({}, path);
  for (let frame = 0; frame < 30; frame++) arrive(10 + frame / 30, AT + frame * 1000 / 30);
  Object.assign(path.state, { currentTime: 10.3, hasFrame: true, canPlay: true });
  path.ranges = [[10, 11]];
  controller.tick();
  // An element path holds at least 0.15 s, above the node's 0.1 s (MSE's buffering needs it).
  assertEquals(controller.targetDelay, 0.15, "the element floor");
  // Live on the node's clock is 10.977, the frame due 10.827: 0.53 s behind, play faster.
  assertEquals(path.rates, [1.1]);
  assert(Math.abs(controller.latest!.delay - 0.677) < 0.005, `delay ${controller.latest!.delay}`);
  controller.destroy();
});

Deno.test("clock: without the node's clock the controller holds its delay behind the newest media", () => {
  const { path, targets } = followingPath();
  const { controller, clock, arrive } = setUp({}, path);
  arrive(10, AT);
  clock.node = undefined; // an old node: no offset, no at
  controller.tick();
  assert(!controller.onNodeClock);
  assertEquals(targets, []);
  assertEquals(controller.targetDelay, 0.5, "the player's own default");
  assertEquals(path.seeks.length, 1, "the old start seek");
  controller.destroy();
});
