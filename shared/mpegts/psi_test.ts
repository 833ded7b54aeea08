import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { tsStream } from "../../tests/helpers/ts_stream.ts";
import { packetPid, PAT_PID, TS_PACKET_SIZE } from "./packet.ts";
import { ProgramTracker } from "./program.ts";
import { crc32Mpeg2, parsePat, SectionReader, StreamType, TABLE_ID_PAT } from "./psi.ts";

function packets(ts: Uint8Array): Uint8Array[] {
  const result: Uint8Array[] = [];
  for (let offset = 0; offset < ts.byteLength; offset += TS_PACKET_SIZE) {
    result.push(ts.subarray(offset, offset + TS_PACKET_SIZE));
  }
  return result;
}

Deno.test("PAT and PMT of ffmpeg's output: H.264 and AAC PIDs", async () => {
  const program = new ProgramTracker();
  for (const packet of packets(await tsStream({ seconds: 1 }))) program.observe(packet);
  assert(program.ready);
  assertEquals(program.pmtPid, 0x1000);
  assertEquals(program.video?.type, StreamType.H264);
  assertEquals(program.video?.pid, 0x100);
  assertEquals(program.audio?.type, StreamType.AAC_ADTS);
  assertEquals(program.audio?.pid, 0x101);
  assert(program.isMediaPid(0x100) && program.isMediaPid(0x101) && !program.isMediaPid(0x11));
  assert(program.isTablePid(0) && program.isTablePid(0x1000));
  const tables = program.tablePackets;
  assertEquals(tables.length, 2);
  assertEquals(packetPid(tables[0]), PAT_PID);
  assertEquals(packetPid(tables[1]), 0x1000);
});

Deno.test("HEVC and audio-only programs", async () => {
  const hevc = new ProgramTracker();
  for (const packet of packets(await tsStream({ seconds: 1, codec: "hevc" }))) hevc.observe(packet);
  assertEquals(hevc.video?.type, StreamType.HEVC);
  const audio = new ProgramTracker();
  for (const packet of packets(await tsStream({ seconds: 1, video: false }))) audio.observe(packet);
  assertEquals(audio.video, undefined);
  assertEquals(audio.audio?.type, StreamType.AAC_ADTS);
});

Deno.test("a section is read across packets, and a bad CRC drops it", async () => {
  const pat = packets(await tsStream({ seconds: 1 })).find((packet) => packetPid(packet) === 0)!;
  // Split the PAT section (17 bytes after pointer 0 at payload offset 4) over two packets.
  const section = pat.subarray(5, 5 + 16);
  assertEquals(crc32Mpeg2(section), 0);
  // The first packet's adaptation field leaves room for the pointer and 10 bytes of the section.
  const split = new Uint8Array(188).fill(0xff);
  split.set([0x47, 0x40, 0x00, 0x30]);
  const adaptation = 188 - 4 - 1 - 11;
  split[4] = adaptation;
  split[5] = 0x00;
  split[5 + adaptation] = 0; // pointer field
  split.set(section.subarray(0, 10), 5 + adaptation + 1);
  const second = new Uint8Array(188).fill(0xff);
  second.set([0x47, 0x00, 0x00, 0x11]);
  second.set(section.subarray(10), 4);
  const reader = new SectionReader();
  assertEquals(reader.push(split).length, 0);
  const sections = reader.push(second);
  assertEquals(sections.length, 1);
  assertEquals(sections[0][0], TABLE_ID_PAT);
  assertEquals(parsePat(sections[0]), [{ number: 1, pmtPid: 0x1000 }]);

  const corrupt = pat.slice();
  corrupt[5 + 9] ^= 0x01;
  assertEquals(new SectionReader().push(corrupt).length, 0, "bad CRC");
});
