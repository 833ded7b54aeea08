/**
 * A minimal MPEG-TS reader for the player: the program's streams (from PAT and PMT), the codec
 * strings MSE wants (`avc1.PPCCLL` from the H.264 SPS, `mp4a.40.N` from the ADTS header), and the
 * first presentation timestamp of a chunk. It reads only what the player needs to pick a
 * SourceBuffer type and place media on its timeline; demuxing is left to the browser or mux.js.
 *
 * Parts after the first of a fragment carry no PAT/PMT, so a {@linkcode TsProbe} remembers the
 * program across chunks. Runs in browsers and in Deno.
 *
 * (A fuller MPEG-TS library may live in `shared/mpegts/`; this one stays small on purpose.)
 *
 * @example
 * ```ts
 * import { TsProbe } from "./ts_probe.ts";
 * const probe = new TsProbe();
 * const info = probe.probe(new Uint8Array(0));
 * console.assert(info.firstPts === undefined && probe.videoCodec === undefined);
 * ```
 * @module
 */

/** Length of one MPEG-TS packet. */
export const TS_PACKET_SIZE = 188;

/** Stream types (PMT `stream_type`) this player knows. */
export const StreamType = {
  /** H.264 / AVC video. */
  H264: 0x1b,
  /** H.265 / HEVC video. */
  H265: 0x24,
  /** AAC audio in ADTS frames. */
  AAC_ADTS: 0x0f,
} as const;

/** One elementary stream of the program. */
export interface ElementaryStreamInfo {
  /** Packet id. */
  pid: number;
  /** PMT `stream_type`. */
  streamType: number;
  /** `video`, `audio` or `other`. */
  kind: "video" | "audio" | "other";
}

/** What one chunk (a fragment or a part) tells. */
export interface ChunkInfo {
  /** PTS (90 kHz) of the first PES of the main stream (video if any, else audio) in this chunk. */
  firstPts?: number;
  /** The chunk carries a program association table (a decoder may start here). */
  hasPat: boolean;
}

/** Packet id of the TS packet at `offset`. */
export function packetPid(data: Uint8Array, offset: number): number {
  return (data[offset + 1] & 0x1f) << 8 | data[offset + 2];
}

/** Whether the packet at `offset` starts a PES packet or a table section. */
export function payloadUnitStart(data: Uint8Array, offset: number): boolean {
  return (data[offset + 1] & 0x40) !== 0;
}

/** Offset of the payload of the packet at `offset`, or -1 when it has none. */
export function payloadOffset(data: Uint8Array, offset: number): number {
  const control = (data[offset + 3] >> 4) & 0x3;
  if ((control & 0x1) === 0) return -1;
  const start = control & 0x2 ? offset + 5 + data[offset + 4] : offset + 4;
  return start < offset + TS_PACKET_SIZE ? start : -1;
}

/** Reads the 33-bit PTS of a PES header starting at `start`, if it has one. */
export function pesPts(data: Uint8Array, start: number, end: number): number | undefined {
  if (end - start < 14) return undefined;
  if (data[start] !== 0 || data[start + 1] !== 0 || data[start + 2] !== 1) return undefined;
  if ((data[start + 7] & 0x80) === 0) return undefined;
  const p = start + 9;
  return ((data[p] >> 1) & 0x07) * 2 ** 30 + data[p + 1] * 2 ** 22 + (data[p + 2] >> 1) * 2 ** 15 +
    data[p + 3] * 2 ** 7 + (data[p + 4] >> 1);
}

function hex2(value: number): string {
  return value.toString(16).padStart(2, "0").toUpperCase();
}

/** The `avc1.PPCCLL` codec string from the first SPS in `bytes` (Annex B), if any. */
export function avcCodecFromAnnexB(bytes: Uint8Array): string | undefined {
  for (let i = 0; i + 6 < bytes.length; i++) {
    if (bytes[i] === 0 && bytes[i + 1] === 0 && bytes[i + 2] === 1 && (bytes[i + 3] & 0x1f) === 7) {
      return `avc1.${hex2(bytes[i + 4])}${hex2(bytes[i + 5])}${hex2(bytes[i + 6])}`;
    }
  }
  return undefined;
}

/** The `mp4a.40.N` codec string from the first ADTS header in `bytes`, if any. */
export function aacCodecFromAdts(bytes: Uint8Array): string | undefined {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 0xff && (bytes[i + 1] & 0xf6) === 0xf0) {
      return `mp4a.40.${((bytes[i + 2] >> 6) & 0x3) + 1}`;
    }
  }
  return undefined;
}

function kindOf(streamType: number): "video" | "audio" | "other" {
  switch (streamType) {
    case StreamType.H264:
    case StreamType.H265:
      return "video";
    case StreamType.AAC_ADTS:
    case 0x03:
    case 0x04:
    case 0x11:
    case 0x81:
    case 0x87:
      return "audio";
  }
  return "other";
}

/** How many bytes of a PES are gathered to find codec headers. */
const HEADER_SCAN_BYTES = 4096;

/** Reads chunks of one MPEG-TS stream in order, remembering its program. */
export class TsProbe {
  #pmtPid: number | undefined;
  #streams: ElementaryStreamInfo[] = [];
  #videoCodec: string | undefined;
  #audioCodec: string | undefined;
  #scan = new Map<number, Uint8Array[]>();

  /** The elementary streams of the program (empty until a PMT was seen). */
  get streams(): readonly ElementaryStreamInfo[] {
    return this.#streams;
  }

  /** The video stream, if the program has one. */
  get video(): ElementaryStreamInfo | undefined {
    return this.#streams.find((stream) => stream.kind === "video");
  }

  /** The audio stream, if the program has one. */
  get audio(): ElementaryStreamInfo | undefined {
    return this.#streams.find((stream) => stream.kind === "audio");
  }

  /** `avc1.PPCCLL` once the SPS was seen. */
  get videoCodec(): string | undefined {
    return this.#videoCodec;
  }

  /** `mp4a.40.N` once an ADTS header was seen. */
  get audioCodec(): string | undefined {
    return this.#audioCodec;
  }

  /** Whether every stream the player can play has its codec string. */
  get complete(): boolean {
    if (this.#streams.length === 0) return false;
    const video = this.video;
    const audio = this.audio;
    if (video === undefined && audio === undefined) return false;
    return (video === undefined || this.#videoCodec !== undefined) &&
      (audio === undefined || this.#audioCodec !== undefined);
  }

  /** The MSE codec list (`avc1...,mp4a...`) of the known streams. */
  get codecs(): string[] {
    const list: string[] = [];
    if (this.#videoCodec) list.push(this.#videoCodec);
    if (this.#audioCodec) list.push(this.#audioCodec);
    return list;
  }

  /** Forgets the program (a new publisher may use other PIDs). */
  reset(): void {
    this.#pmtPid = undefined;
    this.#streams = [];
    this.#videoCodec = undefined;
    this.#audioCodec = undefined;
    this.#scan.clear();
  }

  /** Reads one chunk: tables, codec headers, and the first PTS of its main stream. */
  probe(data: Uint8Array): ChunkInfo {
    const info: ChunkInfo = { hasPat: false };
    for (let offset = 0; offset + TS_PACKET_SIZE <= data.length; offset += TS_PACKET_SIZE) {
      if (data[offset] !== 0x47) break;
      const pid = packetPid(data, offset);
      const start = payloadOffset(data, offset);
      if (start < 0) continue;
      const end = offset + TS_PACKET_SIZE;
      const unitStart = payloadUnitStart(data, offset);
      if (pid === 0 && unitStart) {
        info.hasPat = true;
        this.#readPat(data, start, end);
      } else if (pid === this.#pmtPid && unitStart) this.#readPmt(data, start, end);
      else {
        const stream = this.#streams.find((item) => item.pid === pid);
        if (stream === undefined) continue;
        if (unitStart && info.firstPts === undefined && stream === this.#mainStream()) {
          info.firstPts = pesPts(data, start, end);
        }
        this.#gatherHeaders(stream, data.subarray(start, end), unitStart);
      }
    }
    return info;
  }

  #mainStream(): ElementaryStreamInfo | undefined {
    return this.video ?? this.audio;
  }

  #readPat(data: Uint8Array, start: number, end: number): void {
    const section = start + 1 + data[start];
    if (section + 8 > end || data[section] !== 0x00) return;
    const length = (data[section + 1] & 0x0f) << 8 | data[section + 2];
    const last = Math.min(section + 3 + length - 4, end);
    for (let p = section + 8; p + 4 <= last; p += 4) {
      const program = data[p] << 8 | data[p + 1];
      if (program !== 0) {
        this.#pmtPid = (data[p + 2] & 0x1f) << 8 | data[p + 3];
        return;
      }
    }
  }

  #readPmt(data: Uint8Array, start: number, end: number): void {
    const section = start + 1 + data[start];
    if (section + 12 > end || data[section] !== 0x02) return;
    const length = (data[section + 1] & 0x0f) << 8 | data[section + 2];
    const last = Math.min(section + 3 + length - 4, end);
    const infoLength = (data[section + 10] & 0x0f) << 8 | data[section + 11];
    const streams: ElementaryStreamInfo[] = [];
    for (let p = section + 12 + infoLength; p + 5 <= last;) {
      const streamType = data[p];
      const pid = (data[p + 1] & 0x1f) << 8 | data[p + 2];
      const esInfoLength = (data[p + 3] & 0x0f) << 8 | data[p + 4];
      streams.push({ pid, streamType, kind: kindOf(streamType) });
      p += 5 + esInfoLength;
    }
    const changed = streams.length !== this.#streams.length ||
      streams.some((stream, index) =>
        stream.pid !== this.#streams[index].pid ||
        stream.streamType !== this.#streams[index].streamType
      );
    if (changed) {
      this.#streams = streams;
      this.#videoCodec = undefined;
      this.#audioCodec = undefined;
      this.#scan.clear();
    }
  }

  #gatherHeaders(stream: ElementaryStreamInfo, payload: Uint8Array, unitStart: boolean): void {
    if (stream.kind === "video" && this.#videoCodec !== undefined) return;
    if (stream.kind === "audio" && this.#audioCodec !== undefined) return;
    if (stream.kind === "other") return;
    let parts = this.#scan.get(stream.pid);
    if (unitStart) {
      parts = [payload];
      this.#scan.set(stream.pid, parts);
    } else if (parts !== undefined) parts.push(payload);
    else return;
    const size = parts.reduce((sum, part) => sum + part.length, 0);
    const bytes = new Uint8Array(size);
    let at = 0;
    for (const part of parts) {
      bytes.set(part, at);
      at += part.length;
    }
    const body = bytes.length > 9 ? bytes.subarray(9 + bytes[8]) : new Uint8Array(0);
    if (stream.streamType === StreamType.H264) this.#videoCodec = avcCodecFromAnnexB(body);
    else if (stream.streamType === StreamType.AAC_ADTS) this.#audioCodec = aacCodecFromAdts(body);
    const found = stream.kind === "video" ? this.#videoCodec : this.#audioCodec;
    if (found !== undefined || size > HEADER_SCAN_BYTES) {
      this.#scan.delete(stream.pid);
    }
  }
}

/**
 * Byte offsets where PES packets of `pid` start (packets with the unit-start flag), in order.
 * A publisher cuts parts there so that every part holds whole PES packets.
 */
export function pesStartOffsets(data: Uint8Array, pid: number): number[] {
  const offsets: number[] = [];
  for (let offset = 0; offset + TS_PACKET_SIZE <= data.length; offset += TS_PACKET_SIZE) {
    if (packetPid(data, offset) === pid && payloadUnitStart(data, offset)) offsets.push(offset);
  }
  return offsets;
}
