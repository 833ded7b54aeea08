/**
 * The cutter: turns a live MPEG-TS byte stream into fragments that each decode on their own, and
 * hands out each fragment in parts while it is being made.
 *
 * - A fragment starts at a keyframe (random access indicator, or an IDR/IRAP slice) once the
 *   current one has reached the target duration, and it begins with PAT and PMT: the tables that
 *   the encoder wrote just before the keyframe move into the new fragment, and the latest ones are
 *   put there when the encoder did not repeat them.
 * - Parts are cut at the start of a video PES packet (a TS packet boundary) once they hold about
 *   `partDuration` of media, and at every keyframe; a part is handed out as soon as the next
 *   frame begins, so the cutter adds about one frame interval of delay to each part's last frame.
 * - With `partDuration: "frame"` (the default) every video frame is a part of its own, handed out
 *   at the end of the chunk of input that completed it: a muxer that flushes each PES (ffmpeg's
 *   `-flush_packets 1`) writes one frame at a time, so the part leaves without waiting for the
 *   next frame. What comes after the frame before the next one (audio, tables) goes at the head
 *   of the next frame's part; the rest of a frame split over two chunks is a part of its own; the
 *   last part of a fragment holds what came after its last frame (it may be empty).
 * - A fragment's duration is the PTS of the next fragment's keyframe minus its own; the last one
 *   (at the end of the input) ends one frame after its last frame. A jump in the timestamps ends the
 *   fragment at the next keyframe and marks the next one `discontinuity`.
 * - Bytes before the first keyframe are kept only when they are not video (tables and audio), so
 *   nothing of a stream that starts with a keyframe is lost; the stats say what was dropped.
 *
 * Streams without video are cut at audio PES starts (every audio frame is independent).
 *
 * This module runs in browsers and in Deno alike.
 *
 * @example
 * ```ts ignore
 * import { TsCutterStream } from "./cutter.ts";
 * for await (const part of ffmpegStdout.pipeThrough(new TsCutterStream({ fragmentDuration: 2 }))) {
 *   send(part); // part.fragment, part.index, part.data, part.last, part.duration, part.time...
 * }
 * ```
 * @module
 */

import { MediaClock } from "./media_clock.ts";
import type { TsCutterOptions, TsCutterStats, TsPart } from "./part.ts";
import { KeyframeDetector, type NalCodec } from "./nal.ts";
import {
  concatBytes,
  NULL_PID,
  packetPayload,
  packetPid,
  payloadUnitStart,
  randomAccessIndicator,
  TS_PACKET_SIZE,
} from "./packet.ts";
import { TsPacketAligner } from "./packet_aligner.ts";
import { parsePesHeader, PTS_HZ, TimestampUnwrapper } from "./pes.ts";
import { ProgramTracker } from "./program.ts";
import { StreamType } from "./psi.ts";

export type { TsCutterOptions, TsCutterStats, TsPart } from "./part.ts";

/** What is known about a video (or, without video, audio) PES start. */
interface Frame {
  pts: number;
  dts: number;
  key: boolean;
}

/** A video PES whose keyframe status is not yet known, with everything that came after it. */
interface PendingFrame {
  pts: number;
  dts: number;
  detector: KeyframeDetector;
  packets: Uint8Array[];
}

const NAL_CODECS: Record<number, NalCodec> = {
  [StreamType.H264]: "h264",
  [StreamType.HEVC]: "hevc",
};

/** A timeline jump larger than this (or backwards) ends a fragment and marks a discontinuity. */
const MAX_FRAME_GAP = 10 * PTS_HZ;

/** Cuts a TS byte stream into fragments and parts (see the module documentation). */
export class TsCutter {
  #fragmentTicks: number;
  #partTicks: number;
  /** One part per video frame, handed out at the end of the chunk that completed it. */
  #perFrame: boolean;
  /** The current part's frame was handed out already; `#part` holds what came after it. */
  #emittedEarly = false;
  /** What came after the frame handed out holds video (the frame was split over chunks). */
  #residueVideo = false;
  /** Media ticks counted for the parts of this frame handed out early. */
  #emittedTicks = 0;
  #now: () => number;
  #maxPreamble: number;
  #aligner = new TsPacketAligner();
  #program = new ProgramTracker();
  #unwrapper = new TimestampUnwrapper();
  #clock = new MediaClock();
  #stats: TsCutterStats = {
    inputBytes: 0,
    outputBytes: 0,
    injectedBytes: 0,
    droppedBytes: 0,
    fragments: 0,
    parts: 0,
  };
  #out: TsPart[] = [];
  #pushAt = 0;
  // Before the first keyframe.
  #started = false;
  #preamble: Uint8Array[] = [];
  #preambleBytes = 0;
  // Packets that are not media (tables, SDT...) since the last media packet.
  #held: Uint8Array[] = [];
  #pending: PendingFrame | null = null;
  // The fragment and part being made.
  #fragment = -1;
  #fragmentPts = 0;
  #fragmentTime = 0;
  #discontinuity = false;
  #part: Uint8Array[] = [];
  #partIndex = 0;
  #partPts = 0;
  #partDts = 0;
  #partIndependent = true;
  #partLastByteAt = 0;
  // Frame timing.
  #lastDts: number | undefined;
  #maxPts = 0;
  #frameTicks = 0;
  #jumpEnd: number | undefined;

  /** Creates a cutter; nothing runs until bytes are pushed. */
  constructor(options: TsCutterOptions = {}) {
    this.#fragmentTicks = (options.fragmentDuration ?? 2) * PTS_HZ;
    const partDuration = options.partDuration ?? "frame";
    this.#perFrame = partDuration === "frame";
    this.#partTicks = partDuration === "frame" ? 0 : partDuration * PTS_HZ;
    this.#now = options.now ?? Date.now;
    this.#maxPreamble = options.maxPreambleBytes ?? 4 * 1024 * 1024;
  }

  /** Counters so far (a copy). */
  get stats(): TsCutterStats {
    return { ...this.#stats, droppedBytes: this.#stats.droppedBytes + this.#aligner.skippedBytes };
  }

  /** The program (PIDs, stream types, latest tables) seen so far. */
  get program(): ProgramTracker {
    return this.#program;
  }

  /** Takes the next chunk of the byte stream (cut anywhere); returns the parts it completed. */
  push(chunk: Uint8Array): TsPart[] {
    this.#pushAt = this.#now();
    this.#stats.inputBytes += chunk.byteLength;
    for (const run of this.#aligner.push(chunk)) {
      for (let offset = 0; offset < run.byteLength; offset += TS_PACKET_SIZE) {
        this.#packet(run.subarray(offset, offset + TS_PACKET_SIZE));
      }
    }
    if (this.#perFrame) this.#emitFrame();
    return this.#take();
  }

  /**
   * Frame parts, at the end of a chunk: hands out the frame of the current part (or the rest of
   * it) now, as the muxer has flushed it. Not while a frame's keyframe status is unknown (its
   * predecessor may end the fragment), nor in streams without video.
   */
  #emitFrame(): void {
    if (!this.#started || this.#pending !== null || this.#program.video === undefined) return;
    if (this.#emittedEarly && !this.#residueVideo) return;
    if (this.#part.length === 0) return;
    const ticks = this.#emittedEarly ? 0 : this.#frameTicks;
    this.#emit(false, undefined, ticks);
    this.#emittedTicks += ticks;
    this.#emittedEarly = true;
    this.#residueVideo = false;
    this.#partIndependent = false;
  }

  /** The input ended: completes the fragment in progress (its last frame lasts one frame interval). */
  flush(): TsPart[] {
    this.#pushAt = this.#now();
    this.#aligner.flush();
    if (this.#pending !== null) this.#resolvePending(false);
    if (this.#started) {
      this.#part.push(...this.#held);
      this.#held = [];
      const end = this.#maxPts + this.#frameTicks;
      this.#emit(
        true,
        Math.max(0, end - this.#fragmentPts),
        end - this.#partDts - this.#emittedTicks,
      );
    } else {
      this.#drop([...this.#preamble, ...this.#held]);
    }
    this.#preamble = [];
    this.#held = [];
    return this.#take();
  }

  #take(): TsPart[] {
    const out = this.#out;
    this.#out = [];
    return out;
  }

  #packet(packet: Uint8Array): void {
    const isTable = this.#program.observe(packet);
    const pid = packetPid(packet);
    const pending = this.#pending;
    const video = this.#program.video;
    if (pending !== null) {
      if (pid === video?.pid && payloadUnitStart(packet)) {
        this.#resolvePending(false);
      } else {
        pending.packets.push(packet);
        if (pid === video?.pid && pending.detector.push(packetPayload(packet)) !== undefined) {
          this.#resolvePending(pending.detector.result!);
        }
        return;
      }
    }
    if (isTable || !this.#program.isMediaPid(pid)) {
      if (pid === NULL_PID) this.#stats.droppedBytes += TS_PACKET_SIZE;
      else this.#held.push(packet);
      return;
    }
    const boundaryPid = video?.pid ?? this.#program.audio?.pid;
    if (pid === boundaryPid && payloadUnitStart(packet)) {
      const payload = packetPayload(packet);
      const header = parsePesHeader(payload);
      if (header?.pts !== undefined) {
        const pts = this.#unwrapper.unwrap(header.pts);
        const dts = header.dts === undefined
          ? pts
          : pts - ((header.pts - header.dts + 2 ** 33) % 2 ** 33);
        this.#clock.observe(pts / 90, this.#pushAt);
        if (video === undefined) return this.#boundary({ pts, dts, key: true }, [packet]);
        const codec = NAL_CODECS[video.type];
        if (randomAccessIndicator(packet) || codec === undefined) {
          return this.#boundary({ pts, dts, key: randomAccessIndicator(packet) }, [packet]);
        }
        const detector = new KeyframeDetector(codec);
        const key = detector.push(payload.subarray(header.payloadOffset));
        if (key !== undefined) return this.#boundary({ pts, dts, key }, [packet]);
        this.#pending = { pts, dts, detector, packets: [packet] };
        return;
      }
    }
    this.#media([packet], pid === video?.pid);
  }

  #resolvePending(key: boolean): void {
    const pending = this.#pending!;
    this.#pending = null;
    this.#boundary({ pts: pending.pts, dts: pending.dts, key }, pending.packets);
  }

  /** Media packets that start nothing. */
  #media(packets: Uint8Array[], video: boolean): void {
    if (this.#started) {
      this.#part.push(...this.#held, ...packets);
      this.#held = [];
      this.#partLastByteAt = this.#pushAt;
      if (video && this.#emittedEarly) this.#residueVideo = true;
      return;
    }
    if (video) {
      this.#drop(packets);
      return;
    }
    this.#preamble.push(...this.#held, ...packets);
    this.#held = [];
    for (const packet of packets) this.#preambleBytes += packet.byteLength;
    while (this.#preambleBytes > this.#maxPreamble) {
      const oldest = this.#preamble.shift()!;
      this.#preambleBytes -= oldest.byteLength;
      this.#stats.droppedBytes += oldest.byteLength;
    }
  }

  #drop(packets: Uint8Array[]): void {
    for (const packet of packets) this.#stats.droppedBytes += packet.byteLength;
  }

  /** The start of a frame (video PES, or audio PES without video), with the packets from it on. */
  #boundary(frame: Frame, packets: Uint8Array[]): void {
    const tolerance = this.#frameTicks > 0 ? this.#frameTicks / 2 : 0.01 * PTS_HZ;
    const last = this.#lastDts;
    let jumped = false;
    if (last !== undefined && (frame.dts < last || frame.dts - last > MAX_FRAME_GAP)) {
      jumped = true;
      this.#jumpEnd ??= this.#maxPts + this.#frameTicks;
      this.#clock.reset();
      this.#clock.observe(frame.pts / 90, this.#pushAt);
    } else if (last !== undefined && frame.dts > last) {
      this.#frameTicks = frame.dts - last;
    }
    this.#lastDts = frame.dts;

    if (!this.#started) {
      if (!frame.key || !this.#program.ready) {
        this.#media(
          packets.filter((packet) => packetPid(packet) !== this.#program.video?.pid),
          false,
        );
        this.#drop(packets.filter((packet) => packetPid(packet) === this.#program.video?.pid));
        return;
      }
      this.#started = true;
      const before = [...this.#preamble, ...this.#held];
      this.#preamble = [];
      this.#held = [];
      const leading = leadingRun(before, this.#program);
      this.#startFragment(frame, leading, [...before.slice(leading.length), ...packets]);
      return;
    }

    const fragmentAge = frame.pts - this.#fragmentPts;
    // A video keyframe inside a fragment starts an independent part (players may join there).
    const keyframe = frame.key && this.#program.video !== undefined;
    if (
      frame.key && (this.#jumpEnd !== undefined || fragmentAge >= this.#fragmentTicks - tolerance)
    ) {
      const end = this.#jumpEnd ?? frame.pts;
      const discontinuity = this.#jumpEnd !== undefined;
      this.#jumpEnd = undefined;
      this.#emit(
        true,
        Math.max(0, end - this.#fragmentPts),
        (jumped ? end : frame.dts) - this.#partDts - this.#emittedTicks,
      );
      this.#discontinuity = discontinuity;
      this.#startFragment(frame, this.#held, packets);
      this.#held = [];
    } else if (this.#perFrame && this.#emittedEarly && !this.#residueVideo) {
      // The frame left already: what came after it opens the next frame's part.
      const leading = [...this.#part, ...this.#held];
      this.#startPart(frame, keyframe ? this.#withTables(leading) : leading, packets);
      this.#held = [];
    } else if (
      this.#perFrame ||
      (this.#partTicks > 0 &&
        (keyframe || frame.dts - this.#partDts >= this.#partTicks - tolerance))
    ) {
      this.#emit(false, undefined, frame.dts - this.#partDts - this.#emittedTicks);
      this.#startPart(frame, keyframe ? this.#withTables(this.#held) : this.#held, packets);
      this.#held = [];
    } else {
      this.#part.push(...this.#held, ...packets);
      this.#held = [];
    }
    if (frame.pts > this.#maxPts || jumped) this.#maxPts = frame.pts;
    this.#partLastByteAt = this.#pushAt;
  }

  /** PAT and PMT first (the latest ones), then the other non-media packets of `leading`. */
  #withTables(leading: Uint8Array[]): Uint8Array[] {
    const tables = this.#program.tablePackets;
    const others = leading.filter((packet) => !this.#program.isTablePid(packetPid(packet)));
    let added = 0;
    for (const packet of tables) added += packet.byteLength;
    for (const packet of leading) added -= packet.byteLength;
    for (const packet of others) added += packet.byteLength;
    this.#stats.injectedBytes += Math.max(0, added);
    return [...tables, ...others];
  }

  #startFragment(frame: Frame, leading: Uint8Array[], rest: Uint8Array[]): void {
    this.#fragment++;
    this.#fragmentPts = frame.pts;
    this.#fragmentTime = this.#clock.wallTime(frame.pts / 90);
    this.#partIndex = 0;
    this.#maxPts = frame.pts;
    this.#startPart(frame, this.#withTables(leading), rest);
  }

  #startPart(frame: Frame, leading: Uint8Array[], rest: Uint8Array[]): void {
    this.#part = [...leading, ...rest];
    this.#partPts = frame.pts;
    this.#partDts = frame.dts;
    this.#partIndependent = frame.key;
    this.#partLastByteAt = this.#pushAt;
    this.#emittedEarly = false;
    this.#residueVideo = false;
    this.#emittedTicks = 0;
  }

  #emit(last: boolean, durationTicks: number | undefined, mediaTicks: number): void {
    const data = concatBytes(this.#part);
    this.#part = [];
    const index = this.#partIndex++;
    const part: TsPart = {
      fragment: this.#fragment,
      index,
      data,
      independent: this.#partIndependent,
      last,
      pts: this.#partPts,
      time: index === 0 ? this.#fragmentTime : this.#clock.wallTime(this.#partPts / 90),
      fragmentTime: this.#fragmentTime,
      mediaDuration: Math.max(0, mediaTicks) / PTS_HZ,
      lastByteAt: this.#partLastByteAt,
      emittedAt: this.#pushAt,
    };
    if (index === 0 && this.#discontinuity) {
      part.discontinuity = true;
      this.#discontinuity = false;
    }
    if (last) {
      part.duration = Math.round((durationTicks ?? 0) / PTS_HZ * 1e6) / 1e6;
      this.#stats.fragments++;
    }
    this.#stats.parts++;
    this.#stats.outputBytes += data.byteLength;
    this.#out.push(part);
  }
}

/** The non-media packets at the start of `packets`. */
function leadingRun(packets: Uint8Array[], program: ProgramTracker): Uint8Array[] {
  let count = 0;
  while (count < packets.length && !program.isMediaPid(packetPid(packets[count]))) count++;
  return packets.slice(0, count);
}

/**
 * A `TransformStream` of {@linkcode TsCutter}: TS bytes (cut anywhere) in, parts out.
 *
 * @example
 * ```ts ignore
 * const parts = child.stdout.pipeThrough(new TsCutterStream({ fragmentDuration: 2, partDuration: 0.2 }));
 * ```
 */
export class TsCutterStream extends TransformStream<Uint8Array, TsPart> {
  /** The cutter inside (for its stats and program). */
  readonly cutter: TsCutter;

  /** Creates the stream stage. */
  constructor(options: TsCutterOptions = {}) {
    const cutter = new TsCutter(options);
    super({
      transform(chunk, controller) {
        for (const part of cutter.push(chunk)) controller.enqueue(part);
      },
      flush(controller) {
        for (const part of cutter.flush()) controller.enqueue(part);
      },
    });
    this.cutter = cutter;
  }
}
