/**
 * Unit tests of the fMP4 copy of a track: real H.264/AAC from ffmpeg cut into one-frame stream
 * parts (as the `publish` command cuts), pushed into a real {@linkcode Stream} with the track
 * attached; the fMP4 playlist, parts, segments and init segments are checked box by box and with
 * ffprobe.
 */

import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { hasFfmpeg, type MediaFragment, tsFragments } from "../../tests/helpers/media.ts";
import { pesStarts } from "../../tests/helpers/pes_starts.ts";
import { join } from "../../shared/fmp4/boxes.ts";
import { child, readBoxes, view } from "../../shared/testing/box_reader.ts";
import { BufferMemory } from "../buffer_memory.ts";
import { Logger } from "../log.ts";
import { Metrics } from "../metrics.ts";
import { Stream } from "../stream.ts";
import { HlsTrack } from "./hls_track.ts";
import { tinyTs } from "../testing/tiny_ts.ts";
import { UriSigner } from "./uri_signer.ts";

const ffmpeg = await hasFfmpeg();

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
    fmp4IdleMs: 1000,
  });
  stream.attach(track, {});
  return { stream, track };
}

/** Pushes fragment `fragment` as stream `seq`, one part per frame (frames `from`..`to`). */
function push(
  stream: Stream,
  seq: number,
  fragment: MediaFragment,
  from = 0,
  to = Infinity,
  discontinuity = false,
) {
  const starts = pesStarts(fragment.data).map((start) => start.offset);
  starts[0] = 0;
  const end = Math.min(to, starts.length);
  for (let index = from; index < end; index++) {
    const last = index === starts.length - 1;
    stream.pushPart({
      type: "P",
      seq,
      part: index,
      time: 1_700_000_000_000 + seq * 2000 + index * 33,
      last: last || undefined,
      duration: last ? fragment.duration : undefined,
      discontinuity: index === 0 && discontinuity ? true : undefined,
      independent: index === 0 || undefined,
    }, fragment.data.subarray(starts[index], starts[index + 1] ?? fragment.data.byteLength));
  }
}

function tfdt(fragment: Uint8Array): number {
  const traf = child(readBoxes(fragment)[0], "traf", "tfdt");
  return Number(view(traf.payload).getBigUint64(4));
}

function videoCount(fragment: Uint8Array): number {
  return view(child(readBoxes(fragment)[0], "traf", "trun").payload).getUint32(4);
}

function videoTicks(fragment: Uint8Array): number {
  const trun = view(child(readBoxes(fragment)[0], "traf", "trun").payload);
  let total = 0;
  for (let index = 0; index < trun.getUint32(4); index++) total += trun.getUint32(12 + 16 * index);
  return total;
}

Deno.test({
  name: "fMP4: started on demand; parts remuxed as they close, listed with a map, gapless",
  ignore: !ffmpeg,
  async fn() {
    const fragments = await tsFragments({ seconds: 6, fragmentSeconds: 2 });
    const { stream, track } = setup();
    push(stream, 0, fragments[0]);
    assert(!track.fmp4Active, "no fMP4 before it is wanted");
    const first = track.playlist("fmp4");
    assert(track.fmp4Active);
    assertMatch(first, /#EXT-X-MAP:URI="(init-[0-9a-f]{16}\.mp4)\?e=\d+&s=[\w-]+"\n/);
    assertMatch(first, /p0\.0\.m4s\?e=\d+&s=[\w-]+",INDEPENDENT=YES\n/);
    assertMatch(first, /#EXTINF:2,\ns0\.m4s\?e=\d+&s=[\w-]+\n/);
    assertMatch(first, /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="p1\.0\.m4s/);
    assert(!first.includes(".ts"), "no MPEG-TS name in the fMP4 playlist");
    push(stream, 1, fragments[1], 0, 3);
    assertMatch(
      track.playlist("fmp4"),
      /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="p1\.0\.m4s/,
    );
    push(stream, 1, fragments[1], 3, 20);
    const text = track.playlist("fmp4");
    assertMatch(text, /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="p1\.2\.m4s/);
    const ts = track.playlist("ts");
    // Same numbers and durations as the MPEG-TS playlist.
    const shape = (playlist: string) =>
      playlist.replace(/\.(ts|m4s)\?[^"\n]+/g, "").replace(/#EXT-X-MAP[^\n]+\n/g, "");
    assertEquals(shape(text), shape(ts));
    const map = /#EXT-X-MAP:URI="(init-[0-9a-f]{16}\.mp4)/.exec(text)![1];
    const init = track.fmp4Init(map)!;
    assertEquals(readBoxes(init).map((box) => box.type), ["ftyp", "moov"]);
    const parts: Uint8Array[] = [];
    for (let index = 0; track.fmp4Part(1, index) !== undefined; index++) {
      parts.push(track.fmp4Part(1, index)!);
    }
    assertEquals(
      parts.length,
      track.playlist("ts").match(/#EXT-X-PART:[^\n]*p1\.\d+\.ts/g)!.length,
    );
    const s0 = track.fmp4Segment(0)!;
    const s0Parts = first.match(/#EXT-X-PART:[^\n]*p0\.\d+\.m4s/g)!.length;
    assertEquals(readBoxes(s0).length, 2 * s0Parts, "the segment is its parts joined");
    let end = tfdt(s0) + Math.round(fragments[0].duration * 90000);
    for (const part of parts) {
      assertEquals(readBoxes(part).map((box) => box.type), ["moof", "mdat"]);
      assertEquals(tfdt(part), end, "each part starts where the one before ended");
      end += videoTicks(part);
    }
    assertEquals(track.fmp4Part(1, parts.length), undefined);
    const file = await Deno.makeTempFile({ suffix: ".mp4" });
    try {
      await Deno.writeFile(file, join([init, s0, ...parts]));
      const probe = await new Deno.Command("ffprobe", {
        args: [
          "-v",
          "error",
          "-count_frames",
          "-select_streams",
          "v",
          "-show_entries",
          "stream=nb_read_frames",
          "-of",
          "csv=p=0",
          file,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assertEquals(new TextDecoder().decode(probe.stderr), "");
      assertEquals(
        Number(new TextDecoder().decode(probe.stdout).trim()),
        60 + parts.reduce((sum, part) => sum + videoCount(part), 0),
      );
    } finally {
      await Deno.remove(file);
    }
  },
});

Deno.test({
  name: "fMP4: a discontinuity writes the map again; the copy is dropped when no longer wanted",
  ignore: !ffmpeg,
  async fn() {
    const fragments = await tsFragments({ seconds: 6, fragmentSeconds: 2 });
    const { stream, track } = setup();
    push(stream, 0, fragments[0]);
    track.wantFmp4();
    push(stream, 1, fragments[1], 0, Infinity, true);
    const text = track.playlist("fmp4");
    assertEquals(
      text.match(/#EXT-X-MAP/g)?.length,
      2,
      "one at the start, one after the discontinuity",
    );
    assertMatch(text, /#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init-/);
    assert(track.fmp4Bytes > 0);
    track.sweepFmp4(performance.now());
    assert(track.fmp4Active, "still wanted");
    track.sweepFmp4(performance.now() + 1001);
    assert(!track.fmp4Active, "dropped after the idle period");
    assertEquals(track.fmp4Bytes, 0);
    assertEquals(track.fmp4Segment(0), undefined);
    push(stream, 2, fragments[2]);
    assert(!track.fmp4Active, "a new fragment does not start it again");
    assertMatch(track.playlist("fmp4"), /s2\.m4s/);
    assert(track.fmp4Segment(2) !== undefined, "a new request does");
  },
});

Deno.test("fMP4: parts that cannot be remuxed are not awaited or listed; the TS ones are", () => {
  const { stream, track } = setup();
  track.wantFmp4();
  // Timed MPEG-TS with no H.264 NAL unit in it: parts for MPEG-TS, nothing to remux.
  for (let index = 0; index < 8; index++) {
    stream.pushPart({
      type: "P",
      seq: 0,
      part: index,
      time: 1_700_000_000_000 + index * 33,
      independent: index === 0 || undefined,
    }, tinyTs(126000 + index * 3000, index === 0));
  }
  assert(track.has(0, 0), "the MPEG-TS part 0 exists");
  assert(!track.has(0, 0, "fmp4"), "the fMP4 playlist does not list it: its waiters wait on");
  assertMatch(track.playlist("ts"), /#EXT-X-PART:[^\n]*p0\.0\.ts/);
  assert(!track.playlist("fmp4").includes("#EXT-X-PART:"), "no fMP4 part listed");
  assertEquals(track.fmp4Part(0, 0), undefined);
});

Deno.test({
  name:
    "fMP4 from a stream's first frame: parts wait for the first AAC frame, the init has both tracks",
  ignore: !ffmpeg,
  async fn() {
    const fragments = await tsFragments({ seconds: 6, fragmentSeconds: 2 });
    const { stream, track } = setup();
    track.wantFmp4(); // before the stream has anything: no track is known yet
    push(stream, 0, fragments[0], 0, 30);
    const text = track.playlist("fmp4");
    const map = /#EXT-X-MAP:URI="(init-[0-9a-f]{16}\.mp4)/.exec(text)![1];
    const moov = readBoxes(track.fmp4Init(map)!)[1];
    assertEquals(readBoxes(moov.payload).filter((box) => box.type === "trak").length, 2);
    assertEquals(
      text.match(/#EXT-X-PART:/g)?.length,
      track.playlist("ts").match(/#EXT-X-PART:/g)?.length,
      "every part listed once the init is known",
    );
    push(stream, 0, fragments[0], 30);
    push(stream, 1, fragments[1]);
    assertEquals(
      track.playlist("fmp4").match(/#EXT-X-MAP/g)?.length,
      1,
      "one init for both segments",
    );
  },
});
