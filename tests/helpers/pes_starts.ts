/**
 * Where the frames of an MPEG-TS fragment start, for tests that cut fragments into parts the way a
 * publisher does (at PES starts of the main stream: video if any, else audio), read with the
 * shared MPEG-TS code.
 *
 * @example
 * ```ts ignore
 * const starts = pesStarts(fragment.data); // [{ offset: 0, pts: 126000 }, { offset: 4324, pts: 129000 }, ...]
 * const secondFrame = fragment.data.subarray(starts[1].offset, starts[2].offset);
 * ```
 * @module
 */

import {
  packetPayload,
  packetPid,
  payloadUnitStart,
  TS_PACKET_SIZE,
} from "../../shared/mpegts/packet.ts";
import { parsePesHeader } from "../../shared/mpegts/pes.ts";
import { ProgramTracker } from "../../shared/mpegts/program.ts";

/** One PES start of the main stream. */
export interface PesStart {
  /** Byte offset of its first TS packet. */
  offset: number;
  /** Its PTS (90 kHz, 33 bits), if the header has one. */
  pts: number | undefined;
}

/**
 * The PES starts of the main stream of `data` (which must begin with its PAT and PMT), in order.
 * Throws when the data has no video or audio stream.
 */
export function pesStarts(data: Uint8Array): PesStart[] {
  const program = new ProgramTracker();
  const starts: PesStart[] = [];
  for (let offset = 0; offset + TS_PACKET_SIZE <= data.byteLength; offset += TS_PACKET_SIZE) {
    const packet = data.subarray(offset, offset + TS_PACKET_SIZE);
    if (program.observe(packet)) continue;
    const main = program.video ?? program.audio;
    if (main === undefined || packetPid(packet) !== main.pid || !payloadUnitStart(packet)) continue;
    starts.push({ offset, pts: parsePesHeader(packetPayload(packet))?.pts });
  }
  if (program.video === undefined && program.audio === undefined) {
    throw new Error("no video or audio stream in the data");
  }
  return starts;
}
