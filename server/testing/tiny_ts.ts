/**
 * Test support: the smallest MPEG-TS a node can read, made in memory: a PAT and a PMT (one H.264
 * stream on PID 0x100) and one video PES start with a given PTS per piece, so unit tests can feed
 * timed parts without ffmpeg.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tinyTs } from "./tiny_ts.ts";
 * const part0 = tinyTs(90000, true); // PAT + PMT + a PES at 1 s
 * assert(part0.byteLength === 3 * 188 && part0[0] === 0x47);
 * ```
 * @module
 */

import { crc32Mpeg2 } from "../../shared/mpegts/psi.ts";

const VIDEO_PID = 0x100;
const PMT_PID = 0x1000;

function packet(pid: number, start: boolean, payload: number[]): Uint8Array {
  const bytes = new Uint8Array(188).fill(0xff);
  bytes.set([0x47, (start ? 0x40 : 0) | (pid >> 8), pid & 0xff, 0x10]);
  bytes.set(payload, 4);
  return bytes;
}

function section(body: number[]): number[] {
  const data = new Uint8Array(body.length + 4);
  data.set(body);
  const crc = crc32Mpeg2(data.subarray(0, body.length));
  data.set([crc >>> 24, (crc >>> 16) & 0xff, (crc >>> 8) & 0xff, crc & 0xff], body.length);
  return [0, ...data];
}

function pat(): Uint8Array {
  const length = 13;
  return packet(
    0,
    true,
    section([
      0x00,
      0xb0,
      length,
      0,
      1,
      0xc1,
      0,
      0,
      0,
      1,
      0xe0 | (PMT_PID >> 8),
      PMT_PID & 0xff,
    ]),
  );
}

function pmt(): Uint8Array {
  const length = 18;
  return packet(
    PMT_PID,
    true,
    section([
      0x02,
      0xb0,
      length,
      0,
      1,
      0xc1,
      0,
      0,
      0xe0 | (VIDEO_PID >> 8),
      VIDEO_PID & 0xff,
      0xf0,
      0,
      0x1b,
      0xe0 | (VIDEO_PID >> 8),
      VIDEO_PID & 0xff,
      0xf0,
      0,
    ]),
  );
}

function pes(pts: number): Uint8Array {
  const high = Math.floor(pts / 2 ** 30) & 0x07;
  const middle = Math.floor(pts / 2 ** 15) & 0x7fff;
  const low = pts & 0x7fff;
  return packet(VIDEO_PID, true, [
    0,
    0,
    1,
    0xe0,
    0,
    0,
    0x80,
    0x80,
    5,
    0x21 | (high << 1),
    middle >> 7,
    ((middle & 0x7f) << 1) | 1,
    low >> 7,
    ((low & 0x7f) << 1) | 1,
    0,
    0,
    0,
    1,
    0x09,
    0xf0,
  ]);
}

/** One piece of a stream starting at `pts` (90 kHz); with `tables`, the PAT and PMT first. */
export function tinyTs(pts: number, tables = false): Uint8Array {
  const packets = tables ? [pat(), pmt(), pes(pts)] : [pes(pts)];
  const bytes = new Uint8Array(packets.length * 188);
  packets.forEach((item, index) => bytes.set(item, index * 188));
  return bytes;
}
