/**
 * The `publish` command end to end, with real ffmpeg and real node processes (every transport):
 * a file published through the command arrives whole (tables, keyframe, decodable on its own,
 * durations and bytes add up, parts byte-identical to whole fragments); the command resumes after
 * the node is killed and restarted on the same port; the test pattern stops cleanly on SIGINT; and
 * every failure gives its message and exit code.
 */

import { assert, assertAtMost, assertEquals, assertMatch } from "../helpers/assert.ts";
import { waitListening } from "../helpers/listening.ts";
import { capsFor, pullToken, type TestClient, TestClient as Client } from "../helpers/client.ts";
import { hasProgramTables, sameBytes, startsWithPat } from "../helpers/media.ts";
import {
  freePort,
  type NodeProcess,
  startNode,
  TEST_SECRETS,
  testTransports,
} from "../helpers/node_process.ts";
import { probe } from "../helpers/ts_stream.ts";
import { PublishCommand } from "../helpers/publish_command.ts";
import type { FragmentMessage, PartMessage } from "../../shared/protocol.ts";

const FPS = 30;

async function makeInputFile(seconds: number): Promise<{ path: string; videoSeconds: number }> {
  const dir = await Deno.makeTempDir({ prefix: "hlswscdn-publish-" });
  const path = `${dir}/input.mp4`;
  const result = await new Deno.Command("ffmpeg", {
    args: [
      "-hide_banner",
      "-loglevel",
      "error",
      "-nostdin",
      "-f",
      "lavfi",
      "-i",
      `testsrc2=size=320x180:rate=${FPS}`,
      "-f",
      "lavfi",
      "-i",
      "sine=frequency=440:sample_rate=48000",
      "-t",
      String(seconds),
      "-c:v",
      "libx264",
      "-preset",
      "veryfast",
      "-bf",
      "2",
      "-g",
      String(FPS),
      "-keyint_min",
      String(FPS),
      "-sc_threshold",
      "0",
      "-pix_fmt",
      "yuv420p",
      "-c:a",
      "aac",
      "-b:a",
      "64k",
      path,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!result.success) throw new Error(new TextDecoder().decode(result.stderr));
  const info = await new Deno.Command("ffprobe", {
    args: [
      "-v",
      "error",
      "-select_streams",
      "v",
      "-show_entries",
      "stream=duration",
      "-of",
      "csv=p=0",
      path,
    ],
    stdout: "piped",
  }).output();
  return { path, videoSeconds: Number(new TextDecoder().decode(info.stdout).trim()) };
}

/** What ffmpeg writes for the file with the command's copy settings (to compare byte counts). */
async function ffmpegBytes(path: string): Promise<number> {
  const result = await new Deno.Command("ffmpeg", {
    args: [
      "-hide_banner",
      "-loglevel",
      "error",
      "-nostdin",
      "-i",
      path,
      "-map",
      "0:v:0?",
      "-map",
      "0:a:0?",
      "-c",
      "copy",
      "-f",
      "mpegts",
      "-pes_payload_size",
      "0",
      "-flush_packets",
      "1",
      "pipe:1",
    ],
    stdout: "piped",
    stderr: "null",
  }).output();
  return result.stdout.byteLength;
}

/** Pulls `stream` once it exists (the command connects before ffmpeg starts). */
async function spectate(
  node: NodeProcess,
  stream: string,
  options: { parts?: boolean } = {},
): Promise<TestClient> {
  const deadline = Date.now() + 15000;
  for (;;) {
    const client = await Client.connect(node.wsUrl);
    client.send({
      type: "PULL",
      stream,
      auth: await pullToken(stream),
      ...options,
      caps: capsFor(false),
    });
    const answer = await client.nextMessage();
    if (answer.type === "OK") return client;
    client.close();
    if (answer.type !== "E" || answer.code !== "STREAM_NOT_FOUND" || Date.now() > deadline) {
      throw new Error(`PULL refused: ${JSON.stringify(answer)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface Received {
  header: FragmentMessage;
  data: Uint8Array;
}

/** Reads whole fragments until CLOSE (or `count` fragments). */
async function readWhole(
  client: TestClient,
  count = Infinity,
  timeoutMs = 15000,
): Promise<Received[]> {
  const fragments: Received[] = [];
  while (fragments.length < count) {
    const message = await client.nextMessage(timeoutMs);
    if (message.type === "CLOSE") break;
    if (message.type !== "F") throw new Error(`expected F, got ${JSON.stringify(message)}`);
    const body = await client.next(timeoutMs);
    if (body.kind !== "binary") throw new Error("F without binary");
    fragments.push({ header: message, data: body.data });
  }
  return fragments;
}

/** Reads parts (and whole fragments from the buffer) until CLOSE or `count` complete fragments. */
async function readParts(client: TestClient, count = Infinity, timeoutMs = 15000) {
  const complete: { seq: number; parts: PartMessage[]; data: Uint8Array; arrivals: number[] }[] =
    [];
  let parts: PartMessage[] = [];
  let chunks: Uint8Array[] = [];
  let arrivals: number[] = [];
  while (complete.length < count) {
    const message = await client.nextMessage(timeoutMs);
    if (message.type === "CLOSE") break;
    const body = await client.next(timeoutMs);
    if (body.kind !== "binary") throw new Error("no binary after the header");
    if (message.type === "F") continue; // buffered before this spectator came
    if (message.type !== "P") throw new Error(`expected P, got ${JSON.stringify(message)}`);
    if (message.part === 0) [parts, chunks, arrivals] = [[], [], []];
    parts.push(message);
    chunks.push(body.data);
    arrivals.push(body.at);
    if (message.last && parts[0]?.part === 0) {
      const data = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0));
      let offset = 0;
      for (const chunk of chunks) {
        data.set(chunk, offset);
        offset += chunk.byteLength;
      }
      complete.push({ seq: message.seq, parts, data, arrivals });
    }
  }
  return complete;
}

async function assertDecodes(data: Uint8Array, what: string): Promise<void> {
  assertEquals(data[0], 0x47, `${what}: sync byte`);
  assert(startsWithPat(data) && hasProgramTables(data), `${what}: starts with PAT/PMT`);
  const result = await probe(data);
  assertEquals(result.streams.map((stream) => stream.codec_name).sort(), ["aac", "h264"], what);
  const video = result.frames!.filter((frame) => frame.media_type === "video");
  assert(video.length > 0, `${what}: video decodes`);
  assertEquals(video[0].key_frame, 1, `${what}: starts with a keyframe`);
}

const input = makeInputFile(6);

for (const transport of testTransports()) {
  Deno.test(`[${transport}] publish a file through the command`, async () => {
    await using node = await startNode({ transport });
    const { path, videoSeconds } = await input;
    const command = new PublishCommand([
      "--url",
      node.wsUrl,
      "--stream",
      "cmd/file",
      "--secret",
      TEST_SECRETS.PUSH_SECRET,
      "--file",
      path,
    ]);
    try {
      await using whole = await spectate(node, "cmd/file");
      await using parted = await spectate(node, "cmd/file", { parts: true });
      const [fragments, partFragments] = await Promise.all([readWhole(whole), readParts(parted)]);
      assertEquals(await command.exit(), 0, command.stderr);
      const summary = command.summary();
      assertEquals(fragments.length, 3, "6 s in 2 s fragments");
      assertEquals(summary.fragments, 3);
      // Every fragment stands alone.
      for (const [index, fragment] of fragments.entries()) {
        await assertDecodes(fragment.data, `fragment ${index}`);
      }
      // Durations add up to the input's within a frame.
      const total = fragments.reduce((sum, fragment) => sum + fragment.header.duration, 0);
      assertAtMost(
        Math.abs(total - videoSeconds),
        1 / FPS + 1e-6,
        `durations ${total} s vs input ${videoSeconds} s`,
      );
      // Every byte ffmpeg produced arrived, nothing more.
      const bytes = fragments.reduce((sum, fragment) => sum + fragment.data.byteLength, 0);
      assertEquals(bytes, summary.fromFfmpeg);
      assertEquals(summary.sent, summary.fromFfmpeg);
      assertEquals(summary.fromFfmpeg, await ffmpegBytes(path));
      // Sequence numbers increase by one; stamps are wall-clock milliseconds, increasing.
      for (let index = 1; index < fragments.length; index++) {
        assertEquals(fragments[index].header.seq, fragments[index - 1].header.seq! + 1);
        assert(fragments[index].header.time! > fragments[index - 1].header.time!);
      }
      assertAtMost(
        Math.abs(fragments[0].header.time! - Date.now()),
        60_000,
        "time is a wall clock",
      );
      // Parts: byte-identical to the whole fragments, a frame each (30 fps; a frame split over two
      // reads of ffmpeg's output goes in two parts), and the rest after the last frame.
      assertEquals(partFragments.map((item) => item.seq), fragments.map((item) => item.header.seq));
      for (const [index, item] of partFragments.entries()) {
        assert(sameBytes(item.data, fragments[index].data), `fragment ${index}: parts = whole`);
        assert(
          item.parts.length >= 61 && item.parts.length <= 130,
          `${item.parts.length} parts in 2 s`,
        );
        assertEquals(item.parts[0].time, fragments[index].header.time);
      }
    } finally {
      command.signal("SIGKILL");
      await command.status;
    }
  });

  Deno.test(`[${transport}] publish resumes after the node is killed and restarted`, async () => {
    const port = freePort();
    let node = await startNode({ transport, port });
    const { path } = await input;
    const command = new PublishCommand([
      "--url",
      node.wsUrl,
      "--stream",
      "cmd/resume",
      "--secret",
      TEST_SECRETS.PUSH_SECRET,
      "--file",
      path,
      "--loop",
      "--fragment-duration",
      "1",
    ]);
    try {
      {
        await using spectator = await spectate(node, "cmd/resume", { parts: true });
        assertEquals((await readParts(spectator, 2)).length, 2);
      }
      await node.kill();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      node = await startNode({ transport, port });
      await using spectator = await spectate(node, "cmd/resume");
      const fragments = await readWhole(spectator, 3);
      assertEquals(fragments.length, 3, "live fragments again");
      await assertDecodes(fragments.at(-1)!.data, "a fragment after the restart");
      for (let index = 1; index < fragments.length; index++) {
        assertEquals(fragments[index].header.seq, fragments[index - 1].header.seq! + 1);
      }
      assertMatch(command.stderr, /connected again/);
      command.signal("SIGTERM");
      assertEquals(await command.exit(), 0, command.stderr);
      const rest = await readWhole(spectator);
      assert(
        spectator.received.some((item) => item.kind === "text" && item.message.type === "CLOSE"),
        `CLOSE after ${rest.length}`,
      );
    } finally {
      command.signal("SIGKILL");
      await command.status;
      await node.stop();
    }
  });

  Deno.test(`[${transport}] the test pattern: live parts with wall-clock stamps, Ctrl-C ends it with CLOSE`, async () => {
    await using node = await startNode({ transport });
    const started = Date.now();
    const command = new PublishCommand([
      "--url",
      node.wsUrl,
      "--stream",
      "cmd/pattern",
      "--secret",
      TEST_SECRETS.PUSH_SECRET,
      "--test-pattern",
      "--size",
      "320x180",
      "--fragment-duration",
      "1",
    ]);
    try {
      await using spectator = await spectate(node, "cmd/pattern", { parts: true });
      const fragments = await readParts(spectator, 2);
      for (const fragment of fragments) {
        assert(
          fragment.parts.length >= 31 && fragment.parts.length <= 65,
          `${fragment.parts.length} parts in 1 s: a frame each`,
        );
        const stamp = fragment.parts[0].time!;
        assert(
          stamp >= started && stamp <= Date.now(),
          "stamped with the wall clock of its first frame",
        );
        // A part leaves the publisher about when its last frame is made: well under a fragment.
        const lastPart = fragment.parts.at(-1)!;
        assertAtMost(
          fragment.arrivals.at(-1)! - fragment.arrivals.at(-2)!,
          600,
          "parts arrive as they are made",
        );
        assert(
          lastPart.last && lastPart.duration! > 0.9 && lastPart.duration! < 1.1,
          `duration ${lastPart.duration}`,
        );
      }
      await assertDecodes(fragments[0].data, "test pattern fragment");
      command.signal("SIGINT");
      assertEquals(await command.exit(), 0, command.stderr);
      const rest = await readParts(spectator);
      const closed = spectator.received.some((item) =>
        item.kind === "text" && item.message.type === "CLOSE"
      );
      assert(closed, `CLOSE after ${rest.length} more fragments`);
    } finally {
      command.signal("SIGKILL");
      await command.status;
    }
  });

  const listener = transport === "ws" ? "rtmp" : "srt";
  Deno.test(`[${transport}] a ${listener} listener publishes what an encoder pushes to it`, async () => {
    await using node = await startNode({ transport });
    const port = freePort();
    const url = listener === "rtmp"
      ? `rtmp://127.0.0.1:${port}/live/obs`
      : `srt://127.0.0.1:${port}`;
    const command = new PublishCommand([
      "--url",
      node.wsUrl,
      "--stream",
      "cmd/obs",
      "--secret",
      TEST_SECRETS.PUSH_SECRET,
      "--listen",
      url,
    ]);
    try {
      await using spectator = await spectate(node, "cmd/obs");
      // The encoder connects once the command's listener is up (as OBS would retry until then).
      await waitListening(port, listener === "rtmp" ? "tcp" : "udp", 15000);
      // The "encoder": ffmpeg pushing 3 s of H.264/AAC, as OBS would.
      const target = listener === "rtmp" ? url : `${url}?mode=caller`;
      const encoder = await new Deno.Command("ffmpeg", {
        args: [
          "-hide_banner",
          "-loglevel",
          "error",
          "-nostdin",
          "-re",
          "-f",
          "lavfi",
          "-i",
          `testsrc2=size=320x180:rate=${FPS}`,
          "-f",
          "lavfi",
          "-i",
          "sine",
          "-t",
          "3",
          "-c:v",
          "libx264",
          "-preset",
          "veryfast",
          "-tune",
          "zerolatency",
          "-g",
          String(FPS),
          "-c:a",
          "aac",
          "-f",
          listener === "rtmp" ? "flv" : "mpegts",
          target,
        ],
        stdout: "null",
        stderr: "piped",
      }).output();
      assert(encoder.success, new TextDecoder().decode(encoder.stderr));
      const fragments = await readWhole(spectator);
      assertEquals(await command.exit(), 0, command.stderr);
      assertEquals(fragments.length, 2, "3 s in 2 s fragments");
      for (const [index, fragment] of fragments.entries()) {
        await assertDecodes(fragment.data, `fragment ${index}`);
      }
      assertMatch(command.stderr, /waiting for an encoder to connect/);
      assertMatch(command.stderr, /cmd\/obs: ended, 2 fragments/);
    } finally {
      command.signal("SIGKILL");
      await command.status;
    }
  });

  Deno.test(`[${transport}] several renditions from one command, keyframes aligned`, async () => {
    await using node = await startNode({ transport });
    const ids = ["cmd/multi/320x180-30~400", "cmd/multi/160x90-15~150"];
    const command = new PublishCommand([
      "--url",
      node.wsUrl,
      "--secret",
      TEST_SECRETS.PUSH_SECRET,
      "--test-pattern",
      "--fragment-duration",
      "1",
      ...ids.flatMap((id) => ["--rendition", id]),
    ]);
    try {
      const spectators = await Promise.all(ids.map((id) => spectate(node, id)));
      const [big, small] = await Promise.all(
        spectators.map((spectator) => readWhole(spectator, 3)),
      );
      const firstVideoPts = async (data: Uint8Array) =>
        (await probe(data, "frame=media_type,pts_time")).frames!.find((frame) =>
          frame.media_type === "video"
        )!.pts_time;
      for (const fragment of big) {
        const twin = small.find((item) => item.header.seq === fragment.header.seq);
        if (twin === undefined) continue;
        assertEquals(
          twin.header.duration,
          fragment.header.duration,
          `fragment ${fragment.header.seq}`,
        );
        assertEquals(
          await firstVideoPts(twin.data),
          await firstVideoPts(fragment.data),
          "same keyframe time",
        );
      }
      assert(
        big.some((fragment) => small.some((item) => item.header.seq === fragment.header.seq)),
        "common fragments",
      );
      const sizes = await Promise.all(
        [big[0], small[0]].map(async (fragment) =>
          (await probe(fragment.data, "stream=width,height")).streams
        ),
      );
      assertMatch(JSON.stringify(sizes), /"width":320,"height":180.*"width":160,"height":90/);
      for (const spectator of spectators) spectator.close();
      command.signal("SIGTERM");
      assertEquals(await command.exit(), 0, command.stderr);
      assertEquals(command.stderr.match(/stopped, \d+ fragments/g)?.length, 2, command.stderr);
    } finally {
      command.signal("SIGKILL");
      await command.status;
    }
  });

  Deno.test(`[${transport}] publish: refusals by the node give their message and exit code`, async () => {
    await using node = await startNode({ transport });
    const base = ["--url", node.wsUrl, "--test-pattern", "--size", "160x90"];
    const cases: [string[], number, RegExp, Record<string, string>?][] = [
      [
        [...base, "--stream", "cmd/a", "--secret", "wrong"],
        5,
        /the node refused the token: the token signature is not valid/,
      ],
      [[...base, "--stream", "cmd/a"], 5, /the node refused the token/, {
        PUSH_TOKEN: "not-a-token",
      }],
      [
        [
          "--url",
          `ws://127.0.0.1:${freePort()}/`,
          "--test-pattern",
          "--stream",
          "cmd/a",
          "--secret",
          "s",
          "--start-timeout",
          "1",
        ],
        6,
        /cannot reach the node: no connection to ws:\/\/127\.0\.0\.1:\d+\/ within/,
      ],
    ];
    for (const [args, code, pattern, env] of cases) {
      const command = new PublishCommand(args, env);
      assertEquals(await command.exit(), code, command.stderr);
      assertMatch(command.stderr, pattern);
      assertEquals(command.stderr.match(/^error: /gm)?.length, 1, "one error line");
    }
    await using closed = await startNode({ transport, env: { PUSH_ALLOWED: "NO" } });
    const refused = new PublishCommand([
      "--url",
      closed.wsUrl,
      "--test-pattern",
      "--stream",
      "cmd/a",
      "--secret",
      TEST_SECRETS.PUSH_SECRET,
    ]);
    assertEquals(await refused.exit(), 7, refused.stderr);
    assertMatch(refused.stderr, /the node refused the stream \(PUSH_NOT_ALLOWED\)/);

    // A second publisher of the same stream takes it over: the first ends with code 8.
    const { path } = await input;
    const args = [
      "--url",
      node.wsUrl,
      "--stream",
      "cmd/twice",
      "--secret",
      TEST_SECRETS.PUSH_SECRET,
      "--file",
      path,
      "--loop",
    ];
    const first = new PublishCommand(args);
    try {
      await (await spectate(node, "cmd/twice")).close();
      const second = new PublishCommand(args);
      try {
        assertEquals(await first.exit(), 8, first.stderr);
        assertMatch(first.stderr, /another publisher took the stream over/);
      } finally {
        second.signal("SIGTERM");
        assertEquals(await second.exit(), 0, second.stderr);
      }
    } finally {
      first.signal("SIGKILL");
      await first.status;
    }
  });
}

Deno.test("publish: local failures give their message and exit code", async () => {
  const garbage = await Deno.makeTempFile({ suffix: ".mp4" });
  await Deno.writeTextFile(garbage, "this is not media");
  const base = ["--url", "ws://127.0.0.1:9/", "--stream", "cmd/a", "--secret", "s"];
  const cases: [string[], number, RegExp][] = [
    [[], 2, /--url is required/],
    [
      ["--url", "http://x/", "--stream", "a", "--secret", "s", "--test-pattern"],
      2,
      /--url must be a ws:\/\/ or wss:\/\/ URL/,
    ],
    [[...base], 2, /give exactly one input/],
    [
      [...base, "--test-pattern", "--ffmpeg", "/nonexistent/ffmpeg"],
      3,
      /cannot run ffmpeg \(\/nonexistent\/ffmpeg\): not found/,
    ],
    [
      [...base, "--file", "/nonexistent/input.mp4"],
      4,
      /cannot read input \/nonexistent\/input\.mp4: no such file/,
    ],
    [
      [...base, "--file", garbage],
      4,
      /cannot read input .*Invalid data found when processing input/,
    ],
  ];
  try {
    for (const [args, code, pattern] of cases) {
      const command = new PublishCommand(args);
      assertEquals(await command.exit(), code, `${args.join(" ")}: ${command.stderr}`);
      assertMatch(command.stderr, pattern);
      assertEquals(command.stderr.trim().split("\n").length, 1, `one line: ${command.stderr}`);
    }
  } finally {
    await Deno.remove(garbage);
  }
});
