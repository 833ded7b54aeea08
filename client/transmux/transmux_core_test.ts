import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { tsFragments } from "../../tests/helpers/media.ts";
import { pesStarts } from "../../tests/helpers/pes_starts.ts";
import { moofDecodeTime } from "./repeated_samples.ts";
import { TransmuxCore } from "./transmux_core.ts";

function boxTypes(data: Uint8Array): string[] {
  const types: string[] = [];
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let offset = 0; offset + 8 <= data.byteLength;) {
    const size = view.getUint32(offset);
    types.push(new TextDecoder().decode(data.subarray(offset + 4, offset + 8)));
    if (size < 8) break;
    offset += size;
  }
  return types;
}

Deno.test("TransmuxCore turns whole fragments and parts into fMP4 per track", async () => {
  const media = await tsFragments({ seconds: 3, fragmentSeconds: 1 });
  const core = new TransmuxCore();
  const whole = core.transmux(media[0].data, false);
  assert(whole.video?.init && whole.audio?.init, "init segments come with the first chunk");
  assertEquals(boxTypes(whole.video.init).slice(0, 2), ["ftyp", "moov"]);
  assertEquals(boxTypes(whole.video.data).slice(0, 2), ["moof", "mdat"]);

  // The next fragment in parts cut at video PES starts: no new init, every part has media.
  const starts = pesStarts(media[1].data).map((start) => start.offset);
  const cuts = [0, starts[6], starts[12], starts[18], media[1].data.byteLength];
  let videoBoxes = 0;
  for (let index = 0; index + 1 < cuts.length; index++) {
    const output = core.transmux(media[1].data.subarray(cuts[index], cuts[index + 1]), false);
    assert(output.video !== undefined, `part ${index} has video`);
    assertEquals(output.video.init, undefined, "no new init");
    videoBoxes += boxTypes(output.video.data).filter((type) => type === "moof").length;
  }
  assert(videoBoxes >= 28, `${videoBoxes} video frames in a 1 s fragment at 30 fps`);

  // A reset (discontinuity) sends the init segments again.
  const again = core.transmux(media[0].data, true);
  assert(again.video?.init !== undefined && again.audio?.init !== undefined);
});

/** Decode times of the video samples in fMP4 media data (one moof+mdat pair per sample). */
function decodeTimes(data: Uint8Array): number[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const times: number[] = [];
  for (let offset = 0; offset + 8 <= data.byteLength;) {
    const size = view.getUint32(offset);
    const type = new TextDecoder().decode(data.subarray(offset + 4, offset + 8));
    if (type === "moof") {
      const time = moofDecodeTime(data, { start: offset, end: offset + size });
      if (time !== undefined) times.push(time);
    }
    if (size < 8) break;
    offset += size;
  }
  return times;
}

Deno.test("TransmuxCore gives every frame once when a stream comes in parts", async () => {
  const media = await tsFragments({ seconds: 3, fragmentSeconds: 1 });
  const core = new TransmuxCore();
  const times: number[] = [];
  let frames = 0;
  for (const fragment of media) {
    const starts = pesStarts(fragment.data).map((start) => start.offset);
    frames += starts.length;
    const cuts = [0];
    for (let index = 6; index < starts.length; index += 6) cuts.push(starts[index]);
    cuts.push(fragment.data.byteLength);
    for (let index = 0; index + 1 < cuts.length; index++) {
      const output = core.transmux(fragment.data.subarray(cuts[index], cuts[index + 1]), false);
      if (output.video !== undefined) times.push(...decodeTimes(output.video.data));
    }
  }
  for (let index = 1; index < times.length; index++) {
    assert(
      times[index] > times[index - 1],
      `frame ${index}: ${times[index]} after ${times[index - 1]}`,
    );
  }
  // mux.js keeps the very last frame until more data comes.
  assert(
    times.length >= frames - 1 && times.length <= frames,
    `${times.length} of ${frames} frames`,
  );
});
