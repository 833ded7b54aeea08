/**
 * Shedding what a decoder can skip: between a decision to switch a viewer down and the next
 * keyframe (where the switch happens), the video of the current fragment's tail can be left out.
 * Every frame of a group of pictures may be a reference for the next, so once one frame goes,
 * every later one up to the keyframe goes too, or the picture would be corrupted; the decoder
 * holds its last frame and goes on at the keyframe that starts the lower rendition, while audio
 * keeps playing. The queue in front of the slow link then drains before the switch instead of
 * after it. (How long a tail is shed is the group spectator's choice.)
 *
 * @example
 * ```ts ignore
 * const pid = videoPid(fragmentStart.data); // from the PAT and PMT at a fragment's start
 * const lighter = withoutPid(part.data, pid); // the part's audio (and tables) only
 * ```
 * @module
 */

import { packetPid, TS_PACKET_SIZE } from "../../shared/mpegts/packet.ts";
import { ProgramTracker } from "../../shared/mpegts/program.ts";

/** The PID of the first video stream in the PAT and PMT of `data`, or undefined if they are not there. */
export function videoPid(data: Uint8Array): number | undefined {
  const program = new ProgramTracker();
  for (let offset = 0; offset + TS_PACKET_SIZE <= data.byteLength; offset += TS_PACKET_SIZE) {
    program.observe(data.subarray(offset, offset + TS_PACKET_SIZE));
    if (program.video !== undefined) return program.video.pid;
  }
  return undefined;
}

/**
 * The packets of `data` whose PID is not `pid`, in order: `data` itself when it has none of that
 * PID, else a new array (only the shed parts of one viewer are ever copied).
 */
export function withoutPid(data: Uint8Array, pid: number): Uint8Array {
  const packets = Math.floor(data.byteLength / TS_PACKET_SIZE);
  let kept = 0;
  for (let index = 0; index < packets; index++) {
    if (packetPid(data, index * TS_PACKET_SIZE) !== pid) kept++;
  }
  if (kept === packets) return data;
  const out = new Uint8Array(kept * TS_PACKET_SIZE);
  let at = 0;
  for (let index = 0; index < packets; index++) {
    const offset = index * TS_PACKET_SIZE;
    if (packetPid(data, offset) === pid) continue;
    out.set(data.subarray(offset, offset + TS_PACKET_SIZE), at);
    at += TS_PACKET_SIZE;
  }
  return out;
}
