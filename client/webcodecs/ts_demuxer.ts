/**
 * MPEG-TS to elementary-stream samples for the WebCodecs path: H.264 access units (Annex B, one
 * per video PES packet) and AAC frames (one per ADTS frame, its header taken off), each with its
 * PTS. It reads with the shared MPEG-TS code (`shared/mpegts/`: packets, PAT/PMT, PES headers,
 * NAL units, ADTS) and keeps the program across chunks (parts after the first carry no tables).
 *
 * Our cutter cuts parts at the start of a video PES packet, so a chunk ends where its last access
 * unit ends: {@linkcode TsDemuxer.push} hands out that access unit at once instead of waiting for
 * the next PES start (a frame interval later). Audio PES packets carry their length and come out
 * as soon as they are complete.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TsDemuxer } from "./ts_demuxer.ts";
 * const demuxer = new TsDemuxer();
 * assert.deepEqual(demuxer.push(new Uint8Array(0)), []);
 * ```
 * @module
 */

import { parseAdtsHeader } from "../../shared/mpegts/adts.ts";
import { forEachNalUnit, H264NalType } from "../../shared/mpegts/nal.ts";
import {
  concatBytes,
  packetPayload,
  packetPid,
  payloadUnitStart,
  SYNC_BYTE,
  TS_PACKET_SIZE,
} from "../../shared/mpegts/packet.ts";
import { parsePesHeader } from "../../shared/mpegts/pes.ts";
import { ProgramTracker } from "../../shared/mpegts/program.ts";
import { StreamType } from "../../shared/mpegts/psi.ts";
import { type AacConfig, aacConfigFromAdts } from "./aac_config.ts";

/** One H.264 access unit. */
export interface VideoSample {
  /** Track. */
  track: "video";
  /** Presentation timestamp, 90 kHz (33 bits, as in the stream). */
  pts: number;
  /** Decoding timestamp, 90 kHz. */
  dts: number;
  /** Starts with an IDR slice. */
  key: boolean;
  /** The access unit, Annex B (start codes). */
  data: Uint8Array;
}

/** One AAC frame. */
export interface AudioSample {
  /** Track. */
  track: "audio";
  /** Presentation timestamp, 90 kHz. */
  pts: number;
  /** Duration in 90 kHz ticks (1024 samples). */
  duration: number;
  /** The raw AAC frame (no ADTS header). */
  data: Uint8Array;
  /** The decoder configuration its ADTS header gives. */
  config: AacConfig;
}

/** A sample of either track. */
export type Sample = VideoSample | AudioSample;

interface PendingPes {
  pts: number | undefined;
  dts: number | undefined;
  length: number;
  payloads: Uint8Array[];
  size: number;
}

/** Reads chunks of one MPEG-TS stream in order and hands out their samples. */
export class TsDemuxer {
  #program = new ProgramTracker();
  #video: PendingPes | null = null;
  #audio: PendingPes | null = null;

  /** Reads one chunk (whole TS packets); returns the samples it completed, in stream order. */
  push(data: Uint8Array): Sample[] {
    const samples: Sample[] = [];
    const program = this.#program;
    for (let offset = 0; offset + TS_PACKET_SIZE <= data.length; offset += TS_PACKET_SIZE) {
      if (data[offset] !== SYNC_BYTE) break;
      const packet = data.subarray(offset, offset + TS_PACKET_SIZE);
      if (program.observe(packet)) continue;
      const pid = packetPid(packet);
      const video = program.video?.type === StreamType.H264 ? program.video : undefined;
      const audio = program.audio?.type === StreamType.AAC_ADTS ? program.audio : undefined;
      if (video !== undefined && pid === video.pid) {
        this.#video = this.#collect(this.#video, packet, samples, "video");
      } else if (audio !== undefined && pid === audio.pid) {
        this.#audio = this.#collect(this.#audio, packet, samples, "audio");
      }
    }
    // The chunk ends at a PES boundary: its last access unit is complete.
    if (this.#video !== null) this.#emit(this.#video, samples, "video");
    this.#video = null;
    return samples;
  }

  /** Forgets a PES packet half read (after chunks were skipped). */
  reset(): void {
    this.#video = this.#audio = null;
  }

  #collect(
    pending: PendingPes | null,
    packet: Uint8Array,
    samples: Sample[],
    track: "video" | "audio",
  ): PendingPes | null {
    let payload = packetPayload(packet);
    if (payloadUnitStart(packet)) {
      if (pending !== null) this.#emit(pending, samples, track);
      const header = parsePesHeader(payload);
      if (header === null) return null;
      const length = header.packetLength === 0 ? 0 : header.packetLength + 6 - header.payloadOffset;
      pending = { pts: header.pts, dts: header.dts, length, payloads: [], size: 0 };
      payload = payload.subarray(header.payloadOffset);
    } else if (pending === null) {
      return null; // the middle of a PES packet whose start we did not see
    }
    pending.payloads.push(payload);
    pending.size += payload.byteLength;
    if (pending.length > 0 && pending.size >= pending.length) {
      this.#emit(pending, samples, track);
      return null;
    }
    return pending;
  }

  #emit(pending: PendingPes, samples: Sample[], track: "video" | "audio"): void {
    if (pending.pts === undefined || pending.size === 0) return;
    let data = concatBytes(pending.payloads);
    if (pending.length > 0) data = data.subarray(0, pending.length);
    if (track === "video") {
      // Copied: the chunk's buffer is not kept alive by the decoder queue.
      samples.push({
        track,
        pts: pending.pts,
        dts: pending.dts ?? pending.pts,
        key: isKeyAccessUnit(data),
        data: pending.payloads.length === 1 ? data.slice() : data,
      });
    } else {
      splitAdts(data, pending.pts, samples);
    }
  }
}

/** Whether an Annex B access unit holds an IDR slice. */
export function isKeyAccessUnit(data: Uint8Array): boolean {
  let key = false;
  forEachNalUnit(data, (offset) => {
    const type = data[offset] & 0x1f;
    if (type === H264NalType.IDR) key = true;
    return !key && !(type >= 1 && type <= 4);
  });
  return key;
}

/** The ADTS frames of one audio PES payload, as raw AAC frames with their PTS. */
function splitAdts(data: Uint8Array, pts: number, samples: Sample[]): void {
  let offset = 0;
  let index = 0;
  while (offset + 7 <= data.byteLength) {
    const header = parseAdtsHeader(data, offset);
    if (header === null || header.frameLength < 7) break;
    const headerLength = (data[offset + 1] & 0x01) === 1 ? 7 : 9;
    const end = Math.min(data.byteLength, offset + header.frameLength);
    const config = aacConfigFromAdts(data, offset);
    const duration = 1024 * 90000 / header.sampleRate;
    samples.push({
      track: "audio",
      pts: pts + Math.round(index * duration),
      duration,
      data: data.slice(offset + headerLength, end),
      config,
    });
    offset += header.frameLength;
    index++;
  }
}
