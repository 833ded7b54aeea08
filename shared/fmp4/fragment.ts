/**
 * A media fragment of a fragmented MP4 (CMAF) stream: one `moof` (`mfhd`, then per track a `traf`
 * with `tfhd` (default-base-is-moof), `tfdt` (the first sample's decode time) and `trun` (sample
 * sizes, durations, flags and composition offsets)) and one `mdat` with the samples, video first.
 *
 * This module runs in browsers and in Deno alike.
 *
 * @example
 * ```ts ignore
 * const bytes = mediaFragment(1, [{ id: 1, baseDecodeTime: 90000, video: true, samples }]);
 * ```
 * @module
 */

import { box, fullBox, join, u32, u64 } from "./boxes.ts";

/** One sample (an access unit) of a track. */
export interface Sample {
  /** Its bytes as the track stores them (H.264: 4-byte length-prefixed NAL units). */
  data: Uint8Array;
  /** Duration in the track's timescale. */
  duration: number;
  /** Presentation time minus decode time, in the track's timescale. */
  compositionOffset: number;
  /** A sync sample (an IDR picture; every audio frame). */
  key: boolean;
}

/** The samples of one track in one fragment. */
export interface TrackRun {
  /** Track id (as in the init segment). */
  id: number;
  /** Decode time of the first sample, in the track's timescale. */
  baseDecodeTime: number;
  /** Whether the track is video (its samples get flags and composition offsets). */
  video: boolean;
  /** The samples, in decode order. */
  samples: readonly Sample[];
}

/** `sample_depends_on` = 2 (an I picture), a sync sample. */
export const SYNC_FLAGS = 0x02000000;
/** `sample_depends_on` = 1, `sample_is_non_sync_sample`. */
export const NON_SYNC_FLAGS = 0x01010000;

const TRUN_DATA_OFFSET = 0x000001;
const TRUN_DURATION = 0x000100;
const TRUN_SIZE = 0x000200;
const TRUN_FLAGS = 0x000400;
const TRUN_COMPOSITION = 0x000800;
const TFHD_DEFAULT_BASE_IS_MOOF = 0x020000;

function trun(run: TrackRun, dataOffset: number): Uint8Array {
  const signed = run.samples.some((sample) => sample.compositionOffset < 0);
  const flags = TRUN_DATA_OFFSET | TRUN_DURATION | TRUN_SIZE |
    (run.video ? TRUN_FLAGS | TRUN_COMPOSITION : 0);
  const entries: Uint8Array[] = [];
  for (const sample of run.samples) {
    entries.push(u32(sample.duration), u32(sample.data.byteLength));
    if (run.video) {
      entries.push(u32(sample.key ? SYNC_FLAGS : NON_SYNC_FLAGS), u32(sample.compositionOffset));
    }
  }
  return fullBox(
    "trun",
    signed ? 1 : 0,
    flags,
    u32(run.samples.length),
    u32(dataOffset),
    ...entries,
  );
}

function moof(sequence: number, runs: readonly TrackRun[], offsets: readonly number[]): Uint8Array {
  return box(
    "moof",
    fullBox("mfhd", 0, 0, u32(sequence)),
    ...runs.map((run, index) =>
      box(
        "traf",
        fullBox("tfhd", 0, TFHD_DEFAULT_BASE_IS_MOOF, u32(run.id)),
        fullBox("tfdt", 1, 0, u64(run.baseDecodeTime)),
        trun(run, offsets[index]),
      )
    ),
  );
}

/** `moof` + `mdat` of the runs (tracks without samples are left out). */
export function mediaFragment(sequence: number, runs: readonly TrackRun[]): Uint8Array {
  const present = runs.filter((run) => run.samples.length > 0);
  if (present.length === 0) throw new RangeError("a fragment needs a sample");
  // The moof's size does not depend on the offsets: measure it with zeros first.
  const size = moof(sequence, present, present.map(() => 0)).byteLength;
  const offsets: number[] = [];
  let offset = size + 8;
  const data: Uint8Array[] = [];
  for (const run of present) {
    offsets.push(offset);
    for (const sample of run.samples) {
      data.push(sample.data);
      offset += sample.data.byteLength;
    }
  }
  const mdatHeader = [u32(offset - size), new Uint8Array([0x6d, 0x64, 0x61, 0x74])];
  return join([moof(sequence, present, offsets), ...mdatHeader, ...data]);
}
