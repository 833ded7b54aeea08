/**
 * Test support: Media Source Extensions and a media element, small and faithful where the player
 * depends on them. A {@linkcode FakeSourceBuffer} records every operation, finishes each one in a
 * later task with `updateend` (as MSE does), throws `InvalidStateError` when anything is started
 * while it is updating, and can be made full (`QuotaExceededError`) or failing. The media an
 * append adds is given by {@linkcode markMedia} (stream seconds of those bytes, shifted by the
 * buffer's `timestampOffset`). A {@linkcode FakeMediaElement} opens a {@linkcode FakeMediaSource}
 * set as its `src`, and reports the intersection of its buffers as `buffered`.
 * {@linkcode installFakeMse} puts `MediaSource` and object URLs for it in the global scope.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FakeMediaElement, FakeMediaSource, markMedia } from "./fake_media.ts";
 * const media = new FakeMediaElement();
 * const source = new FakeMediaSource();
 * media.attach(source);
 * await new Promise((resolve) => source.addEventListener("sourceopen", resolve));
 * const buffer = source.addSourceBuffer('video/mp2t; codecs="avc1.42c01e"');
 * buffer.appendBuffer(markMedia(new Uint8Array(8), 10, 12));
 * await new Promise((resolve) => buffer.addEventListener("updateend", resolve));
 * assert.deepEqual(media.ranges(), [[10, 12]]);
 * ```
 * @module
 */

/** An operation a SourceBuffer received. */
export type SourceBufferOperation =
  | { op: "append"; data: Uint8Array }
  | { op: "remove"; start: number; end: number }
  | { op: "abort" }
  | { op: "offset"; value: number }
  | { op: "changeType"; type: string };

const mediaTimes = new WeakMap<Uint8Array, [number, number]>();

/** Says that appending `data` adds the media from `start` to `end` (stream seconds); returns it. */
export function markMedia(data: Uint8Array, start: number, end: number): Uint8Array {
  mediaTimes.set(data, [start, end]);
  return data;
}

/** `TimeRanges` over a list of `[start, end]` pairs. */
export function timeRanges(list: Array<[number, number]>): TimeRanges {
  const copy = list.map(([start, end]) => [start, end] as [number, number]);
  return {
    length: copy.length,
    start: (index: number) => copy[index][0],
    end: (index: number) => copy[index][1],
  } as TimeRanges;
}

function addRange(list: Array<[number, number]>, [start, end]: [number, number]): void {
  list.push([start, end]);
  list.sort((a, b) => a[0] - b[0]);
  for (let index = 1; index < list.length;) {
    if (list[index][0] <= list[index - 1][1] + 1e-6) {
      list[index - 1][1] = Math.max(list[index - 1][1], list[index][1]);
      list.splice(index, 1);
    } else index++;
  }
}

function removeRange(list: Array<[number, number]>, start: number, end: number): void {
  const kept: Array<[number, number]> = [];
  for (const [from, to] of list) {
    if (to <= start || from >= end) kept.push([from, to]);
    else {
      if (from < start) kept.push([from, start]);
      if (to > end) kept.push([end, to]);
    }
  }
  list.splice(0, list.length, ...kept);
}

function invalidState(what: string): DOMException {
  return new DOMException(`${what} while updating`, "InvalidStateError");
}

/** A SourceBuffer that records what it is asked, and buffers what {@linkcode markMedia} says. */
export class FakeSourceBuffer extends EventTarget {
  /** The MIME type it was made for. */
  readonly type: string;
  /** Every operation, in order. */
  readonly operations: SourceBufferOperation[] = [];
  /** The buffered media, as `[start, end]` pairs. */
  readonly ranges: Array<[number, number]> = [];
  /** An operation is running. */
  updating = false;
  /** The next this many appends throw `QuotaExceededError`. */
  quotaFull = 0;
  /** The next operation ends with an `error` event. */
  failNext = false;
  #offset = 0;

  /** A buffer for `type`. */
  constructor(type: string) {
    super();
    this.type = type;
  }

  /** The buffered ranges. */
  get buffered(): TimeRanges {
    return timeRanges(this.ranges);
  }

  /** Seconds added to the media's timestamps. */
  get timestampOffset(): number {
    return this.#offset;
  }

  set timestampOffset(value: number) {
    if (this.updating) throw invalidState("timestampOffset set");
    this.operations.push({ op: "offset", value });
    this.#offset = value;
  }

  /** Appends bytes: the media marked for them, once the operation finishes. */
  appendBuffer(data: Uint8Array | BufferSource): void {
    if (this.updating) throw invalidState("appendBuffer");
    if (this.quotaFull > 0) {
      this.quotaFull--;
      throw new DOMException("the buffer is full", "QuotaExceededError");
    }
    const bytes = data as Uint8Array;
    this.operations.push({ op: "append", data: bytes });
    const media = mediaTimes.get(bytes);
    const offset = this.#offset;
    this.#run(() => {
      if (media !== undefined) addRange(this.ranges, [media[0] + offset, media[1] + offset]);
    });
  }

  /** Removes media from `start` to `end`. */
  remove(start: number, end: number): void {
    if (this.updating) throw invalidState("remove");
    this.operations.push({ op: "remove", start, end });
    this.#run(() => removeRange(this.ranges, start, end));
  }

  /** Switches to another type (another rendition's codecs). */
  changeType(type: string): void {
    if (this.updating) throw invalidState("changeType");
    this.operations.push({ op: "changeType", type });
  }

  /** Resets the parser. */
  abort(): void {
    this.operations.push({ op: "abort" });
  }

  #run(effect: () => void): void {
    this.updating = true;
    setTimeout(() => {
      this.updating = false;
      if (this.failNext) {
        this.failNext = false;
        this.dispatchEvent(new Event("error"));
      } else {
        effect();
        this.dispatchEvent(new Event("update"));
      }
      this.dispatchEvent(new Event("updateend"));
    }, 0);
  }
}

/** The types `MediaSource.isTypeSupported` accepts while {@linkcode installFakeMse} is in force. */
let acceptedTypes: (type: string) => boolean = () => true;

/** A MediaSource that opens when a {@linkcode FakeMediaElement} takes it. */
export class FakeMediaSource extends EventTarget {
  /** Whether MSE accepts `type`. */
  static isTypeSupported(type: string): boolean {
    return acceptedTypes(type);
  }

  /** `closed`, `open` or `ended`. */
  readyState: "closed" | "open" | "ended" = "closed";
  /** The buffers added, in order. */
  readonly sourceBuffers: FakeSourceBuffer[] = [];

  /** Adds a buffer (only while open, as MSE requires). */
  addSourceBuffer(type: string): FakeSourceBuffer {
    if (this.readyState !== "open") throw invalidState("addSourceBuffer when not open");
    const buffer = new FakeSourceBuffer(type);
    this.sourceBuffers.push(buffer);
    return buffer;
  }

  /** Ends the stream. */
  endOfStream(): void {
    if (this.readyState !== "open") throw invalidState("endOfStream when not open");
    this.readyState = "ended";
    this.dispatchEvent(new Event("sourceended"));
  }
}

const sourcesByUrl = new Map<string, FakeMediaSource>();
let nextUrl = 0;

/** A media element: playhead, rate and state set by the test or the player; MSE as `src`. */
export class FakeMediaElement extends EventTarget {
  /** The source attached, if any. */
  source: FakeMediaSource | null = null;
  /** Every position the player seeked to. */
  readonly seeks: number[] = [];
  /** `HTMLMediaElement.readyState` (0 to 4). */
  readyState = 0;
  /** Paused. */
  paused = true;
  /** A seek is in progress. */
  seeking = false;
  /** The playback rate. */
  playbackRate = 1;
  /** Play once there is media. */
  autoplay = false;
  /** Set by the player for ManagedMediaSource. */
  disableRemotePlayback = false;
  /** Frames for `getVideoPlaybackQuality`. */
  quality = { droppedVideoFrames: 0, totalVideoFrames: 0 };
  #src = "";
  #currentTime = 0;

  /** The element as the player's type (the fake has what the player uses). */
  get element(): HTMLMediaElement {
    return this as unknown as HTMLMediaElement;
  }

  /** The playhead; setting it records a seek. */
  get currentTime(): number {
    return this.#currentTime;
  }

  set currentTime(value: number) {
    this.seeks.push(value);
    this.#currentTime = value;
  }

  /** Moves the playhead as playback would (no seek recorded). */
  playTo(time: number): void {
    this.#currentTime = time;
  }

  /** The source URL. */
  get src(): string {
    return this.#src;
  }

  set src(url: string) {
    this.#src = url;
    const source = sourcesByUrl.get(url);
    if (source !== undefined) this.attach(source);
  }

  /** Takes `source` as a MediaSource set as `src` would; it opens in a later task. */
  attach(source: FakeMediaSource): void {
    this.source = source;
    setTimeout(() => {
      if (this.source !== source) return;
      source.readyState = "open";
      source.dispatchEvent(new Event("sourceopen"));
    }, 0);
  }

  /** Removes `src` (detaches the source). */
  removeAttribute(name: string): void {
    if (name !== "src") return;
    this.#src = "";
    if (this.source !== null) this.source.readyState = "closed";
    this.source = null;
  }

  /** Reloads (nothing to do here). */
  load(): void {}

  /** Starts playing. */
  play(): Promise<void> {
    this.paused = false;
    return Promise.resolve();
  }

  /** The buffered media of every track: the intersection of the source's buffers. */
  ranges(): Array<[number, number]> {
    const buffers = this.source?.sourceBuffers ?? [];
    if (buffers.length === 0) return [];
    let common = buffers[0].ranges.map(([start, end]) => [start, end] as [number, number]);
    for (const buffer of buffers.slice(1)) {
      const next: Array<[number, number]> = [];
      for (const [a, b] of common) {
        for (const [c, d] of buffer.ranges) {
          const start = Math.max(a, c);
          const end = Math.min(b, d);
          if (end > start) next.push([start, end]);
        }
      }
      common = next;
    }
    return common;
  }

  /** `ranges()` as `TimeRanges`. */
  get buffered(): TimeRanges {
    return timeRanges(this.ranges());
  }

  /** Frame counts. */
  getVideoPlaybackQuality(): { droppedVideoFrames: number; totalVideoFrames: number } {
    return this.quality;
  }
}

/** What {@linkcode installFakeMse} accepts. */
export interface FakeMseOptions {
  /** Types `isTypeSupported` accepts. @default every type */
  accepts?: (type: string) => boolean;
}

/**
 * Makes {@linkcode FakeMediaSource} the global `MediaSource`, with object URLs for it, until the
 * result is disposed (`using mse = installFakeMse()`).
 */
export function installFakeMse(options: FakeMseOptions = {}): Disposable {
  const scope = globalThis as { MediaSource?: unknown };
  const saved = {
    MediaSource: scope.MediaSource,
    create: URL.createObjectURL,
    revoke: URL.revokeObjectURL,
    accepted: acceptedTypes,
  };
  acceptedTypes = options.accepts ?? (() => true);
  scope.MediaSource = FakeMediaSource;
  URL.createObjectURL = (object: Blob | MediaSource) => {
    if (!(object instanceof FakeMediaSource)) return saved.create(object as Blob);
    const url = `blob:fake-media-source/${nextUrl++}`;
    sourcesByUrl.set(url, object);
    return url;
  };
  URL.revokeObjectURL = (url: string) => {
    if (!sourcesByUrl.delete(url)) saved.revoke(url);
  };
  return {
    [Symbol.dispose]() {
      scope.MediaSource = saved.MediaSource;
      URL.createObjectURL = saved.create;
      URL.revokeObjectURL = saved.revoke;
      acceptedTypes = saved.accepted;
    },
  };
}
