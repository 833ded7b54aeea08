/** Unit tests of the playlist texts. */

import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { mediaPlaylist, type MediaPlaylistInput, multivariantPlaylist } from "./playlist.ts";

const part = (index: number, independent = false) => ({
  index,
  duration: 0.25,
  independent,
  data: new Uint8Array(0),
});

function input(overrides: Partial<MediaPlaylistInput> = {}): MediaPlaylistInput {
  return {
    targetDuration: 2,
    partTarget: 0.25,
    discontinuitySequence: 3,
    ended: false,
    segments: [
      { msn: 10, duration: 2, time: Date.UTC(2026, 0, 1), discontinuity: false, parts: null },
      { msn: 11, duration: 1.5, discontinuity: true, parts: [part(0, true), part(1)] },
    ],
    current: { msn: 12, discontinuity: false, parts: [part(0, true)] },
    partsFrom: 11,
    query: (name) => `sig-of-${name}`,
    ...overrides,
  };
}

Deno.test("a live media playlist: LL-HLS tags, parts, hint, dates, discontinuities", () => {
  const text = mediaPlaylist(input());
  const lines = text.split("\n");
  assertEquals(lines.slice(0, 8), [
    "#EXTM3U",
    "#EXT-X-VERSION:9",
    "#EXT-X-TARGETDURATION:2",
    "#EXT-X-MEDIA-SEQUENCE:10",
    "#EXT-X-DISCONTINUITY-SEQUENCE:3",
    "#EXT-X-INDEPENDENT-SEGMENTS",
    "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.75,HOLD-BACK=6",
    "#EXT-X-PART-INF:PART-TARGET=0.25",
  ]);
  assertMatch(
    text,
    /#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:00.000Z\n#EXTINF:2,\ns10.ts\?sig-of-s10.ts\n/,
  );
  assertMatch(
    text,
    /#EXT-X-DISCONTINUITY\n#EXT-X-PART:DURATION=0.25,URI="p11.0.ts\?sig-of-p11.0.ts",INDEPENDENT=YES\n#EXT-X-PART:DURATION=0.25,URI="p11.1.ts\?sig-of-p11.1.ts"\n#EXTINF:1.5,\ns11.ts/,
  );
  assertMatch(
    text,
    /URI="p12.0.ts\?sig-of-p12.0.ts",INDEPENDENT=YES\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI="p12.1.ts\?sig-of-p12.1.ts"\n$/,
  );
  assert(!text.includes("ENDLIST"));
});

Deno.test("parts of older segments are left out; the end has ENDLIST and no hint", () => {
  const old = mediaPlaylist(input({ partsFrom: 12 }));
  assert(!old.includes("p11.0.ts"));
  const ended = mediaPlaylist(input({ ended: true, current: null }));
  assertMatch(ended, /s11.ts\?sig-of-s11.ts\n#EXT-X-ENDLIST\n$/);
  assert(!ended.includes("PRELOAD-HINT"));
  const between = mediaPlaylist(input({ current: null }));
  assertMatch(between, /PRELOAD-HINT:TYPE=PART,URI="p12.0.ts/);
});

Deno.test("a multivariant playlist lists renditions, highest bandwidth first", () => {
  const text = multivariantPlaylist([
    { uri: "640x360/index.m3u8", bandwidth: 900_000, resolution: "640x360" },
    {
      uri: "1280x720/index.m3u8",
      bandwidth: 2_600_000,
      resolution: "1280x720",
      frameRate: 30,
      codecs: "avc1.64001f,mp4a.40.2",
    },
  ]);
  assertEquals(
    text,
    [
      "#EXTM3U",
      "#EXT-X-VERSION:9",
      "#EXT-X-INDEPENDENT-SEGMENTS",
      '#EXT-X-STREAM-INF:BANDWIDTH=2600000,RESOLUTION=1280x720,FRAME-RATE=30.000,CODECS="avc1.64001f,mp4a.40.2"',
      "1280x720/index.m3u8",
      "#EXT-X-STREAM-INF:BANDWIDTH=900000,RESOLUTION=640x360",
      "640x360/index.m3u8",
      "",
    ].join("\n"),
  );
});
