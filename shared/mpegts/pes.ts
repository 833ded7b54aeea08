/**
 * PES headers: stream id, PTS and DTS (90 kHz) at the start of each PES packet, and the
 * unwrapping of those 33-bit timestamps into a line that keeps increasing.
 *
 * This module runs in browsers and in Deno alike.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePesHeader } from "./pes.ts";
 * // PES start, stream 0xE0, PTS only (90000 = 1 s).
 * const header = parsePesHeader(new Uint8Array([0, 0, 1, 0xe0, 0, 0, 0x80, 0x80, 5, 0x21, 0x00, 0x05, 0xbf, 0x21]));
 * assert(header?.pts === 90000 && header.dts === undefined && header.payloadOffset === 14);
 * ```
 * @module
 */

/** Ticks per second of PTS and DTS. */
export const PTS_HZ = 90000;
/** PTS and DTS wrap around at 2^33 ticks (about 26.5 hours). */
export const PTS_WRAP = 2 ** 33;

/** What a PES header says. */
export interface PesHeader {
  /** `stream_id` (0xE0–0xEF video, 0xC0–0xDF audio, 0xBD private). */
  streamId: number;
  /** `PES_packet_length`; 0 means unbounded (usual for video). */
  packetLength: number;
  /** Presentation timestamp, 90 kHz, 33 bits. */
  pts?: number;
  /** Decoding timestamp, 90 kHz, 33 bits (absent when equal to the PTS). */
  dts?: number;
  /** Offset of the elementary stream bytes from the start of the PES packet. */
  payloadOffset: number;
}

/** Stream ids whose PES packets have no optional header (padding, private 2, ECM...). */
const NO_HEADER_IDS: ReadonlySet<number> = new Set([
  0xbc,
  0xbe,
  0xbf,
  0xf0,
  0xf1,
  0xff,
  0xf2,
  0xf8,
]);

function readTimestamp(data: Uint8Array, offset: number): number {
  return ((data[offset] >> 1) & 0x07) * 2 ** 30 +
    (data[offset + 1] << 22 | (data[offset + 2] >> 1) << 15 | data[offset + 3] << 7 |
      data[offset + 4] >> 1);
}

/**
 * Parses the PES header at the start of `data` (the payload of a packet with
 * `payload_unit_start_indicator`). Returns null when the bytes are not a PES start or the header
 * does not fit in them.
 */
export function parsePesHeader(data: Uint8Array): PesHeader | null {
  if (data.byteLength < 6 || data[0] !== 0 || data[1] !== 0 || data[2] !== 1) return null;
  const streamId = data[3];
  const packetLength = data[4] << 8 | data[5];
  if (NO_HEADER_IDS.has(streamId)) return { streamId, packetLength, payloadOffset: 6 };
  if (data.byteLength < 9 || (data[6] & 0xc0) !== 0x80) return null;
  const flags = data[7] >> 6;
  const payloadOffset = 9 + data[8];
  if (payloadOffset > data.byteLength) return null;
  const header: PesHeader = { streamId, packetLength, payloadOffset };
  if (flags & 0x2 && payloadOffset >= 14) header.pts = readTimestamp(data, 9);
  if (flags === 0x3 && payloadOffset >= 19) header.dts = readTimestamp(data, 14);
  return header;
}

/**
 * Turns 33-bit timestamps into numbers that keep increasing across the wrap-around, by taking
 * each one as close as possible to the previous one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PTS_WRAP, TimestampUnwrapper } from "./pes.ts";
 * const unwrapper = new TimestampUnwrapper();
 * unwrapper.unwrap(PTS_WRAP - 90);
 * assert(unwrapper.unwrap(90) === PTS_WRAP + 90);
 * ```
 */
export class TimestampUnwrapper {
  #last: number | undefined;

  /** The unwrapped value of a 33-bit timestamp. */
  unwrap(timestamp: number): number {
    const last = this.#last;
    let value = timestamp;
    if (last !== undefined) {
      const base = last - (((last % PTS_WRAP) + PTS_WRAP) % PTS_WRAP);
      value = base + timestamp;
      if (value - last > PTS_WRAP / 2) value -= PTS_WRAP;
      else if (last - value > PTS_WRAP / 2) value += PTS_WRAP;
    }
    this.#last = value;
    return value;
  }
}
