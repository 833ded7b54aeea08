/**
 * Program-specific information: reassembles PSI sections from packets and parses the Program
 * Association Table (PAT) and the Program Map Table (PMT), which say which PIDs carry which
 * elementary streams.
 *
 * This module runs in browsers and in Deno alike.
 *
 * @example
 * ```ts ignore
 * const reader = new SectionReader();
 * for (const section of reader.push(packet)) {
 *   if (section[0] === TABLE_ID_PMT) console.log(parsePmt(section).streams);
 * }
 * ```
 * @module
 */

import { packetPayload, payloadUnitStart } from "./packet.ts";

/** `table_id` of a PAT section. */
export const TABLE_ID_PAT = 0x00;
/** `table_id` of a PMT section. */
export const TABLE_ID_PMT = 0x02;

/** MPEG-TS `stream_type` values this code knows. */
export const StreamType = {
  /** MPEG-1 video. */
  MPEG1_VIDEO: 0x01,
  /** MPEG-2 video. */
  MPEG2_VIDEO: 0x02,
  /** MPEG-1 audio (MP3). */
  MPEG1_AUDIO: 0x03,
  /** MPEG-2 audio. */
  MPEG2_AUDIO: 0x04,
  /** PES private data (Opus, AC-3 and others, told apart by descriptors). */
  PRIVATE_PES: 0x06,
  /** AAC in ADTS frames. */
  AAC_ADTS: 0x0f,
  /** AAC in LATM. */
  AAC_LATM: 0x11,
  /** Timed metadata (ID3). */
  METADATA: 0x15,
  /** H.264 / AVC. */
  H264: 0x1b,
  /** H.265 / HEVC. */
  HEVC: 0x24,
  /** AC-3 (ATSC). */
  AC3: 0x81,
  /** E-AC-3 (ATSC). */
  EAC3: 0x87,
} as const;

const VIDEO_TYPES: ReadonlySet<number> = new Set([0x01, 0x02, 0x10, 0x1b, 0x24, 0x42]);
const AUDIO_TYPES: ReadonlySet<number> = new Set([0x03, 0x04, 0x0f, 0x11, 0x81, 0x87]);

/** Whether a `stream_type` is video. */
export function isVideoStreamType(type: number): boolean {
  return VIDEO_TYPES.has(type);
}

/** Whether a `stream_type` is audio. */
export function isAudioStreamType(type: number): boolean {
  return AUDIO_TYPES.has(type);
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let index = 0; index < 256; index++) {
    let crc = index << 24;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
    }
    table[index] = crc >>> 0;
  }
  return table;
})();

/** CRC-32/MPEG-2 of `data`; a whole section including its CRC gives 0. */
export function crc32Mpeg2(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (let index = 0; index < data.byteLength; index++) {
    crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ data[index]) & 0xff]) >>> 0;
  }
  return crc;
}

/** Total length (header + body + CRC) of the section starting at `section[0]`, from `section_length`. */
function sectionTotalLength(section: Uint8Array): number {
  return 3 + ((section[1] & 0x0f) << 8 | section[2]);
}

/**
 * Reassembles the PSI sections of one PID from its packets. Sections may span packets, and one
 * packet may finish a section and start another. Sections whose CRC is wrong are dropped.
 */
export class SectionReader {
  #buffer: Uint8Array | null = null;
  #filled = 0;

  /** Feeds one packet of this PID; returns the sections it completed (each a new array). */
  push(packet: Uint8Array): Uint8Array[] {
    let payload = packetPayload(packet);
    const sections: Uint8Array[] = [];
    if (payloadUnitStart(packet)) {
      if (payload.byteLength === 0) return sections;
      const pointer = payload[0];
      const before = payload.subarray(1, 1 + pointer);
      if (this.#buffer !== null) this.#append(before, sections);
      this.#buffer = null;
      payload = payload.subarray(1 + pointer);
      while (payload.byteLength >= 3 && payload[0] !== 0xff) {
        const total = sectionTotalLength(payload);
        this.#buffer = new Uint8Array(total);
        this.#filled = 0;
        const used = Math.min(total, payload.byteLength);
        this.#append(payload.subarray(0, used), sections);
        payload = payload.subarray(used);
        if (this.#buffer !== null) break;
      }
    } else if (this.#buffer !== null) {
      this.#append(payload, sections);
    }
    return sections;
  }

  #append(bytes: Uint8Array, sections: Uint8Array[]): void {
    const buffer = this.#buffer!;
    const take = Math.min(bytes.byteLength, buffer.byteLength - this.#filled);
    buffer.set(bytes.subarray(0, take), this.#filled);
    this.#filled += take;
    if (this.#filled === buffer.byteLength) {
      this.#buffer = null;
      if (crc32Mpeg2(buffer) === 0) sections.push(buffer);
    }
  }
}

/** One program of a PAT. */
export interface PatProgram {
  /** `program_number` (never 0: that entry is the network PID and is left out). */
  number: number;
  /** PID of the program's PMT. */
  pmtPid: number;
}

/** Parses a PAT section (with its CRC). */
export function parsePat(section: Uint8Array): PatProgram[] {
  if (section[0] !== TABLE_ID_PAT) throw new RangeError("not a PAT section");
  const end = sectionTotalLength(section) - 4;
  const programs: PatProgram[] = [];
  for (let offset = 8; offset + 4 <= end; offset += 4) {
    const number = section[offset] << 8 | section[offset + 1];
    const pid = (section[offset + 2] & 0x1f) << 8 | section[offset + 3];
    if (number !== 0) programs.push({ number, pmtPid: pid });
  }
  return programs;
}

/** One elementary stream of a PMT. */
export interface PmtStream {
  /** `stream_type` (see {@linkcode StreamType}). */
  type: number;
  /** PID of its packets. */
  pid: number;
  /** Its descriptors, raw (tag, length, body...). */
  descriptors: Uint8Array;
}

/** A parsed PMT. */
export interface Pmt {
  /** `program_number`. */
  program: number;
  /** `version_number` (it changes when the program changes). */
  version: number;
  /** PID that carries the PCR. */
  pcrPid: number;
  /** The elementary streams, in table order. */
  streams: PmtStream[];
}

/** Parses a PMT section (with its CRC). */
export function parsePmt(section: Uint8Array): Pmt {
  if (section[0] !== TABLE_ID_PMT) throw new RangeError("not a PMT section");
  const end = sectionTotalLength(section) - 4;
  const program = section[3] << 8 | section[4];
  const version = (section[5] >> 1) & 0x1f;
  const pcrPid = (section[8] & 0x1f) << 8 | section[9];
  const infoLength = (section[10] & 0x0f) << 8 | section[11];
  const streams: PmtStream[] = [];
  let offset = 12 + infoLength;
  while (offset + 5 <= end) {
    const type = section[offset];
    const pid = (section[offset + 1] & 0x1f) << 8 | section[offset + 2];
    const esInfoLength = (section[offset + 3] & 0x0f) << 8 | section[offset + 4];
    const descriptors = section.slice(offset + 5, Math.min(end, offset + 5 + esInfoLength));
    streams.push({ type, pid, descriptors });
    offset += 5 + esInfoLength;
  }
  return { program, version, pcrPid, streams };
}
