import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { FrameQueue } from "./frame_queue.ts";
import { PlayoutClock } from "./playout_clock.ts";

Deno.test("playout clock: waits before a seek, runs at rate 1, stalls at the end of media, follows", () => {
  const clock = new PlayoutClock();
  assert(!clock.started);
  assertEquals(clock.time(500), 0);
  clock.seek(5, 1000);
  clock.limit = 6;
  assertEquals(clock.time(1500), 5.5);
  assertEquals(clock.time(3000), 6, "stalled at the end of the media");
  clock.limit = 7;
  assertEquals(clock.time(3250), 6.25, "goes on from where it waited");
  clock.follow((now) => now / 1000, 4000);
  assert(clock.following);
  assertEquals(clock.time(9000), 9, "a followed clock stalls nowhere");
  clock.follow(null, 9000);
  clock.limit = 100;
  assertEquals(clock.time(9500), 9.5, "free again from where the followed one was");
});

Deno.test("frame queue: shows the newest due frame, drops older ones, audio by lateness", () => {
  const video = new FrameQueue<{ time: number; duration: number }>();
  for (const time of [1.066, 1, 1.033, 1.1]) video.push({ time, duration: 0.033 });
  assertEquals(video.first, 1, "kept in presentation order");
  assertEquals(video.due(0.9), { show: undefined, drop: [] });
  const due = video.due(1.07);
  assertEquals(due.show?.time, 1.066);
  assertEquals(due.drop.map((frame) => frame.time), [1, 1.033]);
  assert(Math.abs(video.untilNext(1.07)! - 0.03) < 1e-9);
  assertEquals(video.end, 1.133);
  const audio = new FrameQueue<{ time: number; duration: number }>();
  for (const time of [0.7, 0.95, 1, 1.02, 1.2]) audio.push({ time, duration: 0.021 });
  const { play, drop } = audio.dueAll(1.02, 0, 0.1);
  assertEquals(drop.map((frame) => frame.time), [0.7]);
  assertEquals(play.map((frame) => frame.time), [0.95, 1, 1.02]);
  assertEquals(audio.clear().length, 1);
  assertEquals(audio.end, -Infinity);
});
