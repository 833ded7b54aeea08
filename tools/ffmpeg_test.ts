import { assert, assertEquals, assertThrows } from "../tests/helpers/assert.ts";
import { canCopy, clockOverlay, ffmpegArgs, renditionFromStreamId } from "./ffmpeg.ts";
import { PublishError } from "./publish_error.ts";

const one = [{ streamId: "a" }];

function after(args: string[], flag: string): string | undefined {
  const index = args.indexOf(flag);
  return index === -1 ? undefined : args[index + 1];
}

Deno.test("a file is played at its native rate, looped on demand, codecs copied", () => {
  const args = ffmpegArgs({
    input: { kind: "file", path: "in.mp4", loop: true },
    renditions: one,
    encode: false,
    fragmentDuration: 2,
    outputs: ["pipe:1"],
  });
  assertEquals(args.slice(args.indexOf("-re"), args.indexOf("-re") + 5), [
    "-re",
    "-stream_loop",
    "-1",
    "-i",
    "in.mp4",
  ]);
  assertEquals(after(args, "-c"), "copy");
  assertEquals(after(args, "-f"), "mpegts");
  assertEquals(after(args, "-pes_payload_size"), "0");
  assertEquals(after(args, "-flush_packets"), "1");
  assertEquals(args.at(-1), "pipe:1");
});

Deno.test("encoding: low-latency x264, keyframes at every fragment boundary", () => {
  const args = ffmpegArgs({
    input: { kind: "test", fps: 25 },
    renditions: [{ streamId: "a", videoBitrate: "1M" }],
    encode: true,
    fragmentDuration: 2,
    outputs: ["pipe:1"],
  });
  assertEquals(after(args, "-c:v"), "libx264");
  assertEquals(after(args, "-tune"), "zerolatency");
  assertEquals(after(args, "-preset"), "veryfast");
  assertEquals(after(args, "-bf"), "0");
  assertEquals(after(args, "-force_key_frames"), "expr:gte(t,n_forced*2)");
  assertEquals([after(args, "-g"), after(args, "-keyint_min")], ["50", "50"]);
  assertEquals(after(args, "-b:v"), "1M");
  assertEquals(after(args, "-c:a"), "aac");
  assertEquals(
    args.filter((arg) => arg === "-re").length,
    2,
    "picture and tone paced in real time",
  );
  assert(after(args, "-filter_complex")!.includes(clockOverlay(25)));
  assertEquals(args.slice(args.indexOf("-map"), args.indexOf("-map") + 4), [
    "-map",
    "[v0]",
    "-map",
    "1:a",
  ]);
});

Deno.test("renditions: one split, scaled outputs, several pipes; copy is refused", () => {
  const renditions = ["r/1280x720-30~2500", "r/640x360-30~800"].map(renditionFromStreamId);
  const args = ffmpegArgs({
    input: { kind: "listen", url: "rtmp://0.0.0.0:1935/live/k" },
    renditions,
    encode: true,
    fragmentDuration: 1,
    outputs: ["pipe:1", "tcp://127.0.0.1:5000"],
  });
  assertEquals(args.slice(args.indexOf("-listen"), args.indexOf("-listen") + 4), [
    "-listen",
    "1",
    "-i",
    "rtmp://0.0.0.0:1935/live/k",
  ]);
  assertEquals(
    after(args, "-filter_complex"),
    "[0:v]split=2[s0][s1];[s0]scale=1280:720,fps=30[v0];[s1]scale=640:360,fps=30[v1]",
  );
  assertEquals(args.filter((arg) => arg === "libx264").length, 2);
  assertEquals(
    args.filter((arg) => arg.startsWith("expr:gte(t,n_forced*1)")).length,
    2,
    "the same keyframe times",
  );
  assert(args.includes("tcp://127.0.0.1:5000") && args.includes("800k") && args.includes("2500k"));
  assertThrows(
    () =>
      ffmpegArgs({
        input: { kind: "file", path: "x" },
        renditions,
        encode: false,
        fragmentDuration: 1,
        outputs: ["a", "b"],
      }),
    PublishError,
  );
});

Deno.test("SRT listeners, devices and stream-id renditions", () => {
  const srt = ffmpegArgs({
    input: { kind: "listen", url: "srt://0.0.0.0:9000" },
    renditions: one,
    encode: false,
    fragmentDuration: 2,
    outputs: ["pipe:1"],
  });
  assertEquals(after(srt, "-i"), "srt://0.0.0.0:9000?mode=listener");
  const device = ffmpegArgs({
    input: { kind: "url", url: "/dev/video0", format: "v4l2" },
    renditions: one,
    encode: true,
    fragmentDuration: 2,
    outputs: ["pipe:1"],
  });
  assertEquals(device.slice(device.indexOf("v4l2") - 1, device.indexOf("v4l2") + 3), [
    "-f",
    "v4l2",
    "-i",
    "/dev/video0",
  ]);
  assertEquals(renditionFromStreamId("room/x/1280x720-30~2500"), {
    streamId: "room/x/1280x720-30~2500",
    size: "1280x720",
    fps: 30,
    videoBitrate: "2500k",
  });
  assertEquals(renditionFromStreamId("room/x/640x360"), {
    streamId: "room/x/640x360",
    size: "640x360",
  });
  assertEquals(renditionFromStreamId("room/x"), { streamId: "room/x" });
  assert(canCopy({ video: "h264", audio: "aac" }) && canCopy({ video: "h264" }));
  assert(!canCopy({ video: "hevc", audio: "aac" }) && !canCopy({ video: "h264", audio: "mp3" }));
});
