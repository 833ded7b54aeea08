/**
 * Low-Latency HLS from a real node: `ffmpeg -i <playlist> -c copy` records a file ffprobe decodes;
 * a blocked playlist request is answered within 100 ms of the part's arrival; tokens for another
 * stream, expired and garbage ones, and a changed segment signature get 403; an unknown stream
 * 404; the playlist keeps the LL-HLS rules a test can check (part durations within PART-TARGET,
 * consecutive media sequence numbers across reloads, hold-backs); a rendition group has a
 * multivariant playlist; the stream's end gives EXT-X-ENDLIST; `HLS_ENABLED=NO` turns it off.
 */

import { assert, assertAtMost, assertEquals, assertMatch } from "../helpers/assert.ts";
import { publisherFor, pullToken, type TestClient } from "../helpers/client.ts";
import { hasFfmpeg, type MediaFragment, tsFragments } from "../helpers/media.ts";
import { startNode, TEST_SECRETS } from "../helpers/node_process.ts";
import { pesStarts } from "../helpers/pes_starts.ts";
import { LivePublisher } from "../browser/helpers/live_publisher.ts";
import { signToken } from "../../shared/token.ts";
import {
  checkRules,
  type Parsed,
  parsePlaylist as parse,
  recordWithFfmpeg,
} from "../helpers/ll_hls.ts";

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

Deno.test({
  name: "LL-HLS from a node: recording, blocking reloads, refusals, rules, groups, end",
  ignore: !(await hasFfmpeg()),
  fn: async (t) => {
    await using node = await startNode();
    const media = await tsFragments({ seconds: 6, fragmentSeconds: 2 });
    const live = new LivePublisher({
      url: node.wsUrl,
      stream: "room/live",
      media,
      framesPerPart: 1,
    });
    live.start();
    const token = await pullToken("room/live");
    const base = `${node.httpUrl}/hls/room/live`;
    const playlistUrl = `${base}/index.m3u8?token=${token}`;
    try {
      await t.step("ffmpeg records 5 s that ffprobe decodes", async () => {
        const { streams } = await recordWithFfmpeg(playlistUrl, "ts");
        const video = streams.find((line) => line.startsWith("h264"));
        assert(/^h264,\d+,\d+,\d+$/.test(video ?? ""), streams.join(" / "));
        assert(Number(video!.split(",")[3]) >= 4 * 30, `frames decoded: ${video}`);
      });

      await t.step(
        "the playlist keeps the rules across reloads; media sequence continues",
        async () => {
          let previous: Parsed | undefined;
          for (let reload = 0; reload < 12; reload++) {
            const url = previous?.hint
              ? (() => {
                const [, msn, part] = /p(\d+)\.(\d+)\.ts/.exec(previous.hint!)!;
                return `${playlistUrl}&_HLS_msn=${msn}&_HLS_part=${part}`;
              })()
              : playlistUrl;
            const response = await fetch(url);
            assertEquals(response.status, 200);
            assertEquals(response.headers.get("cache-control"), "no-cache");
            assertEquals(response.headers.get("access-control-allow-origin"), "*");
            const playlist = parse(await response.text());
            checkRules(playlist);
            assertEquals(playlist.partTarget, 0.25);
            assertEquals(playlist.partHoldBack, 0.75);
            if (previous !== undefined) {
              assert(
                playlist.mediaSequence >= previous.mediaSequence,
                "media sequence never goes back",
              );
              for (const segment of playlist.segments) {
                const before: Parsed["segments"][number] | undefined = previous.segments.find(
                  (old) => old.msn === segment.msn,
                );
                if (before === undefined) continue;
                // The same file keeps its name; its signed query changes only when the
                // signer's expiry steps forward (every 60 s), never back.
                const [beforeName, beforeQuery]: string[] = before.uri.split("?");
                const [name, query]: string[] = segment.uri.split("?");
                assertEquals(beforeName, name, `segment ${segment.msn} same file`);
                if (beforeQuery !== query) {
                  const expiry = (q: string) => Number(new URLSearchParams(q).get("e"));
                  assert(
                    expiry(query) > expiry(beforeQuery),
                    `segment ${segment.msn}: a new signature only with a later expiry`,
                  );
                }
              }
            }
            previous = playlist;
          }
          const segment = previous!.segments.at(-1)!;
          const media = await fetch(`${base}/${segment.uri}`);
          assertEquals(media.status, 200);
          assertEquals(media.headers.get("content-type"), "video/mp2t");
          assertMatch(media.headers.get("cache-control") ?? "", /max-age=\d+/);
          assertEquals(new Uint8Array(await media.arrayBuffer())[0], 0x47);
        },
      );

      await t.step(
        "403 for other-stream, expired and garbage tokens, and a changed signature",
        async () => {
          const refused = async (url: string, reason: RegExp) => {
            const response = await fetch(url);
            const text = await response.text();
            assertEquals(response.status, 403, text);
            assertMatch(text, reason);
            assertEquals(text.trim().split("\n").length, 1, "a one-line reason");
          };
          await refused(`${base}/index.m3u8?token=${await pullToken("room/other")}`, /another/);
          const expired = await signToken({
            secret: TEST_SECRETS.PULL_SECRET,
            action: "PULL",
            stream: "room/live",
            lifetimeSeconds: -60,
          });
          await refused(`${base}/index.m3u8?token=${expired}`, /expired/);
          await refused(`${base}/index.m3u8?token=garbage`, /malformed/);
          await refused(`${base}/index.m3u8`, /token is required/);
          const uri = parse(await (await fetch(playlistUrl)).text()).segments.at(-1)!.uri;
          const changed = uri.replace(/s=(.)/, (_, c) => `s=${c === "A" ? "B" : "A"}`);
          await refused(`${base}/${changed}`, /signature/);
          await refused(`${node.httpUrl}/hls/room/other/${uri}`, /signature/);
          const unknown = await fetch(
            `${node.httpUrl}/hls/room/none/index.m3u8?token=${await pullToken("room/none")}`,
          );
          assertEquals(unknown.status, 404, await unknown.text());
          assert(!node.output.includes(token), "no token in the log");
          assert(!node.output.includes(/s=([\w-]+)/.exec(uri)![1]), "no signature in the log");
        },
      );
    } finally {
      await live.close();
    }

    await t.step(
      "a blocked playlist request is answered within 100 ms of the part's arrival",
      async () => {
        await using publisher = await publisherFor(node.wsUrl, "room/blocking", { parts: true });
        const blockingUrl = `${node.httpUrl}/hls/room/blocking/index.m3u8?token=${await pullToken(
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
        const playlist = parse(await (await fetch(blockingUrl)).text());
        const [, msn, part] = /p(\d+)\.(\d+)\.ts/.exec(playlist.hint!)!;
        assertEquals(msn, "1");
        let answeredAt = 0;
        const blocked = fetch(`${blockingUrl}&_HLS_msn=${msn}&_HLS_part=${part}`).then(
          async (response) => {
            answeredAt = performance.now();
            return { status: response.status, playlist: parse(await response.text()) };
          },
        );
        let sentAt = 0;
        for (let index = 3; index < secondFrames.length && answeredAt === 0; index++) {
          await new Promise((resolve) => setTimeout(resolve, 40));
          if (answeredAt !== 0) {
            break;
          }
          sentAt = performance.now();
          sendFrame(publisher, 1, index, secondFrames, second.duration);
        }
        const answer = await blocked;
        assertEquals(answer.status, 200);
        assert(answer.playlist.openParts.length > Number(part), "the awaited part is listed");
        assertAtMost(answeredAt - sentAt, 100, "ms from the part's arrival to the answer");
      },
    );

    await t.step("a rendition group has a multivariant playlist", async () => {
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
          `${node.httpUrl}/hls/room/abr/master.m3u8?token=${groupToken}`,
        );
        text = await response.text();
        if (!text.includes("640x360")) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assertMatch(
        text,
        /#EXT-X-STREAM-INF:BANDWIDTH=\d+,RESOLUTION=1280x720,FRAME-RATE=30.000,CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"\n1280x720-30~2500\/index\.m3u8\?token=/,
      );
      assertMatch(text, /RESOLUTION=640x360/);
      assert(text.indexOf("1280x720") < text.indexOf("640x360"), "highest bandwidth first");
      const variant = await fetch(
        `${node.httpUrl}/hls/room/abr/640x360-30~800/index.m3u8?token=${groupToken}`,
      );
      assertEquals(variant.status, 200, "a group token admits a rendition");
      await variant.body?.cancel();
    });

    await t.step("the stream's end gives EXT-X-ENDLIST", async () => {
      const endToken = await pullToken("room/end");
      const publisher = await publisherFor(node.wsUrl, "room/end");
      publisher.send({ type: "F", duration: media[0].duration, seq: 5 });
      publisher.sendBinary(media[0].data);
      const url = `${node.httpUrl}/hls/room/end/index.m3u8?token=${endToken}`;
      const live = parse(await (await fetch(url)).text());
      assert(!live.ended);
      assertEquals(live.mediaSequence, 5);
      const waiting = fetch(`${url}&_HLS_msn=6&_HLS_part=0`);
      publisher.send({ type: "CLOSE" });
      const ended = parse(await (await waiting).text());
      assert(ended.ended, "EXT-X-ENDLIST");
      assertEquals(ended.hint, undefined, "no preload hint after the end");
      await publisher[Symbol.asyncDispose]();
    });
  },
});

Deno.test("HLS_ENABLED=NO: no /hls/", async () => {
  await using node = await startNode({ env: { HLS_ENABLED: "NO" } });
  const response = await fetch(`${node.httpUrl}/hls/a/index.m3u8?token=${await pullToken("a")}`);
  // The default WEBSOCKET_PREFIX "/" takes every other path: the WebSocket endpoint's 426.
  assertEquals(response.status, 426);
  await response.body?.cancel();
});

Deno.test("HLS requests: the origin allow-list and the request rate, as for WebSockets", async () => {
  await using node = await startNode({
    env: {
      ALLOWED_ORIGINS: "https://good.example",
      RATE_LIMIT_ENABLED: "YES",
      RATE_LIMIT_REQ_PER_SEC: "5",
      RATE_LIMIT_REQ_BURST: "5",
    },
  });
  const url = `${node.httpUrl}/hls/room/x/index.m3u8?token=${await pullToken("room/x")}`;
  const evil = await fetch(url, { headers: { origin: "https://evil.example" } });
  assertEquals(evil.status, 403);
  assertMatch(await evil.text(), /origin/);
  const good = await fetch(url, { headers: { origin: "https://good.example" } });
  assertEquals(good.status, 404, "allowed (the stream is unknown)");
  assertEquals(good.headers.get("access-control-allow-origin"), "https://good.example");
  await good.body?.cancel();
  const statuses = await Promise.all(
    Array.from({ length: 10 }, () =>
      fetch(url).then((response) => {
        void response.body?.cancel();
        return response.status;
      })),
  );
  assert(statuses.includes(429), `over the rate: ${statuses}`);
});
