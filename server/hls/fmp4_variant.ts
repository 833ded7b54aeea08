/**
 * The fragmented MP4 (CMAF) copy of one HLS track, for the players that need fMP4 parts in
 * low-latency mode (Apple's). It is made only while wanted: the track starts one on the first fMP4
 * request and drops it after a quiet period. Each HLS part is remuxed once, when it closes (or,
 * for the parts already held when the copy starts, at that moment), and a segment is its parts
 * joined once when it completes (or its fragment remuxed whole once, when it has no complete
 * parts); requests only read the bytes. Init segments are named by a hash of their bytes (so of
 * the codec configuration): a new SPS, PPS or AAC configuration gives a new `EXT-X-MAP` URI.
 *
 * A segment's init is made from its first part, with the tracks of the segment before for a track
 * that has no sample in that part yet (AAC frames come in bursts). When the program declares a
 * track of which no configuration is known yet (a new stream's first frames, before its first
 * AAC frame), the segment's parts wait, unlisted, for the part that brings it, so the init
 * describes every track from the start (a player cannot add a track to a running stream). A later
 * part with a track the init lacks, or a part that cannot be remuxed, leaves the segment without
 * fMP4 parts (it is then listed whole, remuxed whole).
 *
 * @example
 * ```ts ignore
 * const fmp4 = new Fmp4Variant();
 * fmp4.addPart(7, part);            // remuxed now
 * fmp4.addSegment(7, data, 2, parts); // joined now
 * fmp4.part(7, 0); fmp4.segment(7); fmp4.map(7); // "init-3f2a....mp4"
 * ```
 * @module
 */

import { createHash } from "node:crypto";
import { join } from "../../shared/fmp4/boxes.ts";
import { initSegment, type TrackConfig } from "../../shared/fmp4/init.ts";
import { TsToFmp4 } from "../../shared/fmp4/remuxer.ts";
import type { HlsPart } from "./part_grouper.ts";

/** What the copy holds of one segment. */
interface Entry {
  /** Follows the segment's parts from part 0; null once whole or broken. */
  remuxer: TsToFmp4 | null;
  /** Its parts as fMP4, in order. */
  parts: Uint8Array[];
  /** The parts cannot be served as fMP4 (see the module doc). */
  broken: boolean;
  /** The whole segment as fMP4, once complete. */
  segment?: Uint8Array;
  /** Its init segment's file name. */
  init?: string;
  /** The tracks its init describes. */
  config?: TrackConfig;
}

/** The `mfhd` sequence number of part `index` of segment `msn` (a whole segment: its part 0's). */
export function fragmentSequence(msn: number, index: number): number {
  return ((msn * 256 + index) % 2 ** 32) + 1;
}

/** The file name of an init segment: a hash of its bytes. */
export function initName(bytes: Uint8Array): string {
  return `init-${createHash("sha256").update(bytes).digest("hex").slice(0, 16)}.mp4`;
}

function hasAll(config: TrackConfig, other: TrackConfig): boolean {
  return (other.video === undefined || config.video !== undefined) &&
    (other.audio === undefined || config.audio !== undefined);
}

/** The fMP4 copy of a track's window. */
export class Fmp4Variant {
  #entries = new Map<number, Entry>();
  #inits = new Map<string, Uint8Array>();
  #config: TrackConfig = {};
  #lastInit: string | undefined;
  /** Frame interval carried to the next segment's remuxer, 90 kHz. */
  #interval: number | undefined;

  /** The next closed HLS part of segment `msn` (a new segment starts at part 0). */
  addPart(msn: number, part: HlsPart): void {
    let entry = this.#entries.get(msn);
    if (part.index === 0) {
      entry = { remuxer: new TsToFmp4(this.#interval), parts: [], broken: false };
      this.#entries.set(msn, entry);
    }
    if (entry === undefined || entry.broken || entry.remuxer === null) return;
    if (part.index !== entry.parts.length) return this.#break(entry);
    const piece = entry.remuxer.remux(
      part.data,
      fragmentSequence(msn, part.index),
      part.duration,
    );
    this.#interval = entry.remuxer.frameInterval;
    if (piece === null) return this.#break(entry);
    if (entry.config === undefined) {
      const config = this.#merged(piece.config);
      // The init is made once every declared track has a configuration (until then the
      // segment's parts are remuxed but not listed).
      if (
        (!piece.declared.video || config.video !== undefined) &&
        (!piece.declared.audio || config.audio !== undefined)
      ) {
        this.#setInit(entry, config);
      }
    } else if (!hasAll(entry.config, piece.config)) {
      return this.#break(entry);
    }
    entry.parts.push(piece.bytes);
  }

  /** Segment `msn` completed: its fragment's bytes and duration, and its HLS parts if it has them. */
  addSegment(
    msn: number,
    data: Uint8Array,
    duration: number,
    parts: readonly HlsPart[] | null,
  ): void {
    const entry = this.#entries.get(msn);
    if (
      entry !== undefined && !entry.broken && entry.config !== undefined && parts !== null &&
      entry.parts.length === parts.length &&
      parts.length > 0
    ) {
      entry.segment = join(entry.parts);
      entry.remuxer = null;
      return;
    }
    const remuxer = new TsToFmp4(this.#interval);
    const piece = remuxer.remux(data, fragmentSequence(msn, 0), duration);
    this.#interval = remuxer.frameInterval;
    const whole: Entry = entry ?? { remuxer: null, parts: [], broken: true };
    whole.remuxer = null;
    whole.broken = true;
    this.#entries.set(msn, whole);
    if (piece === null) return;
    whole.segment = piece.bytes;
    this.#setInit(whole, piece.config);
  }

  /**
   * Learns the tracks from a complete fragment (remuxed and thrown away) when none is known yet,
   * so the first segment's init can name a track its first part has no sample of.
   */
  learn(data: Uint8Array, duration: number): void {
    if (this.#config.video !== undefined || this.#config.audio !== undefined) return;
    const piece = new TsToFmp4().remux(data, 1, duration);
    if (piece !== null) this.#config = piece.config;
  }

  /** Forgets segment `msn` (its fragment was abandoned). */
  drop(msn: number): void {
    this.#entries.delete(msn);
  }

  /** Keeps segments from `oldest` on, and parts of those from `partsFrom` on; unused inits go. */
  prune(oldest: number, partsFrom: number): void {
    for (const [msn, entry] of this.#entries) {
      if (msn < oldest) this.#entries.delete(msn);
      else if (msn < partsFrom && entry.segment !== undefined) entry.parts = [];
    }
    const used = new Set([...this.#entries.values()].map((entry) => entry.init));
    used.add(this.#lastInit);
    for (const name of this.#inits.keys()) if (!used.has(name)) this.#inits.delete(name);
  }

  /** Whether segment `msn` has its first `count` parts as fMP4 (so they can be listed). */
  hasParts(msn: number, count: number): boolean {
    const entry = this.#entries.get(msn);
    if (entry === undefined) return count === 0;
    if (entry.config === undefined) return count === 0; // waiting for its init's tracks
    return !entry.broken && entry.parts.length >= count;
  }

  /** Part `index` of segment `msn` as fMP4. */
  part(msn: number, index: number): Uint8Array | undefined {
    const entry = this.#entries.get(msn);
    return entry === undefined || entry.broken ? undefined : entry.parts[index];
  }

  /** Segment `msn` as fMP4. */
  segment(msn: number): Uint8Array | undefined {
    return this.#entries.get(msn)?.segment;
  }

  /** The init file name for segment `msn` (the newest one when the segment has none yet). */
  map(msn: number): string | undefined {
    return this.#entries.get(msn)?.init ?? this.#lastInit;
  }

  /** An init segment by file name. */
  init(name: string): Uint8Array | undefined {
    return this.#inits.get(name);
  }

  /** Bytes held (parts, segments, inits). */
  get bytes(): number {
    let total = 0;
    for (const entry of this.#entries.values()) {
      for (const part of entry.parts) total += part.byteLength;
      total += entry.segment?.byteLength ?? 0;
    }
    for (const init of this.#inits.values()) total += init.byteLength;
    return total;
  }

  /** `found`, with the tracks known from before for those it has no configuration of. */
  #merged(found: TrackConfig): TrackConfig {
    const config: TrackConfig = {};
    const video = found.video ?? this.#config.video;
    const audio = found.audio ?? this.#config.audio;
    if (video !== undefined) config.video = video;
    if (audio !== undefined) config.audio = audio;
    return config;
  }

  #setInit(entry: Entry, found: TrackConfig): void {
    const config = this.#merged(found);
    this.#config = config;
    const bytes = initSegment(config);
    const name = initName(bytes);
    this.#inits.set(name, bytes);
    entry.init = name;
    entry.config = config;
    this.#lastInit = name;
  }

  #break(entry: Entry): void {
    entry.broken = true;
    entry.remuxer = null;
    entry.parts = [];
  }
}
