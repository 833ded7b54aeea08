/**
 * MPEG-TS to fragmented MP4 with mux.js's partial transmuxer, one chunk (a fragment or a part) at
 * a time: everything a chunk holds comes out at once, as one media segment per track, with the
 * track's init segment whenever it is new. Frames mux.js writes twice (a part's last frame, again
 * with the next part) are left out the second time (see `repeated_samples.ts`). Timestamps are kept as in the MPEG-TS (seconds = PTS /
 * 90000), so both media paths place media on the same timeline.
 *
 * Used inside the worker, and on the page's thread when no worker can start.
 *
 * @example
 * ```ts ignore
 * const core = new TransmuxCore();
 * const { video, audio } = core.transmux(tsBytes, false);
 * // video.init (first time), video.data: moof+mdat pairs ready for a SourceBuffer
 * ```
 * @module
 */

// @ts-types="./mux_js.d.ts"
import PartialTransmuxer from "mux.js/lib/partial/transmuxer.js";
import type { MuxJsSegmentEvent } from "./mux_js.d.ts";
import { RepeatedSampleFilter } from "./repeated_samples.ts";
import { concatBytes } from "../../shared/mpegts/packet.ts";

/** fMP4 output of one track for one chunk. */
export interface TrackSegment {
  /** The init segment, when it is new (first chunk, or after a reset or a codec change). */
  init?: Uint8Array;
  /** moof+mdat boxes. */
  data: Uint8Array;
}

/** fMP4 output of one chunk. */
export interface TransmuxOutput {
  /** Video track, if the chunk held video. */
  video?: TrackSegment;
  /** Audio track, if the chunk held audio. */
  audio?: TrackSegment;
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  if (a === undefined || a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A stateful MPEG-TS to fMP4 converter for one stream. */
export class TransmuxCore {
  #muxer: PartialTransmuxer;
  #pieces: { video: Uint8Array[]; audio: Uint8Array[] } = { video: [], audio: [] };
  #inits: { video?: Uint8Array; audio?: Uint8Array } = {};
  #sentInits: { video?: Uint8Array; audio?: Uint8Array } = {};
  #repeats = { video: new RepeatedSampleFilter(), audio: new RepeatedSampleFilter() };

  /** Creates the converter. */
  constructor() {
    this.#muxer = new PartialTransmuxer({ keepOriginalTimestamps: true });
    this.#muxer.on("data", (event: MuxJsSegmentEvent) => {
      const init = event.data.track.initSegment;
      if (init !== undefined) this.#inits[event.type] = init;
      this.#pieces[event.type].push(event.data.boxes);
    });
  }

  /** Converts one chunk; `reset` first forgets the previous timeline (a discontinuity). */
  transmux(data: Uint8Array, reset: boolean): TransmuxOutput {
    if (reset) {
      this.#muxer.reset();
      this.#sentInits = {};
      this.#repeats.video.reset();
      this.#repeats.audio.reset();
    }
    this.#muxer.push(data);
    this.#muxer.flush();
    const output: TransmuxOutput = {};
    for (const type of ["video", "audio"] as const) {
      const pieces = this.#pieces[type];
      if (pieces.length === 0) continue;
      this.#pieces[type] = [];
      const data = this.#repeats[type].filter(concatBytes(pieces));
      if (data.byteLength === 0) continue;
      const segment: TrackSegment = { data };
      const init = this.#inits[type];
      if (init !== undefined && !sameBytes(this.#sentInits[type], init)) {
        segment.init = init;
        this.#sentInits[type] = init;
      }
      output[type] = segment;
    }
    return output;
  }
}
