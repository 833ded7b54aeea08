/**
 * One rendition's path from ffmpeg to the node: the MPEG-TS bytes of one ffmpeg output go through
 * the cutter, and each part (or whole fragment, with parts off) goes to the publisher the moment it
 * is complete.
 *
 * @example
 * ```ts ignore
 * const pump = new StreamPump({ publisher, parts: true, fragmentDuration: 2, partDuration: "frame" });
 * await pump.run(ffmpeg.stdout); // until ffmpeg closes its output
 * console.log(pump.stats.fragments, pump.stats.mediaSeconds);
 * ```
 * @module
 */

import { TsCutter, type TsPart } from "../shared/mpegts/cutter.ts";
import type { Publisher } from "../shared/publisher/publisher.ts";

/** Options of {@linkcode StreamPump}. */
export interface StreamPumpOptions {
  /** Where fragments go (started by the caller). */
  publisher: Publisher;
  /** Send parts (`P`) as they are cut; otherwise whole fragments (`F`). */
  parts: boolean;
  /** Target fragment duration in seconds. */
  fragmentDuration: number;
  /** Target part duration in seconds, or `"frame"` (a part per video frame), with `parts`. */
  partDuration: number | "frame";
  /** Called with every part cut (before it is sent). */
  onPart?: (part: TsPart) => void;
}

/** Counters of a pump. */
export interface StreamPumpStats {
  /** Bytes read from ffmpeg. */
  bytesIn: number;
  /** Bytes handed to the publisher. */
  bytesOut: number;
  /** Fragments cut. */
  fragments: number;
  /** Parts cut. */
  parts: number;
  /** Sum of the fragment durations in seconds. */
  mediaSeconds: number;
  /** Duration of the last fragment in seconds. */
  lastDuration: number;
}

/** Reads one ffmpeg output, cuts it, and publishes it. */
export class StreamPump {
  #options: StreamPumpOptions;
  #cutter: TsCutter;
  #stats: StreamPumpStats = {
    bytesIn: 0,
    bytesOut: 0,
    fragments: 0,
    parts: 0,
    mediaSeconds: 0,
    lastDuration: 0,
  };

  /** Creates the pump (nothing is read until `run`). */
  constructor(options: StreamPumpOptions) {
    this.#options = options;
    this.#cutter = new TsCutter({
      fragmentDuration: options.fragmentDuration,
      partDuration: options.parts ? options.partDuration : 0,
    });
  }

  /** Counters so far (a copy). */
  get stats(): StreamPumpStats {
    return { ...this.#stats };
  }

  /** The cutter (its stats: injected and dropped bytes). */
  get cutter(): TsCutter {
    return this.#cutter;
  }

  /** Reads `readable` to its end; the fragment in progress is completed and sent at the end. */
  async run(readable: ReadableStream<Uint8Array>): Promise<void> {
    for await (const chunk of readable) {
      this.#stats.bytesIn += chunk.byteLength;
      for (const part of this.#cutter.push(chunk)) this.#send(part);
    }
    for (const part of this.#cutter.flush()) this.#send(part);
  }

  #send(part: TsPart): void {
    const stats = this.#stats;
    stats.parts++;
    stats.bytesOut += part.data.byteLength;
    if (part.last) {
      stats.fragments++;
      stats.mediaSeconds += part.duration!;
      stats.lastDuration = part.duration!;
    }
    this.#options.onPart?.(part);
    const publisher = this.#options.publisher;
    if (publisher.state === "closed") return;
    if (!this.#options.parts) {
      publisher.sendFragment({
        data: part.data,
        duration: part.duration!,
        time: part.fragmentTime,
        discontinuity: part.discontinuity,
      });
      return;
    }
    publisher.sendPart({
      data: part.data,
      time: part.time,
      independent: part.independent,
      last: part.last,
      duration: part.duration,
      discontinuity: part.discontinuity,
    });
  }
}
