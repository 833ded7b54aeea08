/**
 * Test support: tiny MPEG-TS chunks made in memory, for unit tests of the player that need what
 * the probe reads (tables, codec headers, first PTS) but not media a decoder could play. A chunk
 * holds, as asked: the PAT and a PMT (H.264 on PID 0x100, AAC on 0x101), a video PES whose
 * payload begins with an H.264 SPS (`avc1.42c01e`), and an audio PES with an ADTS header
 * (`mp4a.40.2`), each with its PTS.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StreamProbe } from "../media/stream_probe.ts";
 * import { tinyTs } from "./tiny_ts.ts";
 * const probe = new StreamProbe();
 * assert(probe.probe(tinyTs({ pts: 10 })).firstPts === 900000);
 * assert(probe.complete && probe.codecs.join() === "avc1.42c01e,mp4a.40.2");
 * ```
 * @module
 */

import { crc32Mpeg2 } from "../../shared/mpegts/psi.ts";

/** What a chunk holds. */
export interface TinyTsOptions {
  /** PTS of its first frame, in seconds (below 11930: the 32-bit arithmetic here). */
  pts: number;
  /** Start with PAT and PMT. @default true */
  tables?: boolean;
  /** Streams the PMT declares. @default { video: true, audio: true } */
  program?: { video?: boolean; audio?: boolean };
  /** Carry a video PES (with an SPS). @default program.video */
  video?: boolean;
  /** Carry an audio PES (with an ADTS header). @default program.audio */
  audio?: boolean;
  /** The SPS's H.264 level (`level_idc`: 30 is 3.0, `avc1.42c01e`). @default 30 */
  level?: number;
}

const PMT_PID = 0x1000;
const VIDEO_PID = 0x100;
const AUDIO_PID = 0x101;

/** One 188-byte packet: header, then an adaptation field of stuffing that fills up the payload. */
function packet(pid: number, payloadStart: boolean, payload: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(188);
  bytes.set([0x47, (payloadStart ? 0x40 : 0) | (pid >> 8), pid & 0xff]);
  const room = 184 - payload.byteLength;
  if (room === 0) {
    bytes[3] = 0x10;
  } else {
    bytes[3] = 0x30;
    bytes[4] = room - 1;
    if (room > 1) bytes.fill(0xff, 6, 4 + room).set([0x00], 5);
  }
  bytes.set(payload, 4 + room);
  return bytes;
}

/** A PSI section (pointer field first) with its CRC. */
function section(tableId: number, body: number[]): Uint8Array {
  const length = body.length + 4;
  const head = [tableId, 0xb0 | (length >> 8), length & 0xff, ...body];
  const crc = crc32Mpeg2(new Uint8Array(head));
  return new Uint8Array([
    0,
    ...head,
    crc >>> 24,
    (crc >> 16) & 0xff,
    (crc >> 8) & 0xff,
    crc & 0xff,
  ]);
}

function pes(streamId: number, pts: number, data: number[]): Uint8Array {
  const ticks = Math.round(pts * 90000);
  const high = Math.floor(ticks / 2 ** 30) & 0x07;
  const stamp = [
    0x21 | (high << 1),
    (ticks >> 22) & 0xff,
    ((ticks >> 14) & 0xfe) | 1,
    (ticks >> 7) & 0xff,
    ((ticks << 1) & 0xfe) | 1,
  ];
  return new Uint8Array([0, 0, 1, streamId, 0, 0, 0x80, 0x80, 5, ...stamp, ...data]);
}

/** A tiny MPEG-TS chunk. */
export function tinyTs(options: TinyTsOptions): Uint8Array {
  const program = { video: true, audio: true, ...options.program };
  const packets: Uint8Array[] = [];
  if (options.tables !== false) {
    packets.push(packet(0, true, section(0x00, [0, 1, 0xc1, 0, 0, 0, 1, 0xe0 | 0x10, 0x00])));
    const streams: number[] = [];
    if (program.video) streams.push(0x1b, 0xe0 | (VIDEO_PID >> 8), VIDEO_PID & 0xff, 0xf0, 0);
    if (program.audio) streams.push(0x0f, 0xe0 | (AUDIO_PID >> 8), AUDIO_PID & 0xff, 0xf0, 0);
    const pcr = program.video ? VIDEO_PID : AUDIO_PID;
    const body = [0, 1, 0xc1, 0, 0, 0xe0 | (pcr >> 8), pcr & 0xff, 0xf0, 0, ...streams];
    packets.push(packet(PMT_PID, true, section(0x02, body)));
  }
  if (options.video ?? program.video) {
    // An access unit delimiter, then an SPS (Baseline, level 3.0).
    const es = [
      0,
      0,
      0,
      1,
      0x09,
      0xf0,
      0,
      0,
      0,
      1,
      0x67,
      0x42,
      0xc0,
      options.level ?? 0x1e,
      0x8c,
      0x8d,
    ];
    packets.push(packet(VIDEO_PID, true, pes(0xe0, options.pts, es)));
  }
  if (options.audio ?? program.audio) {
    // An ADTS header: AAC-LC, 48 kHz, stereo, a 16-byte frame.
    const es = [0xff, 0xf1, 0x4c, 0x80, 0x02, 0x1f, 0xfc, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    packets.push(packet(AUDIO_PID, true, pes(0xc0, options.pts, es)));
  }
  const bytes = new Uint8Array(packets.length * 188);
  packets.forEach((bytesOfPacket, index) => bytes.set(bytesOfPacket, index * 188));
  return bytes;
}
