import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { sameBytes } from "../../tests/helpers/media.ts";
import { muxerWrites, probe, tsStream } from "../../tests/helpers/ts_stream.ts";
import { TsCutter, type TsCutterOptions, TsCutterStream, type TsPart } from "./cutter.ts";
import { parsePesHeader } from "./pes.ts";
import {
  concatBytes,
  hasAdaptationField,
  packetPid,
  payloadUnitStart,
  TS_PACKET_SIZE,
} from "./packet.ts";

const VIDEO_PID = 0x100;
const PMT_PID = 0x1000;

function cut(ts: Uint8Array, options: TsCutterOptions = {}, chunkSizes?: () => number): {
  parts: TsPart[];
  cutter: TsCutter;
} {
  const cutter = new TsCutter(options);
  const parts: TsPart[] = [];
  if (chunkSizes === undefined) parts.push(...cutter.push(ts));
  else {
    for (let offset = 0; offset < ts.byteLength;) {
      const size = chunkSizes();
      parts.push(...cutter.push(ts.subarray(offset, offset + size)));
      offset += size;
    }
  }
  parts.push(...cutter.flush());
  return { parts, cutter };
}

/** Whole fragments: the concatenated parts of each. */
function fragments(parts: TsPart[]): { data: Uint8Array; duration: number; parts: TsPart[] }[] {
  const result: { data: Uint8Array; duration: number; parts: TsPart[] }[] = [];
  let current: TsPart[] = [];
  for (const part of parts) {
    assertEquals(part.index, current.length, "parts in order");
    current.push(part);
    if (part.last) {
      result.push({
        data: concatBytes(current.map((item) => item.data)),
        duration: part.duration!,
        parts: current,
      });
      current = [];
    }
  }
  assertEquals(current.length, 0, "the last fragment is complete");
  return result;
}

/** Checks that a fragment starts with PAT and PMT and decodes on its own, starting at a keyframe. */
async function assertSelfContained(data: Uint8Array, what: string, audio = true): Promise<void> {
  assertEquals(data.byteLength % TS_PACKET_SIZE, 0, `${what}: whole packets`);
  assertEquals(data[0], 0x47, `${what}: sync byte`);
  assertEquals(packetPid(data, 0), 0, `${what}: PAT first`);
  assertEquals(packetPid(data, TS_PACKET_SIZE), PMT_PID, `${what}: then PMT`);
  const result = await probe(data);
  const types = result.streams.map((stream) => stream.codec_type).sort();
  assertEquals(types, audio ? ["audio", "video"] : ["video"], `${what}: streams`);
  const video = result.frames!.filter((frame) => frame.media_type === "video");
  assert(video.length > 0, `${what}: video frames decode`);
  assertEquals(video[0].key_frame, 1, `${what}: first video frame is a keyframe`);
}

function packets(data: Uint8Array): Uint8Array[] {
  const result: Uint8Array[] = [];
  for (let offset = 0; offset < data.byteLength; offset += TS_PACKET_SIZE) {
    result.push(data.subarray(offset, offset + TS_PACKET_SIZE));
  }
  return result;
}

/** A deterministic pseudo-random sequence. */
function random(seed: number): () => number {
  return () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

Deno.test("ffmpeg's stream in 2 s fragments: tables first, keyframe, durations, every byte", async () => {
  const ts = await tsStream({ seconds: 6, gopSeconds: 1 });
  const { parts, cutter } = cut(ts, { fragmentDuration: 2 });
  const whole = fragments(parts);
  assertEquals(whole.map((fragment) => fragment.duration), [2, 2, 2]);
  for (const [index, fragment] of whole.entries()) {
    await assertSelfContained(fragment.data, `fragment ${index}`);
  }
  const stats = cutter.stats;
  assertEquals(stats.outputBytes, ts.byteLength);
  assertEquals(stats.injectedBytes, 0, "ffmpeg repeats the tables before each keyframe");
  assertEquals(stats.droppedBytes, 0);
  assertEquals(stats.fragments, 3);
  // Every packet is passed on in order; only ffmpeg's SDT moves behind PAT and PMT where it
  // preceded them at a fragment start.
  const out = concatBytes(whole.map((fragment) => fragment.data));
  assertEquals(packetPid(ts, 0), 0x11, "ffmpeg starts with its SDT");
  const withoutSdt = (data: Uint8Array) =>
    concatBytes(packets(data).filter((packet) => packetPid(packet) !== 0x11));
  assert(sameBytes(withoutSdt(out), withoutSdt(ts)), "same packets in the same order");
});

Deno.test("parts: about 200 ms each, cut at PES starts, independent at keyframes", async () => {
  const ts = await tsStream({ seconds: 4, gopSeconds: 1 });
  const { parts } = cut(ts, { fragmentDuration: 2, partDuration: 0.2 });
  const whole = fragments(parts);
  assertEquals(whole.length, 2);
  for (const fragment of whole) {
    assertEquals(fragment.parts.length, 10);
    for (const part of fragment.parts) {
      assertEquals(part.mediaDuration, 0.2);
      if (part.independent) assertEquals(packetPid(part.data), 0, "starts with the tables");
      // Tables the encoder repeated may come first; then the part starts with a video PES.
      const media = packets(part.data).find((packet) =>
        packetPid(packet) >= VIDEO_PID && packetPid(packet) < PMT_PID
      )!;
      assertEquals(packetPid(media), VIDEO_PID, "a part starts with a video PES");
      assert(payloadUnitStart(media), "at its first packet");
    }
    // One keyframe per second: part 0 and part 5 are independent.
    assertEquals(fragment.parts.map((part) => part.independent).indexOf(true, 1), 5);
    assertEquals(fragment.parts.at(-1)!.last, true);
    assertEquals(fragment.parts.filter((part) => part.last).length, 1);
  }
  await assertSelfContained(
    concatBytes(whole[1].parts.slice(5).map((part) => part.data)),
    "from part 5",
  );
});

Deno.test("chunks cut anywhere give the same parts as one push", async () => {
  const ts = await tsStream({ seconds: 4, gopSeconds: 1 });
  const reference = cut(ts, { fragmentDuration: 1, partDuration: 0.25 }).parts;
  const next = random(3);
  const chunked =
    cut(ts, { fragmentDuration: 1, partDuration: 0.25 }, () => 1 + Math.floor(next() * 5000)).parts;
  assertEquals(chunked.length, reference.length);
  for (const [index, part] of chunked.entries()) {
    assert(sameBytes(part.data, reference[index].data), `part ${index} bytes`);
    assertEquals([part.fragment, part.index, part.last, part.independent, part.duration], [
      reference[index].fragment,
      reference[index].index,
      reference[index].last,
      reference[index].independent,
      reference[index].duration,
    ]);
  }
});

/** How many video PES start in `data`. */
function videoStarts(data: Uint8Array): number {
  return packets(data).filter((packet) =>
    packetPid(packet) === VIDEO_PID && payloadUnitStart(packet)
  ).length;
}

Deno.test("frame parts: one per video frame, out at the end of the muxer's write, same fragments", async () => {
  const ts = await tsStream({ seconds: 3, gopSeconds: 1 });
  const reference = fragments(cut(ts, { fragmentDuration: 1, partDuration: 0.25 }).parts);
  const cutter = new TsCutter({ fragmentDuration: 1 }); // "frame" is the default
  const parts: TsPart[] = [];
  let frames = 0;
  for (const write of muxerWrites(ts)) {
    const out = cutter.push(write);
    parts.push(...out);
    if (videoStarts(write) === 1 && parts.length > 0) {
      frames++;
      // The frame this write carried left with it, not one frame later.
      // One part, or at a fragment start the previous fragment's last part and then this frame.
      assert(out.length === 1 || (out.length === 2 && out[0].last), `frame ${frames}: out now`);
      const start = packets(out.at(-1)!.data).find((packet) =>
        packetPid(packet) === VIDEO_PID && payloadUnitStart(packet)
      );
      assert(
        start && sameBytes(start, write.subarray(0, TS_PACKET_SIZE)),
        `frame ${frames}: its PES`,
      );
    }
  }
  parts.push(...cutter.flush());
  const whole = fragments(parts);
  assertEquals(whole.length, reference.length);
  for (const [index, fragment] of whole.entries()) {
    assert(sameBytes(fragment.data, reference[index].data), `fragment ${index}: same bytes`);
    assertEquals(fragment.duration, reference[index].duration);
    const starts = fragment.parts.map((part) => videoStarts(part.data));
    assert(starts.slice(0, -1).every((count) => count === 1), `fragment ${index}: a frame a part`);
    assertEquals(starts.at(-1), 0, "the last part holds what came after the last frame");
    assertEquals(fragment.parts.length - 1, 30, "30 frames a second");
    assertEquals(fragment.parts[0].independent, true);
    assert(fragment.parts.slice(1).every((part) => !part.independent), "one keyframe a second");
    const media = fragment.parts.reduce((sum, part) => sum + part.mediaDuration, 0);
    // (The stream's very first frame has no known frame interval yet: it counts 0.)
    const missing = index === 0 ? 1 / 30 : 0;
    assert(Math.abs(media + missing - fragment.duration) < 0.001, `${index}: media ${media} s`);
    await assertSelfContained(fragment.data, `fragment ${index}`);
  }
  // Chunks cut anywhere: a frame split over two chunks goes out in two parts; fragments the same.
  const next = random(5);
  const chunked = fragments(
    cut(ts, { fragmentDuration: 1, partDuration: "frame" }, () => 1 + Math.floor(next() * 9000))
      .parts,
  );
  assertEquals(chunked.map((f) => f.data.byteLength), reference.map((f) => f.data.byteLength));
  for (const fragment of chunked) {
    assert(fragment.parts.every((part) => videoStarts(part.data) <= 1), "never two frames a part");
    assert(fragment.parts.length > 30, `${fragment.parts.length} parts`);
  }
});

Deno.test("an encoder that does not repeat PAT/PMT: the cutter puts them at each fragment start", async () => {
  const ts = await tsStream({ seconds: 4, gopSeconds: 1 });
  // Keep the tables only at the very start.
  const kept: Uint8Array[] = [];
  let seenMedia = false;
  for (let offset = 0; offset < ts.byteLength; offset += TS_PACKET_SIZE) {
    const pid = packetPid(ts, offset);
    if (pid === VIDEO_PID || pid === 0x101) seenMedia = true;
    if (seenMedia && (pid === 0 || pid === PMT_PID)) continue;
    kept.push(ts.subarray(offset, offset + TS_PACKET_SIZE));
  }
  const stripped = concatBytes(kept);
  const { parts, cutter } = cut(stripped, { fragmentDuration: 1, partDuration: 0 });
  const whole = fragments(parts);
  assertEquals(whole.length, 4);
  for (const [index, fragment] of whole.entries()) {
    assertEquals(fragment.parts.length, 1, "partDuration 0: one part per fragment");
    await assertSelfContained(fragment.data, `fragment ${index}`);
  }
  assertEquals(cutter.stats.injectedBytes, 3 * 2 * TS_PACKET_SIZE);
  assertEquals(cutter.stats.outputBytes, stripped.byteLength + cutter.stats.injectedBytes);
});

Deno.test("keyframes are found from the NAL units when the random access indicator is missing", async () => {
  const ts = await tsStream({ seconds: 4, gopSeconds: 1 });
  const cleared = ts.slice();
  for (let offset = 0; offset < cleared.byteLength; offset += TS_PACKET_SIZE) {
    if (hasAdaptationField(cleared, offset) && cleared[offset + 4] > 0) {
      cleared[offset + 5] &= ~0x40;
    }
  }
  const reference = fragments(cut(ts, { fragmentDuration: 1 }).parts);
  const found = fragments(cut(cleared, { fragmentDuration: 1 }).parts);
  assertEquals(
    found.map((fragment) => fragment.data.byteLength),
    reference.map((fragment) => fragment.data.byteLength),
  );
  assertEquals(found.map((fragment) => fragment.duration), [1, 1, 1, 1]);
});

Deno.test("B-frames, HEVC and audio-only streams", async (t) => {
  await t.step("H.264 with B-frames", async () => {
    const ts = await tsStream({ seconds: 4, gopSeconds: 1, bframes: 2 });
    const whole = fragments(cut(ts, { fragmentDuration: 2 }).parts);
    assertEquals(whole.map((fragment) => fragment.duration), [2, 2]);
    for (const [index, fragment] of whole.entries()) {
      await assertSelfContained(fragment.data, `B ${index}`);
    }
  });
  await t.step("HEVC", async () => {
    const ts = await tsStream({ seconds: 4, gopSeconds: 1, codec: "hevc" });
    const whole = fragments(cut(ts, { fragmentDuration: 2 }).parts);
    assertEquals(whole.map((fragment) => fragment.duration), [2, 2]);
    for (const [index, fragment] of whole.entries()) {
      await assertSelfContained(fragment.data, `HEVC ${index}`);
    }
  });
  await t.step("audio only", async () => {
    // One AAC frame per PES (as `publish` asks ffmpeg), so parts can be cut every 200 ms.
    const ts = await tsStream({ seconds: 4, video: false, muxerArgs: ["-pes_payload_size", "0"] });
    const { parts, cutter } = cut(ts, { fragmentDuration: 1, partDuration: 0.2 });
    const whole = fragments(parts);
    assert(whole.length >= 3, `${whole.length} fragments`);
    for (const fragment of whole.slice(0, -1)) {
      assert(
        fragment.duration >= 0.99 && fragment.duration < 1.05,
        `duration ${fragment.duration}`,
      );
      assert(
        fragment.parts.length >= 4 && fragment.parts.length <= 6,
        `${fragment.parts.length} parts`,
      );
      assertEquals(packetPid(fragment.data), 0);
      const result = await probe(fragment.data);
      assertEquals(result.streams.map((stream) => stream.codec_type), ["audio"]);
    }
    // ffmpeg repeats the tables every 100 ms, not before each audio frame: some are put in.
    const { outputBytes, injectedBytes } = cutter.stats;
    assertEquals(outputBytes, ts.byteLength + injectedBytes);
  });
});

Deno.test("timestamps that jump back end the fragment and mark the next one discontinuity", async () => {
  const first = await tsStream({ seconds: 3, gopSeconds: 1 });
  const second = await tsStream({ seconds: 2, gopSeconds: 1 });
  const whole = fragments(cut(concatBytes([first, second]), { fragmentDuration: 2 }).parts);
  assertEquals(whole.map((fragment) => fragment.duration), [2, 1, 2]);
  assertEquals(whole.map((fragment) => fragment.parts[0].discontinuity === true), [
    false,
    false,
    true,
  ]);
  for (const [index, fragment] of whole.entries()) {
    await assertSelfContained(fragment.data, `fragment ${index}`);
  }
});

Deno.test("a stream joined in the middle of a GOP starts at the next keyframe", async () => {
  const ts = await tsStream({ seconds: 3, gopSeconds: 1 });
  const joined = ts.subarray(Math.floor(ts.byteLength / 6 / TS_PACKET_SIZE) * TS_PACKET_SIZE);
  const { parts, cutter } = cut(joined, { fragmentDuration: 1 });
  const whole = fragments(parts);
  assertEquals(whole.length, 2);
  assertEquals(whole.map((fragment) => fragment.duration), [1, 1]);
  await assertSelfContained(whole[0].data, "first fragment");
  const stats = cutter.stats;
  assert(stats.droppedBytes > 0, "video before the keyframe is dropped");
  assertEquals(stats.outputBytes + stats.droppedBytes - stats.injectedBytes, joined.byteLength);
});

Deno.test("time stamps: media time plus the delay of the fastest frame", async () => {
  const ts = await tsStream({ seconds: 3, gopSeconds: 1 });
  // Push each video frame (with what follows it) at its media time plus 50 ms plus some jitter.
  const starts: { offset: number; pts: number }[] = [];
  for (let offset = 0; offset < ts.byteLength; offset += TS_PACKET_SIZE) {
    if (packetPid(ts, offset) === VIDEO_PID && payloadUnitStart(ts, offset)) {
      const payload = ts.subarray(offset + 4, offset + TS_PACKET_SIZE);
      const header = parsePesHeader(
        hasAdaptationField(ts, offset)
          ? ts.subarray(offset + 5 + ts[offset + 4], offset + TS_PACKET_SIZE)
          : payload,
      )!;
      starts.push({ offset, pts: header.pts! });
    }
  }
  let now = 0;
  const cutter = new TsCutter({ fragmentDuration: 1, partDuration: 0.2, now: () => now });
  const parts: TsPart[] = [];
  for (const [index, start] of starts.entries()) {
    now = 1_000_000 + start.pts / 90 + 50 + (index * 7) % 30;
    parts.push(
      ...cutter.push(
        ts.subarray(index === 0 ? 0 : start.offset, starts[index + 1]?.offset ?? ts.byteLength),
      ),
    );
  }
  parts.push(...cutter.flush());
  assertEquals(parts.length, 15);
  for (const part of parts) {
    assertEquals(part.time, 1_000_050 + Math.round(part.pts / 90));
    assertEquals(part.fragmentTime, parts.find((item) => item.fragment === part.fragment)!.time);
    // Handed out when the next frame came in: one frame (33 ms) plus the jitter later.
    if (!part.last || part !== parts.at(-1)) {
      const wait = part.emittedAt - part.lastByteAt;
      assert(wait >= 33 - 30 && wait <= 33 + 30, `the cutter held a part ${wait} ms`);
    }
  }
});

Deno.test("TsCutterStream cuts a stream pipeline", async () => {
  const ts = await tsStream({ seconds: 2, gopSeconds: 1 });
  const input = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let offset = 0; offset < ts.byteLength; offset += 4096) {
        controller.enqueue(ts.subarray(offset, offset + 4096));
      }
      controller.close();
    },
  });
  const stage = new TsCutterStream({ fragmentDuration: 1 });
  const parts: TsPart[] = [];
  for await (const part of input.pipeThrough(stage)) parts.push(part);
  assertEquals(fragments(parts).map((fragment) => fragment.duration), [1, 1]);
  assertEquals(stage.cutter.stats.outputBytes, ts.byteLength);
});
