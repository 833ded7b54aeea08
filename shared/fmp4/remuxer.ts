/**
 * MPEG-TS to fragmented MP4, piece by piece: each piece of a transport stream (a fragment, or one
 * of its parts in order) becomes one `moof`+`mdat` (`fragment.ts`), and the codec configuration
 * found in it (SPS, PPS, the AAC header) is what the init segment (`init.ts`) is made from. One
 * remuxer follows one fragment of the stream from its start (it carries PAT/PMT, the parameter
 * sets and the frame interval from one piece to the next).
 *
 * Durations: a video sample lasts until the next one's decode time; the piece's last one until
 * the piece's end when its duration is given (the first decode time plus that duration), else
 * one frame interval (the last one seen). AAC frames last 1024 samples.
 *
 * This module runs in browsers and in Deno alike.
 *
 * @example
 * ```ts ignore
 * const remuxer = new TsToFmp4();
 * const first = remuxer.remux(part0.data, 1, 0.2); // { bytes, config }
 * const init = initSegment(first!.config);
 * ```
 * @module
 */

import { PTS_WRAP } from "../mpegts/pes.ts";
import { join, u32 } from "./boxes.ts";
import { mediaFragment, type Sample, type TrackRun } from "./fragment.ts";
import {
  AUDIO_TRACK_ID,
  type AudioConfig,
  type TrackConfig,
  VIDEO_TRACK_ID,
  type VideoConfig,
} from "./init.ts";
import { parseSps } from "./sps.ts";
import { type AudioUnit, TsDemuxer, type VideoUnit } from "./ts_demux.ts";

/** One piece as fragmented MP4. */
export interface Fmp4Piece {
  /** `moof` + `mdat`. */
  bytes: Uint8Array;
  /** The tracks its samples belong to (what its init segment describes). */
  config: TrackConfig;
  /** The tracks the program declares (that the remuxer takes: H.264 video, AAC audio). */
  declared: { video: boolean; audio: boolean };
}

/** Ticks from `from` to `to` across the 33-bit wrap. */
function ticks(from: number, to: number): number {
  return ((to - from) % PTS_WRAP + PTS_WRAP) % PTS_WRAP;
}

/** Frame interval before any is measured: 30 fps. */
const DEFAULT_INTERVAL = 3000;
/** AAC samples per frame. */
const AAC_FRAME_SAMPLES = 1024;

/** Remuxes the pieces of one fragment of a transport stream. */
export class TsToFmp4 {
  #demuxer = new TsDemuxer();
  #video: VideoConfig | undefined;
  #audio: AudioConfig | undefined;
  #interval: number;

  /** A remuxer for one fragment; `frameInterval` (90 kHz) until one is measured. */
  constructor(frameInterval = DEFAULT_INTERVAL) {
    this.#interval = frameInterval;
  }

  /** The last frame interval measured, 90 kHz. */
  get frameInterval(): number {
    return this.#interval;
  }

  /**
   * The next piece as one fragment with sequence number `sequence`; `durationSeconds`, when known,
   * ends its last video sample. Null when the piece has no sample, or no codec configuration has
   * been seen for its samples.
   */
  remux(ts: Uint8Array, sequence: number, durationSeconds?: number): Fmp4Piece | null {
    this.#demuxer.push(ts);
    const { video, audio } = this.#demuxer.flush();
    const runs: TrackRun[] = [];
    const videoRun = this.#videoRun(video, durationSeconds);
    if (videoRun !== null) runs.push(videoRun);
    const audioRun = this.#audioRun(audio);
    if (audioRun !== null) runs.push(audioRun);
    if (runs.length === 0) return null;
    const config: TrackConfig = {};
    if (this.#video !== undefined) config.video = this.#video;
    if (this.#audio !== undefined) config.audio = this.#audio;
    return { bytes: mediaFragment(sequence, runs), config, declared: this.#demuxer.declared };
  }

  #videoRun(units: VideoUnit[], durationSeconds: number | undefined): TrackRun | null {
    const samples: Sample[] = [];
    for (let index = 0; index < units.length; index++) {
      const unit = units[index];
      const kept: Uint8Array[] = [];
      let sps: Uint8Array | undefined;
      let pps: Uint8Array | undefined;
      for (const nal of unit.nals) {
        const type = nal[0] & 0x1f;
        if (type === 7) sps ??= nal;
        else if (type === 8) pps ??= nal;
        else if (type !== 9) kept.push(u32(nal.byteLength), nal);
      }
      if (sps !== undefined && pps !== undefined) this.#configure(sps, pps);
      if (this.#video === undefined || kept.length === 0) continue;
      const next = units[index + 1];
      let duration: number;
      if (next !== undefined) {
        duration = ticks(unit.dts, next.dts);
        if (duration > 0) this.#interval = duration;
      } else {
        duration = this.#interval;
        if (durationSeconds !== undefined && units.length > 0) {
          const end = ticks(units[0].dts, unit.dts);
          const left = Math.round(durationSeconds * 90000) - end;
          if (left > 0 && left <= 4 * this.#interval) duration = left;
        }
      }
      samples.push({
        data: join(kept),
        duration,
        compositionOffset: ((unit.pts - unit.dts + PTS_WRAP / 2) % PTS_WRAP + PTS_WRAP) %
            PTS_WRAP - PTS_WRAP / 2,
        key: unit.key,
      });
    }
    if (samples.length === 0) return null;
    const first = units.find((unit) => unit.nals.some((nal) => (nal[0] & 0x1f) !== 9));
    return {
      id: VIDEO_TRACK_ID,
      baseDecodeTime: (first ?? units[0]).dts,
      video: true,
      samples,
    };
  }

  #configure(sps: Uint8Array, pps: Uint8Array): void {
    const known = this.#video;
    if (known !== undefined && equal(known.sps, sps) && equal(known.pps, pps)) return;
    try {
      const info = parseSps(sps);
      this.#video = { sps: sps.slice(), pps: pps.slice(), width: info.width, height: info.height };
    } catch {
      // An SPS we cannot read: keep the one before (or none).
    }
  }

  #audioRun(units: AudioUnit[]): TrackRun | null {
    if (units.length === 0) return null;
    const first = units[0];
    const known = this.#audio;
    if (
      known === undefined || known.sampleRate !== first.sampleRate ||
      known.channels !== first.channels || known.objectType !== first.objectType
    ) {
      this.#audio = {
        objectType: first.objectType,
        sampleRate: first.sampleRate,
        channels: first.channels,
      };
    }
    return {
      id: AUDIO_TRACK_ID,
      baseDecodeTime: Math.round(first.pts * first.sampleRate / 90000),
      video: false,
      samples: units.map((unit) => ({
        data: unit.data,
        duration: AAC_FRAME_SAMPLES,
        compositionOffset: 0,
        key: true,
      })),
    };
  }
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let index = 0; index < a.byteLength; index++) if (a[index] !== b[index]) return false;
  return true;
}
