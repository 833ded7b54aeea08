import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { Timeline, type TimelineChunk } from "./timeline.ts";

const start = (extra: Partial<TimelineChunk> = {}): TimelineChunk => ({
  starts: true,
  independent: true,
  jump: false,
  discontinuity: false,
  duration: 2,
  ends: true,
  ...extra,
});
const middle: TimelineChunk = {
  starts: false,
  independent: false,
  jump: false,
  discontinuity: false,
};

Deno.test("Timeline keeps continuous timestamps and offsets restarts to the buffered end", () => {
  const timeline = new Timeline();
  const pts = (seconds: number) => seconds * 90000;
  assertEquals(timeline.place(start(), pts(10), 0), {
    newTimeline: true,
    drop: false,
    offset: 0,
    start: 10,
  });
  assertEquals(timeline.place(start(), pts(12), 12).newTimeline, false);
  assertEquals(timeline.place(middle, pts(12.5), 12.5).start, 12.5);
  // The same fragment again after a reconnection overlaps: no new timeline.
  assertEquals(timeline.place(start(), pts(12), 13).newTimeline, false);
  // A restarted encoder (PTS back to 0) without a flag is found by its timestamps.
  const restart = timeline.place(start(), pts(0), 14);
  assert(restart.newTimeline);
  assertEquals(restart.start, 14);
  assertEquals(timeline.place(start(), pts(2), 16).start, 16);
  // Flags force a new timeline even when the step looks plausible.
  const jumped = timeline.place(start({ jump: true }), pts(6), 18);
  assert(jumped.newTimeline);
  assertEquals(jumped.start, 18);
});

Deno.test("Timeline drops chunks until a keyframe after a start or a forced resync", () => {
  const timeline = new Timeline();
  assertEquals(timeline.place(middle, 90000, 0).drop, true);
  assertEquals(timeline.place({ ...middle, independent: true }, 2 * 90000, 0).drop, false);
  timeline.forceNewTimeline();
  assertEquals(timeline.place(middle, 3 * 90000, 3).drop, true);
  const next = timeline.place(start(), 4 * 90000, 3);
  assert(next.newTimeline && !next.drop);
});

Deno.test("Timeline splices after the previous fragment's end when the buffer lags behind it", () => {
  const timeline = new Timeline();
  timeline.place(start(), 10 * 90000, 0);
  // The buffered end (11.8) lags the fragment's true end (12): the new timeline starts at 12.
  assertEquals(timeline.place(start({ discontinuity: true }), 0, 11.8).start, 12);
  // A buffered end past the previous fragment wins.
  assertEquals(timeline.place(start({ discontinuity: true }), 0, 14.5).start, 14.5);
});

Deno.test("Timeline places a discontinuity right after a fragment whose append is still queued", () => {
  const timeline = new Timeline();
  assertEquals(timeline.place(start(), 19 * 90000, 0).start, 19);
  // Nothing is buffered yet (the first append runs), but the new timeline follows the fragment.
  const partZero = start({ discontinuity: true, duration: undefined, ends: false });
  assertEquals(timeline.place(partZero, 1.5 * 90000, 0).start, 21);
  // With parts of unknown duration, it follows the newest part seen.
  timeline.place({ ...middle, duration: undefined }, 2 * 90000, 0);
  const jumped = timeline.place(start({ jump: true }), 40 * 90000, 0);
  assertEquals(jumped.start, 21.5 + 0.25);
});
