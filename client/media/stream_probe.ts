/**
 * What the player reads from the MPEG-TS chunks it receives, with the shared MPEG-TS code
 * (`shared/mpegts/`): the program (which PIDs carry video and audio), the codec strings MSE wants
 * (`detectCodecs`: `avc1.PPCCLL` from the H.264 SPS, `mp4a.40.N` from the ADTS header), and the
 * first presentation timestamp of each chunk (to place it on the timeline). Demuxing itself is
 * left to the browser (direct path) or mux.js (transmux path).
 *
 * Parts after the first of a fragment carry no PAT/PMT, so the probe remembers the program across
 * chunks. Runs in browsers and in Deno.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StreamProbe } from "./stream_probe.ts";
 * const probe = new StreamProbe();
 * const info = probe.probe(new Uint8Array(0));
 * assert(info.firstPts === undefined && !probe.complete && probe.codecs.length === 0);
 * ```
 * @module
 */

// The modules, not `mod.ts`: the bundle then leaves out the publisher's cutter.
import { detectCodecs } from "../../shared/mpegts/codecs.ts";
import {
  packetPayload,
  packetPid,
  payloadUnitStart,
  SYNC_BYTE,
  TS_PACKET_SIZE,
} from "../../shared/mpegts/packet.ts";
import { parsePesHeader } from "../../shared/mpegts/pes.ts";
import { ProgramTracker } from "../../shared/mpegts/program.ts";
import { StreamType } from "../../shared/mpegts/psi.ts";

/** What one chunk (a fragment or a part) tells. */
export interface ChunkInfo {
  /** PTS (90 kHz, 33 bits) of the first PES of the main stream (video if any, else audio). */
  firstPts?: number;
}

/** The stream's tracks as the probe named them: what a media path is set up for. */
export interface StreamTracks {
  /** `avc1.PPCCLL` when the stream has H.264 video. */
  video?: string;
  /** `mp4a.40.N` when the stream has AAC audio. */
  audio?: string;
  /** The program's streams the player cannot play, described (HEVC video, other audio codecs). */
  unsupported: string[];
}

/** Reads chunks of one MPEG-TS stream in order, remembering its program and codecs. */
export class StreamProbe {
  #program = new ProgramTracker();
  #signature = "";
  #videoCodec: string | undefined;
  #audioCodec: string | undefined;

  /** `stream_type` of the program's video stream, if it has one. */
  get videoStreamType(): number | undefined {
    return this.#program.video?.type;
  }

  /** `stream_type` of the program's audio stream, if it has one. */
  get audioStreamType(): number | undefined {
    return this.#program.audio?.type;
  }

  /** `avc1.PPCCLL` once the SPS was seen. */
  get videoCodec(): string | undefined {
    return this.#videoCodec;
  }

  /** `mp4a.40.N` once an ADTS header was seen. */
  get audioCodec(): string | undefined {
    return this.#audioCodec;
  }

  /**
   * Whether every stream of the program is known: named (H.264, AAC), or of a type that cannot
   * be named for MSE (see {@linkcode unsupported}). False until a PMT was read.
   */
  get complete(): boolean {
    const { video, audio } = this.#program;
    if (video === undefined && audio === undefined) return false;
    return (video === undefined || video.type !== StreamType.H264 ||
      this.#videoCodec !== undefined) &&
      (audio === undefined || audio.type !== StreamType.AAC_ADTS || this.#audioCodec !== undefined);
  }

  /** The streams of the program the player cannot play (not H.264 or AAC), described. */
  get unsupported(): string[] {
    const list: string[] = [];
    const { video, audio } = this.#program;
    const hex = (type: number) => `0x${type.toString(16).padStart(2, "0")}`;
    if (video !== undefined && video.type !== StreamType.H264) {
      list.push(
        `video of stream type ${hex(video.type)}${video.type === StreamType.HEVC ? " (HEVC)" : ""}`,
      );
    }
    if (audio !== undefined && audio.type !== StreamType.AAC_ADTS) {
      list.push(`audio of stream type ${hex(audio.type)}`);
    }
    return list;
  }

  /** The MSE codec list (`avc1...`, `mp4a...`) of the named streams. */
  get codecs(): string[] {
    return [this.#videoCodec, this.#audioCodec].filter((codec): codec is string =>
      codec !== undefined
    );
  }

  /** The tracks as named so far (complete once {@linkcode complete} is true). */
  get tracks(): StreamTracks {
    return { video: this.#videoCodec, audio: this.#audioCodec, unsupported: this.unsupported };
  }

  /** Reads one chunk: tables, codec headers, and the first PTS of its main stream. */
  probe(data: Uint8Array): ChunkInfo {
    const info: ChunkInfo = {};
    const program = this.#program;
    for (let offset = 0; offset + TS_PACKET_SIZE <= data.length; offset += TS_PACKET_SIZE) {
      if (data[offset] !== SYNC_BYTE) break;
      const packet = data.subarray(offset, offset + TS_PACKET_SIZE);
      if (program.observe(packet)) continue;
      if (info.firstPts !== undefined || !payloadUnitStart(packet)) continue;
      const main = program.video ?? program.audio;
      if (main !== undefined && packetPid(packet) === main.pid) {
        info.firstPts = parsePesHeader(packetPayload(packet))?.pts;
      }
    }
    this.#followProgram();
    if (!this.complete && program.ready) this.#findCodecs(data);
    return info;
  }

  /**
   * Another rendition follows (an `abr` switch): its codecs are read again from the next chunks,
   * which start with tables and a keyframe. Returns nothing; read {@linkcode tracks} after the
   * next {@linkcode probe}.
   */
  rescan(): void {
    this.#videoCodec = undefined;
    this.#audioCodec = undefined;
  }

  /** A new PMT with other streams (another publisher): codecs are found again. */
  #followProgram(): void {
    const { video, audio } = this.#program;
    const signature = `${video?.pid}:${video?.type}/${audio?.pid}:${audio?.type}`;
    if (signature === this.#signature) return;
    this.#signature = signature;
    this.#videoCodec = undefined;
    this.#audioCodec = undefined;
  }

  /** Codec strings from this chunk, read with the program's latest tables in front of it. */
  #findCodecs(data: Uint8Array): void {
    const tables = this.#program.tablePackets;
    const bytes = new Uint8Array(tables.length * TS_PACKET_SIZE + data.byteLength);
    tables.forEach((packet, index) => bytes.set(packet, index * TS_PACKET_SIZE));
    bytes.set(data, tables.length * TS_PACKET_SIZE);
    const found = detectCodecs(bytes);
    this.#videoCodec ??= found?.video;
    this.#audioCodec ??= found?.audio;
  }
}
