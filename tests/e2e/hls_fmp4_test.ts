/**
 * The fMP4 (CMAF) variant of LL-HLS from a real node, fed by the `publish` command's test pattern:
 * the playlist keeps the LL-HLS rules with an `EXT-X-MAP` (parts within `PART-TARGET`, consecutive
 * media sequence numbers across blocking reloads, hold-backs), its init, parts and segments are
 * MP4 boxes, `ffmpeg -i <playlist> -c copy` records an MP4 file ffprobe decodes, a changed
 * signature gets 403; then, with a test publisher sending frames one by one, a blocked reload is
 * answered within 100 ms of the part's arrival and the end gives EXT-X-ENDLIST; a rendition group
 * has an fMP4 multivariant playlist.
 */

import { assert, assertAtMost, assertEquals, assertMatch } from "../helpers/assert.ts";
import { publisherFor, pullToken, type TestClient } from "../helpers/client.ts";
import { checkRules, type Parsed, parsePlaylist, recordWithFfmpeg } from "../helpers/ll_hls.ts";
import { hasFfmpeg, type MediaFragment, tsFragments } from "../helpers/media.ts";
import { startNode, TEST_SECRETS } from "../helpers/node_process.ts";
import { pesStarts } from "../helpers/pes_starts.ts";
import { PublishCommand } from "../helpers/publish_command.ts";
import { readBoxes } from "../../shared/testing/box_reader.ts";

/** One frame of a fragment (cut at video PES starts), as a publisher's frame-level part. */
function frames(fragment: MediaFragment): Uint8Array[] {
  const starts = pesStarts(fragment.data).map((start) => start.offset);
  return starts.map((offset, index) =>
    fragment.data.subarray(index === 0 ? 0 : offset, starts[index + 1] ?? fragment.data.length)
  );
}

function sendFrame(
  publisher: TestClient,
  seq: number,
  index: number,
  all: Uint8Array[],
  duration: number,
): void {
  const last = index === all.length - 1;
  publisher.send({
    type: "P",
    seq,
    part: index,
    time: Date.now(),
    last: last || undefined,
    duration: last ? duration : undefined,
  });
  publisher.sendBinary(all[index]);
}

async function boxTypes(url: string): Promise<{ types: string[]; response: Response }> {
  const response = await fetch(url);
  assertEquals(response.status, 200, url);
  const bytes = new Uint8Array(await response.arrayBuffer());
  return { types: readBoxes(bytes).map((box) => box.type), response };
}

/** Reads the playlist until it lists parts (the publisher and the copy have started). */
async function firstPlaylist(url: string): Promise<Parsed> {
  const deadline = performance.now() + 20_000;
  for (;;) {
    const response = await fetch(url);
    const text = await response.text();
    if (response.status === 200) {
      const playlist = parsePlaylist(text);
      if (playlist.partUris.length > 0 && playlist.segments.length > 0) return playlist;
    }
    if (performance.now() > deadline) throw new Error(`no fMP4 parts in time: ${text}`);
    // The first blocking reload waits for the stream's first segment.
    await fetch(`${url}&_HLS_msn=0`).then((r) => r.body?.cancel());
  }
}

Deno.test({
  name: "LL-HLS in fMP4 from a node: rules, boxes, recording, refusals, blocking, groups, end",
  ignore: !(await hasFfmpeg()),
  fn: async (t) => {
    await using node = await startNode();
    const command = new PublishCommand([
      "--url",
      node.wsUrl,
      "--stream",
      "room/cmaf",
      "--secret",
      TEST_SECRETS.PUSH_SECRET,
      "--test-pattern",
      "--size",
      "640x360",
    ]);
    const token = await pullToken("room/cmaf");
    const base = `${node.httpUrl}/hls/room/cmaf`;
    const playlistUrl = `${base}/index.mp4.m3u8?token=${token}`;
    try {
      await t.step("the playlist keeps the rules across blocking reloads, with a map", async () => {
        let previous = await firstPlaylist(playlistUrl);
        for (let reload = 0; reload < 12; reload++) {
          const [, msn, part] = /p(\d+)\.(\d+)\.m4s/.exec(previous.hint!)!;
          const response = await fetch(`${playlistUrl}&_HLS_msn=${msn}&_HLS_part=${part}`);
          assertEquals(response.status, 200);
          assertEquals(response.headers.get("cache-control"), "no-cache");
          assertEquals(response.headers.get("content-type"), "application/vnd.apple.mpegurl");
          const text = await response.text();
          const playlist = parsePlaylist(text);
          checkRules(playlist);
          assertEquals([playlist.partTarget, playlist.partHoldBack], [0.25, 0.75]);
          assertEquals(playlist.holdBack, 3 * playlist.targetDuration);
          assert(playlist.maps.length >= 1, "an EXT-X-MAP");
          assertMatch(
            text,
            /^#EXTM3U\n#EXT-X-VERSION:9\n[^]*#EXT-X-MAP:URI="init-[0-9a-f]{16}\.mp4\?e=\d+&s=[\w-]+"\n/,
          );
          assert(!/\.ts[?"]/.test(text), "no MPEG-TS URI");
          const all = [...playlist.segments.map((s) => s.uri), ...playlist.partUris];
          assert(all.every((uri) => /\.m4s\?e=\d+&s=[\w-]+$/.test(uri)), "m4s URIs, signed");
          assert(
            playlist.mediaSequence >= previous.mediaSequence,
            "media sequence never goes back",
          );
          assert(
            playlist.segments.length + playlist.mediaSequence >=
              previous.segments.length + previous.mediaSequence,
            "the awaited part is in this playlist or a later one",
          );
          const numbers = /#EXT-X-PART:[^\n]*URI="p(\d+)\.(\d+)\.m4s/g;
          let last: [number, number] | undefined;
          for (const match of text.matchAll(numbers)) {
            const here: [number, number] = [Number(match[1]), Number(match[2])];
            if (last !== undefined) {
              assert(
                (here[0] === last[0] && here[1] === last[1] + 1) ||
                  (here[0] === last[0] + 1 && here[1] === 0),
                `parts follow each other: p${last.join(".")} then p${here.join(".")}`,
              );
            }
            last = here;
          }
          previous = playlist;
        }
        const init = await boxTypes(`${base}/${previous.maps.at(-1)}`);
        assertEquals(init.types, ["ftyp", "moov"]);
        assertEquals(init.response.headers.get("content-type"), "video/mp4");
        assertMatch(init.response.headers.get("cache-control") ?? "", /immutable/);
        const part = await boxTypes(`${base}/${previous.partUris.at(-1)}`);
        assertEquals(part.types, ["moof", "mdat"]);
        const segment = await boxTypes(`${base}/${previous.segments.at(-1)!.uri}`);
        assertEquals(segment.types.length % 2, 0);
        assert(segment.types.every((type, i) => type === (i % 2 === 0 ? "moof" : "mdat")));
      });

      await t.step("ffmpeg records 5 s of the fMP4 playlist that ffprobe decodes", async () => {
        const { streams, errors } = await recordWithFfmpeg(playlistUrl, "mp4");
        assertEquals(errors, "", "ffprobe decodes without an error");
        const video = streams.find((line) => line.startsWith("h264"))!;
        assertMatch(video, /^h264,640,360,\d+$/);
        assert(Number(video.split(",")[3]) >= 4 * 30, `frames decoded: ${video}`);
        assert(streams.some((line) => line.startsWith("aac")), `an AAC track: ${streams}`);
      });

      await t.step("403 for a changed signature of a part, segment or init", async () => {
        const playlist = parsePlaylist(await (await fetch(playlistUrl)).text());
        for (
          const uri of [playlist.partUris.at(-1)!, playlist.segments.at(-1)!.uri, playlist.maps[0]]
        ) {
          const changed = uri.replace(/s=(.)/, (_, c) => `s=${c === "A" ? "B" : "A"}`);
          const response = await fetch(`${base}/${changed}`);
          const text = await response.text();
          assertEquals(response.status, 403, text);
          assertMatch(text, /signature/);
          if (uri.includes(".m4s")) {
            const renamed = await fetch(`${base}/${uri.replace(".m4s", ".ts")}`);
            assertEquals(renamed.status, 403, "a signature is for one file name");
            await renamed.body?.cancel();
          }
        }
        const other = await fetch(`${base}/index.mp4.m3u8?token=${await pullToken("room/other")}`);
        assertEquals(other.status, 403);
        await other.body?.cancel();
      });
    } finally {
      await command.stop();
    }

    const media = await tsFragments({ seconds: 6, fragmentSeconds: 2 });

    await t.step(
      "a blocked fMP4 reload is answered within 100 ms of the part's arrival",
      async () => {
        await using publisher = await publisherFor(node.wsUrl, "room/blocking", { parts: true });
        const url = `${node.httpUrl}/hls/room/blocking/index.mp4.m3u8?token=${await pullToken(
          "room/blocking",
        )}`;
        const [first, second] = media;
        const firstFrames = frames(first);
        for (let index = 0; index < firstFrames.length; index++) {
          sendFrame(publisher, 0, index, firstFrames, first.duration);
        }
        const secondFrames = frames(second);
        for (let index = 0; index < 3; index++) {
          sendFrame(publisher, 1, index, secondFrames, second.duration);
        }
        const playlist = parsePlaylist(await (await fetch(`${url}&_HLS_msn=0`)).text());
        const [, msn, part] = /p(\d+)\.(\d+)\.m4s/.exec(playlist.hint!)!;
        assertEquals(msn, "1");
        let answeredAt = 0;
        const blocked = fetch(`${url}&_HLS_msn=${msn}&_HLS_part=${part}`).then(async (response) => {
          answeredAt = performance.now();
          return { status: response.status, playlist: parsePlaylist(await response.text()) };
        });
        let sentAt = 0;
        for (let index = 3; index < secondFrames.length && answeredAt === 0; index++) {
          await new Promise((resolve) => setTimeout(resolve, 40));
          if (answeredAt !== 0) break;
          sentAt = performance.now();
          sendFrame(publisher, 1, index, secondFrames, second.duration);
        }
        const answer = await blocked;
        assertEquals(answer.status, 200);
        assert(answer.playlist.openParts.length > Number(part), "the awaited part is listed");
        assertAtMost(answeredAt - sentAt, 100, "ms from the part's arrival to the answer");
        const hinted = await fetch(
          `${node.httpUrl}/hls/room/blocking/${answer.playlist.partUris.at(-1)}`,
        );
        assertEquals(hinted.status, 200);
        assertEquals(readBoxes(new Uint8Array(await hinted.arrayBuffer()))[0].type, "moof");
      },
    );

    await t.step("a rendition group has an fMP4 multivariant playlist", async () => {
      await using high = await publisherFor(node.wsUrl, "room/abr/1280x720-30~2500");
      await using low = await publisherFor(node.wsUrl, "room/abr/640x360-30~800");
      for (const publisher of [high, low]) {
        publisher.send({ type: "F", duration: media[0].duration, seq: 0 });
        publisher.sendBinary(media[0].data);
      }
      const groupToken = await pullToken("room/abr");
      let text = "";
      for (let attempt = 0; attempt < 20 && !text.includes("640x360"); attempt++) {
        const response = await fetch(
          `${node.httpUrl}/hls/room/abr/master.mp4.m3u8?token=${groupToken}`,
        );
        text = await response.text();
        if (!text.includes("640x360")) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assertMatch(
        text,
        /#EXT-X-STREAM-INF:BANDWIDTH=\d+,RESOLUTION=1280x720,FRAME-RATE=30.000,CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"\n1280x720-30~2500\/index\.mp4\.m3u8\?token=/,
      );
      const variant = await fetch(
        `${node.httpUrl}/hls/room/abr/640x360-30~800/index.mp4.m3u8?token=${groupToken}`,
      );
      assertEquals(variant.status, 200, "a group token admits a rendition");
      assertMatch(await variant.text(), /#EXT-X-MAP:URI="init-/);
    });

    await t.step("the stream's end gives EXT-X-ENDLIST in the fMP4 playlist", async () => {
      const endToken = await pullToken("room/end");
      const publisher = await publisherFor(node.wsUrl, "room/end");
      publisher.send({ type: "F", duration: media[0].duration, seq: 5 });
      publisher.sendBinary(media[0].data);
      const url = `${node.httpUrl}/hls/room/end/index.mp4.m3u8?token=${endToken}`;
      const live = parsePlaylist(await (await fetch(`${url}&_HLS_msn=5`)).text());
      assert(!live.ended);
      assertEquals(live.mediaSequence, 5);
      const waiting = fetch(`${url}&_HLS_msn=6&_HLS_part=0`);
      publisher.send({ type: "CLOSE" });
      const ended = parsePlaylist(await (await waiting).text());
      assert(ended.ended, "EXT-X-ENDLIST");
      assertEquals(ended.hint, undefined, "no preload hint after the end");
      assertEquals(ended.segments.map((segment) => segment.uri.split("?")[0]), ["s5.m4s"]);
      await publisher[Symbol.asyncDispose]();
    });
  },
});
