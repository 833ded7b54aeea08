/**
 * One stream as HLS: a {@linkcode StreamSubscriber} (it asks for parts) that keeps a window of
 * the stream's fragments as segments, groups the parts of the fragment in progress into HLS parts
 * (`part_grouper.ts`), and renders the media playlist once per update (the text is shared by every
 * request until the next update). Media sequence numbers are the stream's fragment `seq`.
 * Blocked requests wait on it (`waiters.ts`). While fMP4 is wanted (`wantFmp4`), it also keeps an
 * {@linkcode Fmp4Variant} of its window, fed as parts close and fragments complete, and renders
 * the fMP4 playlist from the same segments and parts (same numbers, same durations).
 *
 * A gap in the numbers (a fragment the node never got) or numbers that go back (a restarted
 * stream) empties the window and marks a discontinuity, so the playlist's numbers always follow
 * each other.
 *
 * @example
 * ```ts ignore
 * const track = new HlsTrack("room/a", { partTarget: 0.25, segments: 6, signer });
 * stream.attach(track, {});
 * const text = track.playlist(); // built once per update
 * ```
 * @module
 */

import type { Fragment, Part } from "../fragment.ts";
import type { StreamEnd } from "../stream_end.ts";
import type { StreamSubscriber } from "../stream_subscriber.ts";
import { detectCodecs } from "../../shared/mpegts/codecs.ts";
import { StreamType } from "../../shared/mpegts/psi.ts";
import { Fmp4Variant } from "./fmp4_variant.ts";
import { type HlsPart, PartGrouper } from "./part_grouper.ts";
import { fmp4Format, type MediaFormat, mediaPlaylist, type PlaylistSegment } from "./playlist.ts";
import { PtsReader } from "./pts_reader.ts";
import type { UriSigner } from "./uri_signer.ts";
import { Waiters } from "./waiters.ts";

/** How a track is set up. */
export interface HlsTrackOptions {
  /** HLS part target, seconds. */
  partTarget: number;
  /** Complete segments listed. */
  segments: number;
  /** Signs the media URIs. */
  signer: UriSigner;
  /** The fMP4 copy is dropped after this long without an fMP4 request, ms. @default 30000 */
  fmp4IdleMs?: number;
}

/** The media formats a track's playlist comes in. */
export type HlsFormat = "ts" | "fmp4";

/** A complete segment. */
interface Segment extends PlaylistSegment {
  /** The fragment's bytes (the ring's, not copied). */
  data: Uint8Array;
}

/** The segment being made. */
interface Current {
  msn: number;
  time?: number;
  discontinuity: boolean;
  grouper: PartGrouper;
}

/** Segments whose parts stay listed (and fetchable), counting from the newest complete one. */
const PART_SEGMENTS = 2;

/** One stream served as HLS on this node. */
export class HlsTrack implements StreamSubscriber {
  /** Always: parts are what makes it low-latency. */
  readonly wantsParts = true;
  /** Stream id. */
  readonly id: string;
  /** Blocked requests. */
  readonly waiters: Waiters<HlsTrack>;
  #options: HlsTrackOptions;
  #segments: Segment[] = [];
  #current: Current | null = null;
  #pts = new PtsReader();
  #ended: StreamEnd | null = null;
  #discontinuitySequence = 0;
  #targetDuration = 1;
  #discontinuityPending = false;
  #playlist: string | null = null;
  #fmp4Playlist: string | null = null;
  #fmp4: Fmp4Variant | null = null;
  #fmp4Wanted = 0;
  #fmp4Supported: boolean | undefined;
  #version = 0;
  /** Wall clock of the last update (`performance.now()`). */
  lastUpdate = performance.now();
  /** Bytes of the newest segment, for bandwidth estimates. */
  #bandwidth = 0;
  /** Length of the stream's last part, seconds, for the next fragment's grouper. */
  #lastPartSeconds: number | undefined;
  /** The first segment's bytes (codec detection). */
  #sample: Uint8Array | undefined;

  /** A track for stream `id`; attach it to the stream to fill it. */
  constructor(id: string, options: HlsTrackOptions) {
    this.id = id;
    this.#options = options;
    this.waiters = new Waiters();
  }

  /** How the stream ended, or null while live. */
  get ended(): StreamEnd | null {
    return this.#ended;
  }

  /** Playlist updates so far. */
  get version(): number {
    return this.#version;
  }

  /** How long a blocked request waits: three target durations (then 503, as the spec asks). */
  get waitTimeoutMs(): number {
    return 3000 * this.#targetDuration;
  }

  /** The part target, seconds. */
  get partTarget(): number {
    return this.#options.partTarget;
  }

  /** Target duration, whole seconds. */
  get targetDuration(): number {
    return this.#targetDuration;
  }

  /** Bits per second of the newest complete segment (0 before one). */
  get bandwidth(): number {
    return this.#bandwidth;
  }

  /** Bytes of a complete segment (for codec detection), if any. */
  get sample(): Uint8Array | undefined {
    return this.#sample;
  }

  /** Number of the newest complete segment, or -1. */
  get lastComplete(): number {
    return this.#segments.at(-1)?.msn ?? -1;
  }

  /** Number of the newest segment listed (in progress or complete), or -1. */
  get lastListed(): number {
    return this.#current?.msn ?? this.lastComplete;
  }

  /**
   * Whether a playlist with segment `msn` complete (or, with `part`, that part of it) exists; for
   * `fmp4`, a part counts once the fMP4 playlist lists it (a segment whose parts could not be
   * remuxed is awaited whole).
   */
  has(msn: number, part?: number, format: HlsFormat = "ts"): boolean {
    if (this.#ended !== null) return true;
    if (this.lastComplete >= msn) return true;
    const current = this.#current;
    if (current === null || part === undefined) return false;
    if (current.msn > msn) return true;
    if (current.msn !== msn || current.grouper.parts.length <= part) return false;
    return format === "ts" || this.#fmp4 === null || this.#fmp4.hasParts(msn, part + 1);
  }

  /** The media playlist now, in `format` (each rendered at most once per update). */
  playlist(format: HlsFormat = "ts"): string {
    if (format === "ts") return this.#playlist ??= this.#render();
    const fmp4 = this.wantFmp4();
    return this.#fmp4Playlist ??= this.#render(fmp4);
  }

  /**
   * Whether the stream can be served as fMP4: its video is H.264 and its audio AAC (either may be
   * absent). Undefined before the first segment.
   */
  get fmp4Supported(): boolean | undefined {
    if (this.#fmp4Supported === undefined && this.#sample !== undefined) {
      const codecs = detectCodecs(this.#sample);
      this.#fmp4Supported = codecs !== null &&
        (codecs.videoStreamType === undefined || codecs.videoStreamType === StreamType.H264) &&
        (codecs.audioStreamType === undefined || codecs.audioStreamType === StreamType.AAC_ADTS);
    }
    return this.#fmp4Supported;
  }

  /**
   * Marks fMP4 as wanted now and returns the copy, starting it when there is none: the window's
   * segments and held parts are remuxed at once, later ones as they come.
   */
  wantFmp4(): Fmp4Variant {
    this.#fmp4Wanted = performance.now();
    if (this.#fmp4 !== null) return this.#fmp4;
    const fmp4 = this.#fmp4 = new Fmp4Variant();
    const newest = this.#segments.at(-1);
    if (newest !== undefined) fmp4.learn(newest.data, newest.duration);
    for (const segment of this.#segments) {
      for (const part of segment.parts ?? []) fmp4.addPart(segment.msn, part);
      fmp4.addSegment(segment.msn, segment.data, segment.duration, segment.parts);
    }
    const current = this.#current;
    if (current !== null) {
      for (const part of current.grouper.parts) fmp4.addPart(current.msn, part);
    }
    this.#prune();
    this.#fmp4Playlist = null;
    this.#version++; // a playlist cached for an earlier copy is stale
    return fmp4;
  }

  /** Whether the fMP4 copy is being made. */
  get fmp4Active(): boolean {
    return this.#fmp4 !== null;
  }

  /** Bytes held by the fMP4 copy (0 without one). */
  get fmp4Bytes(): number {
    return this.#fmp4?.bytes ?? 0;
  }

  /** Drops the fMP4 copy when no fMP4 request came for the idle period (the clock calls it). */
  sweepFmp4(now: number): void {
    if (this.#fmp4 === null) return;
    if (now - this.#fmp4Wanted <= (this.#options.fmp4IdleMs ?? 30_000)) return;
    this.#fmp4 = null;
    this.#fmp4Playlist = null;
  }

  #render(fmp4?: Fmp4Variant): string {
    const newest = this.lastComplete;
    const current = this.#current;
    let format: MediaFormat | undefined;
    let segments: readonly PlaylistSegment[] = this.#segments;
    let currentParts = current === null || current.grouper.broken ? null : current.grouper.parts;
    if (fmp4 !== undefined) {
      format = fmp4Format((msn) => fmp4.map(msn));
      // Parts are listed where the copy has all of them.
      segments = this.#segments.map((segment) => ({
        ...segment,
        parts: segment.parts !== null && fmp4.hasParts(segment.msn, segment.parts.length)
          ? segment.parts
          : null,
      }));
      if (
        current !== null && currentParts !== null &&
        !fmp4.hasParts(current.msn, currentParts.length)
      ) {
        currentParts = null;
      }
    }
    return mediaPlaylist({
      format,
      targetDuration: this.#targetDuration,
      partTarget: this.#options.partTarget,
      discontinuitySequence: this.#discontinuitySequence,
      ended: this.#ended !== null,
      segments,
      current: current === null ? null : {
        msn: current.msn,
        time: current.time,
        discontinuity: current.discontinuity,
        parts: currentParts,
      },
      partsFrom: newest - PART_SEGMENTS + 1,
      query: (name) => this.#options.signer.sign(this.id, name),
    });
  }

  /** The bytes of segment `msn`, if listed. */
  segment(msn: number): Uint8Array | undefined {
    return this.#segments.find((segment) => segment.msn === msn)?.data;
  }

  /** Segment `msn` as fMP4, if listed and the copy is being made. */
  fmp4Segment(msn: number): Uint8Array | undefined {
    return this.#fmp4?.segment(msn);
  }

  /** Part `index` of segment `msn` as fMP4, if it exists and the copy is being made. */
  fmp4Part(msn: number, index: number): Uint8Array | undefined {
    return this.part(msn, index) === undefined ? undefined : this.#fmp4?.part(msn, index);
  }

  /** An init segment of the fMP4 copy, by file name. */
  fmp4Init(name: string): Uint8Array | undefined {
    return this.#fmp4?.init(name);
  }

  /** Part `index` of segment `msn`, if it exists (and is recent enough to be listed). */
  part(msn: number, index: number): HlsPart | undefined {
    const current = this.#current;
    if (current !== null && current.msn === msn) return current.grouper.parts[index];
    return this.#segments.find((segment) => segment.msn === msn)?.parts?.[index];
  }

  /** Whether part `index` of segment `msn` may still come (it is the next one or the segment is in progress). */
  mayCome(msn: number, index: number): boolean {
    if (this.#ended !== null) return false;
    const current = this.#current;
    if (current !== null) return current.msn === msn && !current.grouper.broken;
    return msn === this.lastComplete + 1 && index === 0;
  }

  #updated(): void {
    this.#playlist = null;
    this.#fmp4Playlist = null;
    this.#version++;
    this.lastUpdate = performance.now();
    this.waiters.release(this);
  }

  /** Buffered fragments become the first segments; parts of the fragment in progress count only from its part 0. */
  sendInitial(fragments: readonly Fragment[], parts: readonly Part[], jumpFirst: boolean): void {
    this.#discontinuityPending = jumpFirst;
    for (const fragment of fragments.slice(-this.#options.segments)) this.#add(fragment);
    if (parts.length > 0 && parts[0].info.index === 0) {
      for (const part of parts) this.#addPart(part);
    }
    this.#updated();
  }

  /** A whole fragment: a complete segment (with the parts made of it, if it was seen from part 0). */
  offerFragment(fragment: Fragment): void {
    this.#add(fragment);
    this.#updated();
  }

  /** A stream part: grouped into HLS parts; the playlist changes when one closes. */
  offerPart(part: Part): void {
    if (this.#addPart(part)) this.#updated();
  }

  /** The fragment in progress was abandoned (its source sends it again). */
  abortFragment(seq: number): void {
    if (this.#current?.msn !== seq) return;
    this.#current = null;
    this.#fmp4?.drop(seq);
    this.#updated();
  }

  /** The stream ended: the playlist gets `EXT-X-ENDLIST`, and every waiter is answered. */
  end(end: StreamEnd): void {
    this.#ended = end;
    this.#current = null;
    this.#updated();
    this.waiters.releaseAll(true);
  }

  /** Checks the numbering before `msn` joins: a gap or a step back starts a new window. */
  #continues(msn: number, discontinuity: boolean): boolean {
    const last = this.#segments.at(-1)?.msn;
    if (last !== undefined && msn !== last + 1) {
      this.#discontinuitySequence += this.#segments.filter((segment) => segment.discontinuity)
        .length;
      this.#segments = [];
      this.#discontinuityPending = true;
    }
    return discontinuity || this.#discontinuityPending;
  }

  #addPart(part: Part): boolean {
    const info = part.info;
    if (info.index === 0) {
      this.#current = {
        msn: info.seq,
        time: info.time,
        discontinuity: info.discontinuity,
        grouper: new PartGrouper(this.#options.partTarget, this.#lastPartSeconds),
      };
    }
    const current = this.#current;
    if (current === null || current.msn !== info.seq) return false;
    const closed = current.grouper.push({
      data: part.data,
      pts: this.#pts.firstPts(part.data),
      independent: info.independent,
      last: info.last,
      fragmentDuration: info.duration,
    });
    if (info.last) this.#lastPartSeconds = current.grouper.lastPartSeconds;
    for (const hlsPart of closed) this.#fmp4?.addPart(current.msn, hlsPart);
    return closed.length > 0 || current.grouper.broken;
  }

  #add(fragment: Fragment): void {
    const info = fragment.info;
    const current = this.#current;
    const grouper = current !== null && current.msn === fragment.seq ? current.grouper : null;
    this.#current = null;
    const discontinuity = this.#continues(fragment.seq, info.discontinuity);
    this.#discontinuityPending = false;
    const segment: Segment = {
      msn: fragment.seq,
      duration: info.duration,
      time: info.time,
      discontinuity,
      parts: grouper !== null && !grouper.broken ? grouper.parts : null,
      data: fragment.data,
    };
    if (!info.assembled) this.#pts.firstPts(fragment.data); // learn the program
    this.#segments.push(segment);
    this.#sample ??= fragment.data;
    if (info.duration > 0) this.#bandwidth = (fragment.data.byteLength * 8) / info.duration;
    this.#targetDuration = Math.max(this.#targetDuration, Math.round(info.duration) || 1);
    while (this.#segments.length > this.#options.segments) {
      // A discontinuity counts in EXT-X-DISCONTINUITY-SEQUENCE once it leaves the window.
      if (this.#segments.shift()!.discontinuity) this.#discontinuitySequence++;
    }
    // Parts of older segments are neither listed nor kept.
    const oldest = this.#segments.length - PART_SEGMENTS - 1;
    if (oldest >= 0) this.#segments[oldest].parts = null;
    this.#fmp4?.addSegment(segment.msn, segment.data, segment.duration, segment.parts);
    this.#prune();
  }

  #prune(): void {
    const first = this.#segments[0]?.msn;
    if (first === undefined) return;
    this.#fmp4?.prune(first, this.lastComplete - PART_SEGMENTS + 1);
  }
}
