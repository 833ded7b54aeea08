import { assertEquals } from "../helpers/assert.ts";
import { abrNumbers } from "./abr_report.ts";

/** 30 s at 10 fps; delay 200 ms, 900 ms from the drop to the switch down, a 600 ms freeze. */
function run() {
  const frames = [];
  for (let index = 0; index < 300; index++) {
    const shown = index * 100;
    if (shown > 14000 && shown < 14600) continue; // frozen
    const delay = shown >= 10000 && shown < 12000 ? 900 : 200;
    frames.push({ shown, code: index === 50 ? null : shown - delay, frame: index });
  }
  const sizes = [
    { size: "1280x720", width: 1280, at: -5000 },
    { size: "640x360", width: 640, at: 12000 },
    { size: "1280x720", width: 1280, at: 16000 }, // up while still limited
    { size: "640x360", width: 640, at: 17000 },
    { size: "1280x720", width: 1280, at: 25000 },
  ];
  return { start: 0, dropAt: 10000, liftAt: 20000, end: 30000, frames, sizes };
}

Deno.test("abr report: stalls, seconds per size, switch times and delays from the picture", () => {
  const numbers = abrNumbers(run());
  assertEquals(numbers.stalls, 1);
  assertEquals(numbers.longestGapMs, 600);
  // The 600 ms freeze (14.0–14.6 s, at 640x360) is not time in a rendition.
  assertEquals(numbers.frozenSeconds, 0.6);
  assertEquals(numbers.secondsIn["1280x720"], 12 + 1 + 5);
  assertEquals(Math.round(numbers.secondsIn["640x360"] * 1000), (4 + 8 - 0.6) * 1000);
  assertEquals(numbers.downMs, 2000);
  assertEquals(numbers.upMs, 5000);
  assertEquals(numbers.upWhileLimited, 1);
  assertEquals(numbers.delay, {
    beforeDrop: 200,
    duringDown: 900,
    endOfLimited: 200,
    duringUp: 200,
    afterUp: 200,
  });
  assertEquals(numbers.unreadable, 1);
});

Deno.test("abr report: no switch at all", () => {
  const { sizes: _, ...rest } = run();
  const numbers = abrNumbers({ ...rest, sizes: [{ size: "1280x720", width: 1280, at: 0 }] });
  assertEquals(numbers.downMs, null);
  assertEquals(numbers.upMs, null);
  assertEquals(numbers.upWhileLimited, 0);
  assertEquals(Math.round(numbers.secondsIn["1280x720"] * 10), 294); // 30 s less the freeze
});
