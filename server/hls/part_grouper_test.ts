/** Unit tests of the part grouper, with PTS given directly (no media needed). */

import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { type HlsPart, PartGrouper } from "./part_grouper.ts";

const HZ = 90000;
const bytes = (fill: number) => new Uint8Array([fill]);

/** Feeds `count` parts of `seconds` each (a fragment of `count * seconds`); records when each HLS part closed. */
function feed(grouper: PartGrouper, count: number, seconds: number) {
  const closedAt: number[][] = [];
  for (let index = 0; index < count; index++) {
    const closed = grouper.push({
      data: bytes(index),
      pts: 1000 + Math.round(index * seconds * HZ),
      independent: index === 0,
      last: index === count - 1,
      fragmentDuration: index === count - 1 ? count * seconds : undefined,
    });
    closedAt.push(closed.map((part) => part.index));
  }
  return closedAt;
}

const sum = (parts: HlsPart[]) => parts.reduce((total, part) => total + part.duration, 0);

Deno.test("frame-level parts are grouped to the target, each published on its last frame's arrival", () => {
  const grouper = new PartGrouper(0.25);
  const closedAt = feed(grouper, 60, 1 / 30);
  const parts = grouper.parts;
  assertEquals(parts.length, 9, "2 s of 7-frame groups (and a shorter last one)");
  for (const part of parts) assert(part.duration <= 0.25, `${part.duration} within the target`);
  assertEquals(parts.slice(0, -1).map((part) => Math.round(part.duration * 30)), [
    7,
    7,
    7,
    7,
    7,
    7,
    7,
    7,
  ]);
  assert(Math.abs(sum(parts) - 2) < 1e-6, "the parts add up to the fragment");
  assertEquals(closedAt[6], [0], "part 0 closes with its 7th frame");
  assertEquals(closedAt[13], [1]);
  assertEquals(closedAt[59], [8], "the last closes with the fragment");
  assertEquals(parts[0].independent, true);
  assertEquals(parts[0].data, new Uint8Array([0, 1, 2, 3, 4, 5, 6]), "joined once, in order");
});

Deno.test("200 ms parts: one per HLS part; only a fragment's first waits for the next", () => {
  const grouper = new PartGrouper(0.25);
  const closedAt = feed(grouper, 10, 0.2);
  assertEquals(grouper.parts.length, 10);
  assertEquals(closedAt[0], [], "the first part's length is not known yet");
  assertEquals(closedAt[1], [0, 1], "part 0 closes on part 1, which closes at once");
  assertEquals(closedAt[5], [5]);
  assert(grouper.parts[3].data.byteLength === 1, "a single stream part is served as it is");
});

Deno.test("with the length of the part before, a fragment's first HLS part closes on arrival", () => {
  const grouper = new PartGrouper(0.25, 0.2);
  const closedAt = feed(grouper, 10, 0.2);
  assertEquals(closedAt[0], [0]);
  assertEquals(closedAt[1], [1]);
  assertEquals(grouper.parts.length, 10);
  assertEquals(grouper.lastPartSeconds, 0.2);
});

Deno.test("a part longer than the target, or one without a timestamp, leaves the fragment without parts", () => {
  const long = new PartGrouper(0.25);
  feed(long, 4, 0.5);
  assert(long.broken);
  const untimed = new PartGrouper(0.25);
  assertEquals(
    untimed.push({ data: bytes(0), pts: undefined, independent: true, last: false }),
    [],
  );
  assert(untimed.broken);
});

Deno.test("the same parts give the same HLS parts on every node", () => {
  const a = new PartGrouper(0.3);
  const b = new PartGrouper(0.3);
  feed(a, 45, 1 / 30);
  feed(b, 45, 1 / 30);
  assertEquals(
    a.parts.map((part) => [part.index, part.duration]),
    b.parts.map((part) => [part.index, part.duration]),
  );
});

Deno.test("timestamps that wrap at 2^33 still give durations", () => {
  const grouper = new PartGrouper(0.25);
  const start = 2 ** 33 - 3000;
  for (let index = 0; index < 8; index++) {
    grouper.push({
      data: bytes(index),
      pts: (start + index * 3000) % 2 ** 33,
      independent: index === 0,
      last: false,
    });
  }
  assertEquals(grouper.parts.length, 1);
  assert(Math.abs(grouper.parts[0].duration - 7 / 30) < 1e-6);
});
