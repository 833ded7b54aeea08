import { assert, assertAtMost, assertEquals } from "../../tests/helpers/assert.ts";
import type { LatencyInfo } from "../events.ts";
import { DEFAULT_MAX_DELAY_MARGIN } from "../options.ts";
import { fragmentChunk, partChunk } from "../testing/chunks.ts";
import { FakePlaybackPath } from "../testing/fake_playback_path.ts";
import { until } from "../../shared/testing/until.ts";
import {
  LatencyController,
  type LatencyControllerOptions,
  type SeekReason,
} from "./latency_controller.ts";

/** A controller on a fake path with a clock the test moves; it decides when the test ticks. */
function setUp(options: Partial<LatencyControllerOptions> = {}, path = new FakePlaybackPath()) {
  let now = 1000;
  const controller = new LatencyController(path, {
    delay: 0.5,
    maxRate: 1.1,
    intervalMs: 0,
    nodeSendsParts: () => true,
    now: () => now,
    ...options,
  });
  const seeks: SeekReason[] = [];
  const infos: LatencyInfo[] = [];
  let stalls = 0;
  controller.addEventListener("seeked", (event) => seeks.push(event.detail));
  controller.addEventListener("latency", (event) => infos.push(event.detail));
  controller.addEventListener("stalled", () => stalls++);
  return {
    path,
    controller,
    seeks,
    infos,
    stalls: () => stalls,
    advance: (ms: number) => now += ms,
  };
}

/** The path plays: a frame at the playhead and media ahead of it. */
function playing(path: FakePlaybackPath, currentTime: number): void {
  Object.assign(path.state, { currentTime, hasFrame: true, canPlay: true, paused: false });
}

Deno.test("LatencyController starts at live minus the target once the burst is in", async () => {
  const { path, controller, seeks } = setUp();
  path.pending = 1; // the parts made so far are still on their way
  path.arrive(fragmentChunk({ seq: 1, start: 10, duration: 2 }));
  path.pending = 0;
  path.arrive(partChunk({ seq: 2, part: 0, start: 12, duration: 0.2 }));
  await until(() => seeks.length === 1, "a start seek soon after the burst");
  assertEquals(seeks, ["start"]);
  assertEquals(path.seeks, [11.7]);
  controller.destroy();
});

Deno.test("LatencyController catches up by rate on a rate path, and puts the rate back after", () => {
  const { path, controller, infos } = setUp();
  path.arrive(fragmentChunk({ seq: 1, start: 10, duration: 2 }));
  playing(path, 10.5); // 1.5 s behind, target 0.5 s: 1 s too far
  controller.tick();
  assertEquals(path.rates, [1.1]);
  assertEquals(path.seeks, []);
  assertEquals(infos.at(-1)?.delay, 1.5);
  assertEquals(infos.at(-1)?.playbackRate, 1.1);
  playing(path, 11.5); // at the target
  path.state.rate = 1.1;
  controller.tick();
  assertEquals(path.rates, [1.1, 1]);
  path.state.rate = 1.05;
  controller.destroy();
  assertEquals(path.rates, [1.1, 1, 1], "destroy puts the rate back to 1");
});

Deno.test("LatencyController catches up by dropping frames on a drop path", () => {
  const { path, controller } = setUp({}, new FakePlaybackPath("drop"));
  path.arrive(fragmentChunk({ seq: 1, start: 10, duration: 2 }));
  playing(path, 10.5);
  controller.tick();
  assertEquals(path.drops, [11.5], "frames before live minus the target are dropped");
  assertEquals(path.rates, []);
  controller.destroy();
  assertEquals(path.rates, [], "a drop path has no rate to put back");
});

Deno.test("LatencyController jumps beyond maxDelay: by default the target plus DEFAULT_MAX_DELAY_MARGIN", () => {
  const { path, controller, seeks } = setUp();
  assertEquals(controller.maxDelay, 0.5 + DEFAULT_MAX_DELAY_MARGIN);
  path.arrive(fragmentChunk({ seq: 1, start: 10, duration: 4 }));
  playing(path, 14 - controller.maxDelay + 0.05);
  controller.tick();
  assertEquals(seeks, []);
  playing(path, 14 - controller.maxDelay - 0.05);
  controller.tick();
  assertEquals(seeks, ["jump"]);
  assertEquals(path.seeks, [13.5]);
  controller.setDelay(0.5, 0.6);
  assertEquals(controller.maxDelay, 1, "at least half a second above the target");
  controller.destroy();
});

Deno.test("LatencyController raises the target to what the delivery needs", () => {
  const parts = setUp();
  parts.path.arrive(partChunk({ seq: 1, part: 0, start: 10, duration: 0.2 }));
  parts.advance(1000); // the next part comes a second later
  parts.path.arrive(partChunk({ seq: 1, part: 1, start: 10.2, duration: 0.2 }));
  assertAtMost(Math.abs(parts.controller.targetDelay - (1 * 1.1 + 0.15)), 1e-9, "gap target");
  parts.controller.destroy();

  const whole = setUp({ nodeSendsParts: () => false });
  whole.path.arrive(fragmentChunk({ seq: 1, start: 10, duration: 2 }));
  assertAtMost(Math.abs(whole.controller.targetDelay - (2 * 1.1 + 0.15)), 1e-9, "a fragment");
  whole.controller.destroy();
});

Deno.test("LatencyController reports a stall once, and the latency from the publisher's clock", () => {
  const { path, controller, infos, stalls } = setUp();
  const time = Date.now() - 3000;
  path.arrive(fragmentChunk({ seq: 1, start: 10, duration: 2, time }));
  playing(path, 11.95);
  path.state.canPlay = false; // 0.05 s left and no media ahead: run dry
  controller.tick();
  controller.tick();
  assertEquals(stalls(), 1);
  const latency = infos.at(-1)!.latency!;
  // The frame on screen was captured 1.95 s after `time`, which was 3 s ago.
  assert(Math.abs(latency - 1.05) < 0.05, `latency ${latency}`);
  assertEquals(infos.at(-1)!.bufferLength.toFixed(2), "0.05");
  controller.destroy();
});
