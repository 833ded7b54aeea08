import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { sameBytes } from "../../tests/helpers/media.ts";
import { tsStream } from "../../tests/helpers/ts_stream.ts";
import { concatBytes, TS_PACKET_SIZE } from "./packet.ts";
import { TsPacketAligner, tsPacketStream } from "./packet_aligner.ts";

/** A deterministic pseudo-random sequence (tests must be repeatable). */
function random(seed: number): () => number {
  return () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

Deno.test("the aligner rebuilds ffmpeg's stream from chunks cut anywhere", async () => {
  const ts = await tsStream({ seconds: 2 });
  const next = random(7);
  const aligner = new TsPacketAligner();
  const out: Uint8Array[] = [];
  for (let offset = 0; offset < ts.byteLength;) {
    const size = 1 + Math.floor(next() * 1500);
    for (const run of aligner.push(ts.subarray(offset, offset + size))) {
      assertEquals(run.byteLength % TS_PACKET_SIZE, 0);
      out.push(run);
    }
    offset += size;
  }
  aligner.flush();
  assert(sameBytes(concatBytes(out), ts), "same bytes out as in");
  assertEquals(aligner.skippedBytes, 0);
});

Deno.test("the aligner skips garbage between packets and finds the sync byte again", async () => {
  const ts = (await tsStream({ seconds: 2 })).subarray(0, 20 * TS_PACKET_SIZE);
  const garbage = new Uint8Array([1, 2, 0x47, 3, 0x47, 0x47, 9]);
  const input = concatBytes([
    ts.subarray(0, 5 * TS_PACKET_SIZE),
    garbage,
    ts.subarray(5 * TS_PACKET_SIZE),
  ]);
  const aligner = new TsPacketAligner();
  const out = concatBytes(aligner.push(input));
  assert(sameBytes(out, ts), "every packet kept, garbage dropped");
  assertEquals(aligner.skippedBytes, garbage.byteLength);
});

Deno.test("the aligner holds an incomplete packet and drops it at the end", async () => {
  const ts = (await tsStream({ seconds: 2 })).subarray(0, 3 * TS_PACKET_SIZE);
  const aligner = new TsPacketAligner();
  assertEquals(concatBytes(aligner.push(ts.subarray(0, 2 * TS_PACKET_SIZE + 100))).byteLength, 376);
  assertEquals(aligner.pendingBytes, 100);
  aligner.flush();
  assertEquals(aligner.skippedBytes, 100);
});

Deno.test("tsPacketStream passes whole packets through a stream pipeline", async () => {
  const ts = await tsStream({ seconds: 2 });
  const chunks = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let offset = 0; offset < ts.byteLength; offset += 1000) {
        controller.enqueue(ts.subarray(offset, offset + 1000));
      }
      controller.close();
    },
  });
  const runs: Uint8Array[] = [];
  for await (const run of chunks.pipeThrough(tsPacketStream())) runs.push(run);
  assert(sameBytes(concatBytes(runs), ts));
});
