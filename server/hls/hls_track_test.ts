/**
 * Unit tests of a stream served as HLS: a real {@linkcode Stream} fed with tiny timed MPEG-TS
 * parts (`server/testing/tiny_ts.ts`), the track attached at the subscriber seam.
 */

import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { BufferMemory } from "../buffer_memory.ts";
import { Logger } from "../log.ts";
import { Metrics } from "../metrics.ts";
import { Stream } from "../stream.ts";
import { tinyTs } from "../testing/tiny_ts.ts";
import { HlsTrack } from "./hls_track.ts";
import { UriSigner } from "./uri_signer.ts";

const FRAME = 3000; // 90 kHz ticks of one frame at 30 fps

function setup() {
  const stream = new Stream({
    id: "room/a",
    maxFragments: 10,
    memory: new BufferMemory(),
    metrics: new Metrics(),
    log: Logger.silent(),
  });
  const track = new HlsTrack("room/a", {
    partTarget: 0.25,
    segments: 3,
    signer: new UriSigner("secret"),
  });
  return { stream, track };
}

/** Pushes frames `from`..`to` (exclusive) of fragment `seq` (60 frames, 2 s) as frame-level parts. */
function frames(stream: Stream, seq: number, from: number, to: number, discontinuity = false) {
  for (let index = from; index < to; index++) {
    const last = index === 59;
    stream.pushPart({
      type: "P",
      seq,
      part: index,
      time: 1_700_000_000_000 + seq * 2000 + index * 33,
      last: last || undefined,
      duration: last ? 2 : undefined,
      discontinuity: index === 0 && discontinuity ? true : undefined,
      independent: index === 30 || undefined,
    }, tinyTs((seq * 60 + index) * FRAME, index === 0));
  }
}

Deno.test("parts are listed as they close; blocked reloads are answered by the update", async () => {
  const { stream, track } = setup();
  stream.attach(track, {});
  frames(stream, 0, 0, 60);
  frames(stream, 1, 0, 6);
  assert(!track.has(1, 0), "six frames are not a part yet");
  const waiting = track.waiters.wait("1.0", (t) => t.has(1, 0), 5000);
  frames(stream, 1, 6, 7);
  assertEquals(await waiting, true, "the seventh frame closes part 0");
  const text = track.playlist();
  assertMatch(text, /#EXT-X-MEDIA-SEQUENCE:0\n/);
  assertMatch(text, /#EXTINF:2,\ns0.ts\?e=\d+&s=[\w-]+\n/);
  assertMatch(
    text,
    /p1.0.ts\?e=\d+&s=[\w-]+",INDEPENDENT=YES\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI="p1.1.ts/,
  );
  assertEquals(track.part(1, 0)?.data.byteLength, 7 * 188 + 2 * 188, "seven frames, one copy");
  assertEquals(track.segment(0)?.byteLength, 62 * 188);
  assertEquals(track.playlist(), text, "rendered once per update");
});

Deno.test("the window slides; a gap starts a new one with a discontinuity", () => {
  const { stream, track } = setup();
  stream.attach(track, {});
  for (let seq = 0; seq < 5; seq++) frames(stream, seq, 0, 60);
  let text = track.playlist();
  assertMatch(text, /#EXT-X-MEDIA-SEQUENCE:2\n/);
  assert(!text.includes("p2.0.ts"), "parts only for the newest segments");
  assert(text.includes("p4.0.ts") && text.includes("p3.0.ts"));
  frames(stream, 7, 0, 60); // 5 and 6 never came
  text = track.playlist();
  assertMatch(text, /#EXT-X-MEDIA-SEQUENCE:7\n/);
  assertMatch(text, /#EXT-X-DISCONTINUITY\n/);
});

Deno.test("a track that joins mid-fragment lists that fragment whole, then parts", () => {
  const { stream, track } = setup();
  frames(stream, 0, 0, 40);
  stream.attach(track, { maxInitialFragments: 0 }); // from the keyframe part 30 on
  frames(stream, 0, 40, 60);
  assertEquals(track.part(0, 0), undefined);
  assertMatch(track.playlist(), /#EXTINF:2,\ns0.ts/);
  frames(stream, 1, 0, 10);
  assert(track.part(1, 0) !== undefined, "the next fragment, seen from part 0, has parts");
});

Deno.test("the end: ENDLIST, and every waiter is answered", async () => {
  const { stream, track } = setup();
  stream.attach(track, {});
  frames(stream, 0, 0, 60);
  const waiting = track.waiters.wait("5.0", (t) => t.has(5, 0), 60_000);
  stream.end({ kind: "closed" });
  assertEquals(await waiting, true);
  assertMatch(track.playlist(), /s0.ts\?[^\n]+\n#EXT-X-ENDLIST\n$/);
});
