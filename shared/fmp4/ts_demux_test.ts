import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { hasFfmpeg, tsFragments } from "../../tests/helpers/media.ts";
import { packetPid, payloadUnitStart, TS_PACKET_SIZE } from "../mpegts/packet.ts";
import { ProgramTracker } from "../mpegts/program.ts";
import { TsDemuxer } from "./ts_demux.ts";

const ffmpeg = await hasFfmpeg();

Deno.test({
  name: "demux: access units with timestamps, IDR first, AAC frames 1024 samples apart",
  ignore: !ffmpeg,
  async fn() {
    const [fragment] = await tsFragments({ seconds: 2, fragmentSeconds: 2 });
    const demuxer = new TsDemuxer();
    demuxer.push(fragment.data);
    const { video, audio } = demuxer.flush();
    assertEquals(video.length, 60);
    assert(video[0].key && !video[1].key, "an IDR first, then delta pictures");
    assertEquals(video[0].nals.map((nal) => nal[0] & 0x1f).slice(0, 3), [9, 7, 8]);
    for (let index = 1; index < video.length; index++) {
      assertEquals(video[index].dts - video[index - 1].dts, 3000, "30 fps");
    }
    assert(audio.length >= 90, `${audio.length} AAC frames in 2 s`);
    assertEquals([audio[0].sampleRate, audio[0].objectType], [48000, 2]);
    for (let index = 1; index < audio.length; index++) {
      assertAtMostOne(audio[index].pts - audio[index - 1].pts - 1920);
    }
    assertEquals(demuxer.flush(), { video: [], audio: [] }, "each unit is given once");
  },
});

function assertAtMostOne(difference: number): void {
  assert(Math.abs(difference) <= 1, `${difference} ticks off 1920`);
}

Deno.test({
  name: "demux: an audio PES cut between two pieces waits for the rest",
  ignore: !ffmpeg,
  async fn() {
    const [fragment] = await tsFragments({ seconds: 2, fragmentSeconds: 2 });
    const data = fragment.data;
    // The second packet of the first audio PES that spans more than one packet.
    const program = new ProgramTracker();
    let cut = -1;
    let inAudio = false;
    for (let offset = 0; offset < data.byteLength; offset += TS_PACKET_SIZE) {
      const packet = data.subarray(offset, offset + TS_PACKET_SIZE);
      if (program.observe(packet)) continue;
      if (packetPid(packet) !== program.audio?.pid) continue;
      if (!payloadUnitStart(packet) && inAudio) {
        cut = offset;
        break;
      }
      inAudio = payloadUnitStart(packet);
    }
    assert(cut > 0, "an audio PES over two packets");
    const whole = new TsDemuxer();
    whole.push(data);
    const expected = whole.flush().audio.map((unit) => [unit.pts, unit.data.byteLength]);
    const pieces = new TsDemuxer();
    pieces.push(data.subarray(0, cut));
    const first = pieces.flush().audio;
    pieces.push(data.subarray(cut));
    const second = pieces.flush().audio;
    assertEquals([...first, ...second].map((unit) => [unit.pts, unit.data.byteLength]), expected);
  },
});
