import { assertEquals } from "../../tests/helpers/assert.ts";
import { child, children, readBoxes, view } from "../testing/box_reader.ts";
import { mediaFragment, NON_SYNC_FLAGS, SYNC_FLAGS } from "./fragment.ts";
import { audioSpecificConfig, initSegment } from "./init.ts";

const SPS = new Uint8Array([
  0x67,
  0x64,
  0x00,
  0x1f,
  0xac,
  0xd9,
  0x40,
  0x50,
  0x05,
  0xbb,
  0x01,
  0x10,
  0x00,
  0x00,
  0x03,
  0x00,
  0x10,
  0x00,
  0x00,
  0x03,
  0x03,
  0xc0,
  0xf1,
  0x83,
  0x19,
  0x60,
]);
const PPS = new Uint8Array([0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0]);

Deno.test("fragment: tfdt, trun sizes, durations, flags and offsets, mdat holds the samples in order", () => {
  const video = [
    { data: new Uint8Array([1, 1, 1]), duration: 3000, compositionOffset: 3000, key: true },
    { data: new Uint8Array([2, 2]), duration: 2999, compositionOffset: 0, key: false },
  ];
  const audio = [{
    data: new Uint8Array([7, 7, 7, 7]),
    duration: 1024,
    compositionOffset: 0,
    key: true,
  }];
  const bytes = mediaFragment(42, [
    { id: 1, baseDecodeTime: 2 ** 33 - 1, video: true, samples: video },
    { id: 2, baseDecodeTime: 48000, video: false, samples: audio },
  ]);
  const [moof, mdat] = readBoxes(bytes);
  assertEquals([moof.type, mdat.type], ["moof", "mdat"]);
  assertEquals([...mdat.payload], [1, 1, 1, 2, 2, 7, 7, 7, 7]);
  assertEquals(view(child(moof, "mfhd").payload).getUint32(4), 42);
  const [videoTraf, audioTraf] = children(moof, "traf");
  const tfhd = view(child(videoTraf, "tfhd").payload);
  assertEquals(
    [tfhd.getUint32(0), tfhd.getUint32(4)],
    [0x020000, 1],
    "default-base-is-moof, track 1",
  );
  const tfdt = view(child(videoTraf, "tfdt").payload);
  assertEquals(tfdt.getUint8(0), 1, "64-bit tfdt");
  assertEquals(Number(tfdt.getBigUint64(4)), 2 ** 33 - 1);
  const trun = view(child(videoTraf, "trun").payload);
  assertEquals(trun.getUint32(0), 0x000f01, "offset, duration, size, flags, composition offset");
  assertEquals(trun.getUint32(4), 2);
  const dataOffset = trun.getInt32(8);
  assertEquals(moof.offset + dataOffset, mdat.offset + 8, "video samples start the mdat payload");
  assertEquals(
    [trun.getUint32(12), trun.getUint32(16), trun.getUint32(20), trun.getUint32(24)],
    [3000, 3, SYNC_FLAGS, 3000],
  );
  assertEquals(
    [trun.getUint32(28), trun.getUint32(32), trun.getUint32(36), trun.getUint32(40)],
    [2999, 2, NON_SYNC_FLAGS, 0],
  );
  const audioTrun = view(child(audioTraf, "trun").payload);
  assertEquals(audioTrun.getUint32(0), 0x000301, "audio: offset, duration, size");
  assertEquals(moof.offset + audioTrun.getInt32(8), mdat.offset + 8 + 5);
  assertEquals([audioTrun.getUint32(12), audioTrun.getUint32(16)], [1024, 4]);
});

Deno.test("fragment: a negative composition offset makes a version 1 trun", () => {
  const bytes = mediaFragment(1, [{
    id: 1,
    baseDecodeTime: 0,
    video: true,
    samples: [{ data: new Uint8Array([1]), duration: 3000, compositionOffset: -3000, key: true }],
  }]);
  const trun = child(readBoxes(bytes)[0], "traf", "trun");
  assertEquals(trun.payload[0], 1);
  assertEquals(view(trun.payload).getInt32(24), -3000);
});

Deno.test("init: avcC carries SPS and PPS, esds the AudioSpecificConfig, trex each track", () => {
  const bytes = initSegment({
    video: { sps: SPS, pps: PPS, width: 1280, height: 720 },
    audio: { objectType: 2, sampleRate: 48000, channels: 2 },
  });
  const [ftyp, moov] = readBoxes(bytes);
  assertEquals(String.fromCharCode(...ftyp.payload.subarray(0, 4)), "iso6");
  const [videoTrak, audioTrak] = children(moov, "trak");
  const tkhd = view(child(videoTrak, "tkhd").payload);
  assertEquals([tkhd.getUint32(12), tkhd.getUint32(76) / 65536, tkhd.getUint32(80) / 65536], [
    1,
    1280,
    720,
  ]);
  assertEquals(view(child(videoTrak, "mdia", "mdhd").payload).getUint32(12), 90000);
  const stsd = child(videoTrak, "mdia", "minf", "stbl", "stsd");
  const avc1 = readBoxes(stsd.payload.subarray(8))[0];
  assertEquals(avc1.type, "avc1");
  assertEquals([view(avc1.payload).getUint16(24), view(avc1.payload).getUint16(26)], [1280, 720]);
  const avcC = readBoxes(avc1.payload.subarray(78))[0];
  assertEquals(avcC.type, "avcC");
  assertEquals([...avcC.payload.subarray(0, 6)], [1, 0x64, 0x00, 0x1f, 0xff, 0xe1]);
  assertEquals(view(avcC.payload).getUint16(6), SPS.byteLength);
  assertEquals([...avcC.payload.subarray(8, 8 + SPS.byteLength)], [...SPS]);
  assertEquals([...avcC.payload.subarray(8 + SPS.byteLength)], [1, 0, PPS.byteLength, ...PPS]);
  assertEquals(view(child(audioTrak, "mdia", "mdhd").payload).getUint32(12), 48000);
  const mp4a = readBoxes(child(audioTrak, "mdia", "minf", "stbl", "stsd").payload.subarray(8))[0];
  assertEquals(mp4a.type, "mp4a");
  assertEquals(view(mp4a.payload).getUint16(16), 2, "channels");
  assertEquals(view(mp4a.payload).getUint32(24) / 65536, 48000);
  const esds = readBoxes(mp4a.payload.subarray(28))[0];
  const asc = audioSpecificConfig({ objectType: 2, sampleRate: 48000, channels: 2 });
  assertEquals([...asc], [0x11, 0x90], "AAC-LC, index 3, 2 channels");
  const tag5 = esds.payload.indexOf(0x05, 4);
  assertEquals([...esds.payload.subarray(tag5, tag5 + 4)], [0x05, 2, 0x11, 0x90]);
  const trexes = children(child(moov, "mvex"), "trex").map((trex) =>
    view(trex.payload).getUint32(4)
  );
  assertEquals(trexes, [1, 2]);
});
