/**
 * What an H.264 sequence parameter set says about the picture: profile, level and the cropped
 * width and height (ITU-T H.264 section 7.3.2.1.1), for the `avc1` sample entry of an init segment.
 *
 * This module runs in browsers and in Deno alike.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSps } from "./sps.ts";
 * // Constrained baseline profile, level 1.3, 320x240 (x264 output).
 * const sps = new Uint8Array([0x67, 0x42, 0xc0, 0x0d, 0xd9, 0x01, 0x41, 0xfb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0xc0, 0xf1, 0x42, 0xa4, 0x80]);
 * const info = parseSps(sps);
 * assert(info.width === 320 && info.height === 240 && info.profile === 0x42);
 * ```
 * @module
 */

/** The fields of an SPS an init segment needs. */
export interface SpsInfo {
  /** `profile_idc`. */
  profile: number;
  /** The constraint flags byte. */
  compatibility: number;
  /** `level_idc`. */
  level: number;
  /** Width of the cropped picture, pixels. */
  width: number;
  /** Height of the cropped picture, pixels. */
  height: number;
}

/** Reads bits of an RBSP (emulation prevention bytes removed first). */
class BitReader {
  #data: Uint8Array;
  #bit = 0;

  constructor(nal: Uint8Array) {
    const out: number[] = [];
    let zeros = 0;
    for (const byte of nal) {
      if (zeros >= 2 && byte === 3) {
        zeros = 0; // an emulation prevention byte
        continue;
      }
      zeros = byte === 0 ? zeros + 1 : 0;
      out.push(byte);
    }
    this.#data = new Uint8Array(out);
  }

  bit(): number {
    const index = this.#bit >> 3;
    if (index >= this.#data.byteLength) throw new RangeError("SPS ends too early");
    const value = (this.#data[index] >> (7 - (this.#bit & 7))) & 1;
    this.#bit++;
    return value;
  }

  bits(count: number): number {
    let value = 0;
    for (let index = 0; index < count; index++) value = value * 2 + this.bit();
    return value;
  }

  ue(): number {
    let zeros = 0;
    while (this.bit() === 0) {
      if (++zeros > 31) throw new RangeError("bad exp-Golomb code in SPS");
    }
    return 2 ** zeros - 1 + this.bits(zeros);
  }

  se(): number {
    const value = this.ue();
    return value % 2 === 1 ? (value + 1) / 2 : -value / 2;
  }
}

const HIGH_PROFILES: ReadonlySet<number> = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138]);

function skipScalingList(reader: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let index = 0; index < size; index++) {
    if (next !== 0) next = (last + reader.se() + 256) % 256;
    last = next === 0 ? last : next;
  }
}

/** Parses an SPS NAL unit (from its header byte). Throws a RangeError when it is not one. */
export function parseSps(nal: Uint8Array): SpsInfo {
  if (nal.byteLength < 4 || (nal[0] & 0x1f) !== 7) throw new RangeError("not an H.264 SPS");
  const reader = new BitReader(nal.subarray(1));
  const profile = reader.bits(8);
  const compatibility = reader.bits(8);
  const level = reader.bits(8);
  reader.ue(); // seq_parameter_set_id
  let chroma = 1;
  if (HIGH_PROFILES.has(profile)) {
    chroma = reader.ue();
    if (chroma === 3) reader.bit(); // separate_colour_plane_flag
    reader.ue(); // bit_depth_luma_minus8
    reader.ue(); // bit_depth_chroma_minus8
    reader.bit(); // qpprime_y_zero_transform_bypass_flag
    if (reader.bit()) {
      for (let index = 0; index < (chroma === 3 ? 12 : 8); index++) {
        if (reader.bit()) skipScalingList(reader, index < 6 ? 16 : 64);
      }
    }
  }
  reader.ue(); // log2_max_frame_num_minus4
  const pocType = reader.ue();
  if (pocType === 0) {
    reader.ue();
  } else if (pocType === 1) {
    reader.bit();
    reader.se();
    reader.se();
    const cycle = reader.ue();
    for (let index = 0; index < cycle; index++) reader.se();
  }
  reader.ue(); // max_num_ref_frames
  reader.bit(); // gaps_in_frame_num_value_allowed_flag
  const widthMbs = reader.ue() + 1;
  const heightUnits = reader.ue() + 1;
  const frameMbsOnly = reader.bit();
  if (!frameMbsOnly) reader.bit(); // mb_adaptive_frame_field_flag
  reader.bit(); // direct_8x8_inference_flag
  let crop = [0, 0, 0, 0];
  if (reader.bit()) crop = [reader.ue(), reader.ue(), reader.ue(), reader.ue()];
  const cropX = chroma === 0 || chroma === 3 ? 1 : 2;
  const cropY = (chroma === 1 ? 2 : 1) * (2 - frameMbsOnly);
  return {
    profile,
    compatibility,
    level,
    width: widthMbs * 16 - cropX * (crop[0] + crop[1]),
    height: (2 - frameMbsOnly) * heightUnits * 16 - cropY * (crop[2] + crop[3]),
  };
}
