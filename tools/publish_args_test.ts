import { assertEquals, assertMatch, assertThrows } from "../tests/helpers/assert.ts";
import { parsePublishArgs } from "./publish_args.ts";
import { PublishError } from "./publish_error.ts";

const url = ["--url", "ws://127.0.0.1:8080/"];

Deno.test("publish arguments: the command forms", () => {
  const file = parsePublishArgs([
    "--",
    ...url,
    "--stream",
    "a",
    "--secret",
    "s",
    "--file",
    "v.mp4",
    "--loop",
    "--no-parts",
  ], {})!;
  assertEquals(file.input, { kind: "file", path: "v.mp4", loop: true });
  assertEquals([
    file.parts,
    file.fragmentDuration,
    file.partDuration,
    file.encode,
    file.startTimeoutMs,
  ], [false, 2, "frame", "auto", 10000]);
  const pattern = parsePublishArgs([
    ...url,
    "--stream",
    "a",
    "--test-pattern",
    "--size",
    "640x360",
    "--fps",
    "25",
  ], { PUSH_SECRET: "env" })!;
  assertEquals([pattern.input, pattern.secret], [
    { kind: "test", size: "640x360", fps: 25 },
    "env",
  ]);
  const listen = parsePublishArgs([
    ...url,
    "--stream",
    "a",
    "--listen",
    "srt://0.0.0.0:9000",
    "--fragment-duration",
    "1",
    "--part-duration",
    "0.2",
  ], { PUSH_TOKEN: "t" })!;
  assertEquals(
    [
      listen.input.kind,
      listen.token,
      listen.secret,
      listen.fragmentDuration,
      listen.partDuration,
    ],
    ["listen", "t", undefined, 1, 0.2],
    "a number keeps parts of that duration",
  );
  const device = parsePublishArgs([
    ...url,
    "--rendition",
    "r/640x360-30~800",
    "--rendition",
    "r/320x180",
    "--secret",
    "s",
    "--input",
    "/dev/video0",
    "--input-format",
    "v4l2",
  ], {})!;
  assertEquals(device.input, { kind: "url", url: "/dev/video0", format: "v4l2" });
  assertEquals(device.renditions?.map((item) => item.size), ["640x360", "320x180"]);
  assertEquals(parsePublishArgs(["--help"], {}), null);
});

Deno.test("publish arguments: one clear message each", () => {
  const cases: [string[], RegExp][] = [
    [["--stream", "a"], /--url is required/],
    [[...url, "--secret", "s", "--test-pattern"], /--stream or --rendition is required/],
    [[...url, "--stream", "a", "--test-pattern"], /--secret or --token is required/],
    [
      [...url, "--stream", "a", "--secret", "s", "--test-pattern", "--file", "x"],
      /exactly one input/,
    ],
    [[...url, "--stream", "a", "--secret", "s", "--listen", "http://x"], /rtmp:\/\/ or srt:\/\//],
    [
      [...url, "--stream", "a", "--secret", "s", "--test-pattern", "--fragment-duration", "0"],
      /--fragment-duration must be a positive number/,
    ],
    [
      [...url, "--stream", "a", "--secret", "s", "--test-pattern", "--encode", "fast"],
      /--encode must be auto, copy or encode/,
    ],
    [
      [...url, "--stream", "a", "--secret", "s", "--test-pattern", "--bogus"],
      /Unknown option '--bogus'/,
    ],
  ];
  for (const [args, pattern] of cases) {
    const error = assertThrows(() => parsePublishArgs(args, {}), PublishError);
    assertEquals(error.exitCode, 2);
    assertMatch(error.message, pattern);
  }
});
