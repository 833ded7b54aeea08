/**
 * ADTS, the framing of AAC in MPEG-TS: finding a frame header and reading its audio object type,
 * sample rate and channels, for the RFC 6381 codec string (`mp4a.40.2` for AAC-LC).
 *
 * This module runs in browsers and in Deno alike.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { aacCodecString, parseAdtsHeader } from "./adts.ts";
 * // AAC-LC, 48 kHz, stereo
 * const header = parseAdtsHeader(new Uint8Array([0xff, 0xf1, 0x4c, 0x80, 0x1b, 0x9f, 0xfc]));
 * assert(header?.sampleRate === 48000 && header.channels === 2);
 * assert(aacCodecString(header!) === "mp4a.40.2");
 * ```
 * @module
 */

/** AAC sampling frequencies by their 4-bit index (ISO/IEC 14496-3). */
export const SAMPLE_RATES: readonly number[] = [
  96000,
  88200,
  64000,
  48000,
  44100,
  32000,
  24000,
  22050,
  16000,
  12000,
  11025,
  8000,
  7350,
];

/** What an ADTS header says. */
export interface AdtsHeader {
  /** MPEG-4 audio object type (2 = AAC-LC). */
  objectType: number;
  /** Samples per second. */
  sampleRate: number;
  /** Channel configuration (0 = given in the stream, 1–7). */
  channels: number;
  /** Length of the whole frame (header included) in bytes. */
  frameLength: number;
}

/** Parses the ADTS header at `data[offset]`, or returns null when there is none. */
export function parseAdtsHeader(data: Uint8Array, offset = 0): AdtsHeader | null {
  if (offset + 7 > data.byteLength) return null;
  if (data[offset] !== 0xff || (data[offset + 1] & 0xf6) !== 0xf0) return null;
  const rateIndex = (data[offset + 2] >> 2) & 0x0f;
  if (rateIndex >= SAMPLE_RATES.length) return null;
  return {
    objectType: (data[offset + 2] >> 6) + 1,
    sampleRate: SAMPLE_RATES[rateIndex],
    channels: (data[offset + 2] & 0x01) << 2 | data[offset + 3] >> 6,
    frameLength: (data[offset + 3] & 0x03) << 11 | data[offset + 4] << 3 | data[offset + 5] >> 5,
  };
}

/** The first ADTS header in `data`, if any. */
export function findAdtsHeader(data: Uint8Array): AdtsHeader | null {
  for (let offset = 0; offset + 7 <= data.byteLength; offset++) {
    if (data[offset] !== 0xff) continue;
    const header = parseAdtsHeader(data, offset);
    if (header !== null) return header;
  }
  return null;
}

/** RFC 6381 codec string of AAC from its ADTS header, for example `mp4a.40.2`. */
export function aacCodecString(header: AdtsHeader): string {
  return `mp4a.40.${header.objectType}`;
}
