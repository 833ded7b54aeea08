/**
 * H.264 and HEVC NAL units in Annex B byte streams: finding them, telling a keyframe access unit
 * from a delta one, and the RFC 6381 codec string of an H.264 sequence parameter set.
 *
 * This module runs in browsers and in Deno alike.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { avcCodecString, KeyframeDetector } from "./nal.ts";
 * const detector = new KeyframeDetector("h264");
 * // access unit delimiter, then an IDR slice
 * assert(detector.push(new Uint8Array([0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x65, 0x88])) === true);
 * assert(avcCodecString(new Uint8Array([0x67, 0x64, 0x00, 0x1f])) === "avc1.64001f");
 * ```
 * @module
 */

/** Video codecs whose keyframes can be found from their NAL units. */
export type NalCodec = "h264" | "hevc";

/** H.264 NAL unit types used here. */
export const H264NalType = {
  /** Slice of a non-IDR picture. */
  SLICE: 1,
  /** Slice of an IDR picture (a keyframe). */
  IDR: 5,
  /** Supplemental enhancement information. */
  SEI: 6,
  /** Sequence parameter set. */
  SPS: 7,
  /** Picture parameter set. */
  PPS: 8,
  /** Access unit delimiter. */
  AUD: 9,
} as const;

/**
 * Calls `visit` with the offset of the first byte after each start code (`00 00 01`, which also
 * ends `00 00 00 01`) in `data`, from `from`. Stops when `visit` returns false.
 */
export function forEachNalUnit(
  data: Uint8Array,
  visit: (offset: number) => boolean | void,
  from = 0,
): void {
  for (let index = from; index + 2 < data.byteLength; index++) {
    if (data[index + 2] > 1) {
      index += 2;
      continue;
    }
    if (data[index] === 0 && data[index + 1] === 0 && data[index + 2] === 1) {
      if (index + 3 < data.byteLength && visit(index + 3) === false) return;
      index += 2;
    }
  }
}

/** Whether the NAL unit whose header byte(s) start at `data[offset]` decides the access unit. */
function classify(codec: NalCodec, data: Uint8Array, offset: number): boolean | undefined {
  if (codec === "h264") {
    const type = data[offset] & 0x1f;
    if (type === H264NalType.IDR) return true;
    if (type >= 1 && type <= 4) return false;
    return undefined;
  }
  const type = (data[offset] >> 1) & 0x3f;
  if (type >= 16 && type <= 21) return true;
  if (type <= 9) return false;
  return undefined;
}

/** Longest part of an access unit read before giving up (it is then taken as a delta frame). */
const MAX_SCAN_BYTES = 256 * 1024;

/**
 * Decides whether one access unit (the bytes of one video PES packet, fed as they arrive) is a
 * keyframe: true at the first IDR/IRAP slice, false at the first other slice, undefined while
 * only parameter sets, SEI and delimiters have been seen.
 */
export class KeyframeDetector {
  #codec: NalCodec;
  #buffer = new Uint8Array(4096);
  #length = 0;
  #scanned = 0;
  #result: boolean | undefined;

  /** Creates a detector for one access unit. */
  constructor(codec: NalCodec) {
    this.#codec = codec;
  }

  /** The decision so far. */
  get result(): boolean | undefined {
    return this.#result;
  }

  /** Feeds more bytes of the access unit; returns the decision once it is known. */
  push(bytes: Uint8Array): boolean | undefined {
    if (this.#result !== undefined) return this.#result;
    if (this.#length + bytes.byteLength > this.#buffer.byteLength) {
      const grown = new Uint8Array(
        Math.max(this.#buffer.byteLength * 2, this.#length + bytes.byteLength),
      );
      grown.set(this.#buffer.subarray(0, this.#length));
      this.#buffer = grown;
    }
    this.#buffer.set(bytes, this.#length);
    this.#length += bytes.byteLength;
    const data = this.#buffer.subarray(0, this.#length);
    forEachNalUnit(data, (offset) => {
      this.#result = classify(this.#codec, data, offset);
      return this.#result === undefined;
    }, this.#scanned);
    // The last bytes may hold the beginning of a start code and header that the next bytes complete.
    this.#scanned = Math.max(0, this.#length - 4);
    if (this.#result === undefined && this.#length > MAX_SCAN_BYTES) this.#result = false;
    return this.#result;
  }
}

/** The first H.264 sequence parameter set NAL unit in `data` (from its header byte), if any. */
export function findAvcSps(data: Uint8Array): Uint8Array | undefined {
  let sps: Uint8Array | undefined;
  forEachNalUnit(data, (offset) => {
    if ((data[offset] & 0x1f) !== H264NalType.SPS || offset + 4 > data.byteLength) return true;
    sps = data.subarray(offset, offset + 4);
    return false;
  });
  return sps;
}

function hex2(value: number): string {
  return value.toString(16).padStart(2, "0");
}

/**
 * RFC 6381 codec string of H.264 video from its SPS (`profile_idc`, constraint flags,
 * `level_idc`), for example `avc1.64001f` (High profile, level 3.1).
 */
export function avcCodecString(sps: Uint8Array): string {
  if (sps.byteLength < 4 || (sps[0] & 0x1f) !== H264NalType.SPS) {
    throw new RangeError("not an H.264 sequence parameter set");
  }
  return `avc1.${hex2(sps[1])}${hex2(sps[2])}${hex2(sps[3])}`;
}
