/**
 * The presentation time at which a piece of a stream starts: the PTS of the first PES start of the
 * main elementary stream (video if the program has it, else audio) in MPEG-TS bytes. Parts after
 * a fragment's first carry no PAT or PMT, so the reader keeps the program it saw before.
 *
 * @example
 * ```ts ignore
 * const reader = new PtsReader();
 * reader.firstPts(part0.data); // 126000 (90 kHz)
 * reader.firstPts(part1.data); // 132000: the program was learnt from part 0
 * ```
 * @module
 */

import {
  packetPayload,
  packetPid,
  payloadUnitStart,
  SYNC_BYTE,
  TS_PACKET_SIZE,
} from "../../shared/mpegts/packet.ts";
import { parsePesHeader, PTS_WRAP } from "../../shared/mpegts/pes.ts";
import { ProgramTracker } from "../../shared/mpegts/program.ts";

/** Reads start times of consecutive pieces of one transport stream. */
export class PtsReader {
  #program = new ProgramTracker();

  /** The PTS (90 kHz) of the first main-stream PES start in `data`, or undefined when it has none. */
  firstPts(data: Uint8Array): number | undefined {
    for (let offset = 0; offset + TS_PACKET_SIZE <= data.byteLength; offset += TS_PACKET_SIZE) {
      if (data[offset] !== SYNC_BYTE) return undefined;
      const packet = data.subarray(offset, offset + TS_PACKET_SIZE);
      if (this.#program.observe(packet)) continue;
      const main = this.#program.video ?? this.#program.audio;
      if (main === undefined || packetPid(packet) !== main.pid || !payloadUnitStart(packet)) {
        continue;
      }
      const pts = parsePesHeader(packetPayload(packet))?.pts;
      if (pts !== undefined) return pts;
    }
    return undefined;
  }
}

/** Seconds from PTS `from` to PTS `to`, across the 33-bit wrap. */
export function ptsSeconds(from: number, to: number): number {
  return (((to - from) % PTS_WRAP + PTS_WRAP) % PTS_WRAP) / 90000;
}
