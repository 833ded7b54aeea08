/**
 * Adaptive bitrate end to end (`documentation/abr.md`), with real processes: the `publish`
 * command sends two renditions (1 s keyframes) to a node; a viewer pulls the group through a TCP
 * proxy that limits its bandwidth on a schedule (5 → 1.2 → 5 Mbit/s), another viewer pulls it on
 * a free link. The limited viewer moves down soon after the drop without any `jump`, stays down
 * while the limit holds (no flapping), its delay is back where it was within 3 s of the switch (the
 * node sheds the rest of the fragment's video once it decides to move down, so the queue drains
 * before the switch), and it moves back up after the limit lifts; the free viewer stays on the top
 * rendition throughout.
 */

import { assert, assertAtMost, assertEquals } from "../helpers/assert.ts";
import { GroupViewer, type ViewerUnit } from "../helpers/group_viewer.ts";
import { hasFfmpeg } from "../helpers/media.ts";
import { metrics } from "../helpers/node_metrics.ts";
import { startNode } from "../helpers/node_process.ts";
import { LOW_RENDITION, publishRenditions, TOP_RENDITION } from "../helpers/publish_command.ts";
import { RateProxy } from "../helpers/rate_proxy.ts";

const TOP = TOP_RENDITION;
const LOW = LOW_RENDITION;

function describe(units: readonly ViewerUnit[], start: number): string {
  const runs: string[] = [];
  let last = "";
  for (const unit of units) {
    if (unit.rendition !== last) {
      last = unit.rendition;
      runs.push(`${((unit.at - start) / 1000).toFixed(1)}s ${unit.rendition.split("/").pop()}`);
    }
  }
  return runs.join(", ");
}

Deno.test({
  name: "abr: a limited viewer moves down within 2 s of the drop, back up after it, never flaps",
  ignore: !await hasFfmpeg(),
  async fn() {
    await using node = await startNode();
    const publisher = publishRenditions(node.wsUrl);
    try {
      await using proxy = RateProxy.start(node.port, 5_000_000);
      // Both renditions live.
      let free: GroupViewer | undefined;
      for (let tries = 0; free === undefined; tries++) {
        try {
          free = await GroupViewer.open(node.wsUrl, "room/live");
          if ((free.ok.renditions ?? []).length < 2) {
            await free[Symbol.asyncDispose]();
            free = undefined;
          }
        } catch (error) {
          if (tries > 100) throw error;
        }
        if (free === undefined) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      await using _free = free;
      assertEquals(free.ok.renditions, [TOP, LOW]);
      await using limited = await GroupViewer.open(proxy.wsUrl, "room/live");
      const start = performance.now();
      await limited.waitFor((unit) => unit.rendition === TOP, 10000);

      // 5 Mbit/s: stays on top.
      await new Promise((resolve) => setTimeout(resolve, 5000));
      assert(limited.units.every((unit) => unit.rendition === TOP), describe(limited.units, start));

      // 1.2 Mbit/s: down, with no jump, media from 2 s after the drop on is the low rendition.
      proxy.rate = 1_200_000;
      const dropWall = Date.now();
      const dropAt = performance.now();
      const fromDrop = limited.units.length;
      const down = await limited.waitFor((unit) => unit.rendition === LOW, 15000, fromDrop);
      const firstLow = limited.units[down];
      assertEquals(firstLow.header.rendition, LOW);
      assertEquals(firstLow.header.reason, "down");
      const mediaDelay = firstLow.header.time! - dropWall;
      const arrival = firstLow.at - dropAt;
      console.log(
        `switch down: media from ${mediaDelay} ms after the drop, arrived ${
          arrival.toFixed(0)
        } ms after it`,
      );
      assertAtMost(mediaDelay, 2000, "ms from the drop to the first low media");
      console.log(`codecs on the switch: ${firstLow.header.codecs ?? "(same as before)"}`);

      // Steady at 1.2 Mbit/s for 10 s: no switch back up.
      await new Promise((resolve) => setTimeout(resolve, 10000));
      assert(
        limited.units.slice(down).every((unit) => unit.rendition === LOW),
        `flapped: ${describe(limited.units, start)}`,
      );

      // 5 Mbit/s again: up within 10 s.
      proxy.rate = 5_000_000;
      const liftAt = performance.now();
      const fromLift = limited.units.length;
      const up = await limited.waitFor((unit) => unit.rendition === TOP, 10000, fromLift);
      assertEquals(limited.units[up].header.reason, "up");
      console.log(`switch up: ${(limited.units[up].at - liftAt).toFixed(0)} ms after the lift`);
      console.log(`limited viewer: ${describe(limited.units, start)}`);
      const delay = (unit: ViewerUnit) => unit.wallAt - (unit.header.time ?? unit.wallAt);
      const delays = (units: readonly ViewerUnit[]) => units.map(delay).sort((a, b) => a - b);
      const median = (units: readonly ViewerUnit[]) => delays(units)[units.length >> 1] ?? NaN;
      const lowUnits = limited.units.slice(down, up);
      console.log(
        `delay (ms, capture to arrival): free viewer median ${median(free.units)}; limited ` +
          `before the drop ${median(limited.units.slice(0, fromDrop))}, at the switch ` +
          `${delay(firstLow)}, worst on low ${Math.max(...delays(lowUnits))}, last on low ` +
          `${delay(lowUnits.at(-1)!)}, after the switch up ${median(limited.units.slice(up))}`,
      );

      // The queue the drop left is drained (the video shed before the switch): back at the delay
      // it had before the drop within 3 s of the switch.
      const target = median(limited.units.slice(0, fromDrop)) + 300;
      const settledAt = lowUnits.findIndex((_, i) =>
        lowUnits.slice(i).every((u) => delay(u) <= target)
      );
      assert(settledAt !== -1, `the delay on low never settled under ${target} ms`);
      const settledMs = lowUnits[settledAt].at - firstLow.at;
      console.log(`delay back under ${target} ms ${settledMs.toFixed(0)} ms after the switch`);
      assertAtMost(settledMs, 3000, "ms from the switch to the delay back at its target");
      assert(
        limited.units.every((unit) => !unit.header.jump),
        "no jump on the limited viewer",
      );
      assert(free.units.every((unit) => unit.rendition === TOP), describe(free.units, start));
      assert(free.units.every((unit) => !unit.header.jump), "no jump on the free viewer");
      const counted = await metrics(node);
      assertEquals(counted.get('hlswscdn_abr_switches_total{direction="down"}'), 1);
      assertEquals(counted.get('hlswscdn_abr_switches_total{direction="up"}'), 1);
      assertEquals(counted.get(`hlswscdn_abr_viewers{rendition="${TOP}"}`), 2);
      const shed = counted.get("hlswscdn_abr_shed_bytes_total") ?? 0;
      console.log(`video shed before the switch down: ${shed} bytes`);
      assert(shed > 0, "video shed between the decision and the keyframe");
    } finally {
      await publisher.stop();
    }
  },
});
