/**
 * The access units of an MPEG-TS program, for remuxing: whole PES packets of the program's first
 * H.264 stream (with PTS, DTS and whether it is an IDR picture) and the AAC frames of its first
 * ADTS stream (each with its own PTS: the PES's for the first frame, then 1024 samples apart).
 * Feed consecutive pieces of one transport stream (a fragment's parts); {@linkcode TsDemuxer.flush}
 * closes the video PES in progress at the end of a piece (a part ends where the next picture
 * starts), while an audio PES whose announced length is not complete yet waits for the next piece.
 *
 * This module runs in browsers and in Deno alike.
 *
 * @example
 * ```ts ignore
 * const demuxer = new TsDemuxer();
 * demuxer.push(part.data);
 * const { video, audio } = demuxer.flush();
 * ```
 * @module
 */

import { parseAdtsHeader } from "../mpegts/adts.ts";
import { forEachNalUnit } from "../mpegts/nal.ts";
import {
  packetPayload,
  packetPid,
  payloadUnitStart,
  SYNC_BYTE,
  TS_PACKET_SIZE,
} from "../mpegts/packet.ts";
import { parsePesHeader } from "../mpegts/pes.ts";
import { ProgramTracker } from "../mpegts/program.ts";
import { StreamType } from "../mpegts/psi.ts";

/** One H.264 access unit. */
export interface VideoUnit {
  /** Presentation time, 90 kHz (33 bits). */
  pts: number;
  /** Decode time, 90 kHz (33 bits; the PTS when the PES has no DTS). */
  dts: number;
  /** The NAL units (from their header bytes), in order. */
  nals: Uint8Array[];
  /** Whether it holds an IDR slice. */
  key: boolean;
}

/** One AAC frame. */
export interface AudioUnit {
  /** Presentation time, 90 kHz (33 bits). */
  pts: number;
  /** The raw frame (the ADTS header removed). */
  data: Uint8Array;
  /** MPEG-4 audio object type. */
  objectType: number;
  /** Samples per second. */
  sampleRate: number;
  /** Channel configuration. */
  channels: number;
}

/** What a piece gave. */
export interface Demuxed {
  /** Video access units, in decode order. */
  video: VideoUnit[];
  /** Audio frames, in order. */
  audio: AudioUnit[];
}

interface Pending {
  pts?: number;
  dts?: number;
  /** Bytes the PES header announces after its length field, 0 when unbounded. */
  expected: number;
  /** Bytes counted from the PES start (header included). */
  seen: number;
  payloadOffset: number;
  chunks: Uint8Array[];
}

/** AAC samples per frame. */
const AAC_FRAME_SAMPLES = 1024;

/** Access units of one transport stream, read piece by piece. */
export class TsDemuxer {
  #program = new ProgramTracker();
  #pending = new Map<number, Pending>();
  #out: Demuxed = { video: [], audio: [] };

  /** The tracks the program's PMT declares that the demuxer reads (H.264 video, AAC audio). */
  get declared(): { video: boolean; audio: boolean } {
    return {
      video: this.#program.video?.type === StreamType.H264,
      audio: this.#program.audio?.type === StreamType.AAC_ADTS,
    };
  }

  /** Reads the packets of `data` (whole 188-byte packets; stops at a lost sync). */
  push(data: Uint8Array): void {
    for (let offset = 0; offset + TS_PACKET_SIZE <= data.byteLength; offset += TS_PACKET_SIZE) {
      if (data[offset] !== SYNC_BYTE) return;
      const packet = data.subarray(offset, offset + TS_PACKET_SIZE);
      if (this.#program.observe(packet)) continue;
      const pid = packetPid(packet);
      const video = this.#program.video;
      const audio = this.#program.audio;
      const isVideo = video?.type === StreamType.H264 && pid === video.pid;
      const isAudio = audio?.type === StreamType.AAC_ADTS && pid === audio.pid;
      if (!isVideo && !isAudio) continue;
      const payload = packetPayload(packet);
      if (payloadUnitStart(packet)) {
        this.#finish(pid);
        const header = parsePesHeader(payload);
        if (header === null) continue;
        this.#pending.set(pid, {
          pts: header.pts,
          dts: header.dts,
          expected: header.packetLength,
          seen: payload.byteLength - 6,
          payloadOffset: header.payloadOffset,
          chunks: [payload.subarray(header.payloadOffset)],
        });
      } else {
        const pending = this.#pending.get(pid);
        if (pending === undefined) continue;
        pending.chunks.push(payload);
        pending.seen += payload.byteLength;
      }
      const pending = this.#pending.get(pid);
      if (pending !== undefined && pending.expected > 0 && pending.seen >= pending.expected) {
        this.#finish(pid);
      }
    }
  }

  /** The units read so far; a video PES in progress ends here, an incomplete audio PES waits. */
  flush(): Demuxed {
    const video = this.#program.video;
    if (video !== undefined) this.#finish(video.pid);
    for (const [pid, pending] of this.#pending) {
      if (pending.expected === 0) this.#finish(pid);
    }
    const out = this.#out;
    this.#out = { video: [], audio: [] };
    return out;
  }

  #finish(pid: number): void {
    const pending = this.#pending.get(pid);
    if (pending === undefined) return;
    this.#pending.delete(pid);
    if (pending.pts === undefined) return;
    let size = 0;
    for (const chunk of pending.chunks) size += chunk.byteLength;
    if (pending.expected > 0) size = Math.min(size, pending.expected + 6 - pending.payloadOffset);
    const data = new Uint8Array(size);
    let offset = 0;
    for (const chunk of pending.chunks) {
      if (offset >= size) break;
      const take = chunk.subarray(0, size - offset);
      data.set(take, offset);
      offset += take.byteLength;
    }
    if (pid === this.#program.video?.pid) this.#video(pending.pts, pending.dts, data);
    else this.#audio(pending.pts, data);
  }

  #video(pts: number, dts: number | undefined, data: Uint8Array): void {
    const starts: number[] = [];
    forEachNalUnit(data, (offset) => {
      starts.push(offset);
    });
    const nals: Uint8Array[] = [];
    let key = false;
    for (let index = 0; index < starts.length; index++) {
      let end = index + 1 < starts.length ? starts[index + 1] - 3 : data.byteLength;
      // A four-byte start code (or trailing zeros) leaves a zero before the next one.
      while (end > starts[index] && data[end - 1] === 0) end--;
      const nal = data.subarray(starts[index], end);
      if (nal.byteLength === 0) continue;
      if ((nal[0] & 0x1f) === 5) key = true;
      nals.push(nal);
    }
    if (nals.length === 0) return;
    this.#out.video.push({ pts, dts: dts ?? pts, nals, key });
  }

  #audio(pts: number, data: Uint8Array): void {
    let offset = 0;
    let index = 0;
    while (offset + 7 <= data.byteLength) {
      const header = parseAdtsHeader(data, offset);
      if (header === null || header.frameLength < 7) return;
      const headerLength = (data[offset + 1] & 0x01) === 0 ? 9 : 7;
      const end = Math.min(offset + header.frameLength, data.byteLength);
      if (end > offset + headerLength) {
        this.#out.audio.push({
          pts: pts + Math.round(index * AAC_FRAME_SAMPLES * 90000 / header.sampleRate),
          data: data.subarray(offset + headerLength, end),
          objectType: header.objectType,
          sampleRate: header.sampleRate,
          channels: header.channels,
        });
      }
      index++;
      offset += header.frameLength;
    }
  }
}
