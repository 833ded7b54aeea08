/**
 * Packet alignment: turns a byte stream cut anywhere (pipe reads, network chunks) into runs of
 * whole 188-byte MPEG-TS packets, finding the sync byte again after garbage.
 *
 * This module runs in browsers and in Deno alike.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TsPacketAligner } from "./packet_aligner.ts";
 * const aligner = new TsPacketAligner();
 * const packet = new Uint8Array(188).fill(0xff);
 * packet[0] = 0x47;
 * assert(aligner.push(packet.subarray(0, 100)).length === 0);
 * const runs = aligner.push(packet.subarray(100));
 * assert(runs.length === 1 && runs[0].length === 188);
 * ```
 * @module
 */

import { SYNC_BYTE, TS_PACKET_SIZE } from "./packet.ts";

/** Splits arbitrary chunks into runs of whole packets; keeps the incomplete tail for the next chunk. */
export class TsPacketAligner {
  #rest: Uint8Array = new Uint8Array(0);
  #skipped = 0;

  /** Bytes thrown away so far because they were not part of a packet (garbage, lost sync, a cut tail). */
  get skippedBytes(): number {
    return this.#skipped;
  }

  /** Bytes held until the next chunk completes their packet. */
  get pendingBytes(): number {
    return this.#rest.byteLength;
  }

  /**
   * Takes the next chunk and returns the whole packets it completes, as runs whose length is a
   * multiple of 188. The runs may be views of `chunk`: do not change a chunk after pushing it.
   */
  push(chunk: Uint8Array): Uint8Array[] {
    let data = chunk;
    if (this.#rest.byteLength > 0) {
      data = new Uint8Array(this.#rest.byteLength + chunk.byteLength);
      data.set(this.#rest);
      data.set(chunk, this.#rest.byteLength);
    }
    const runs: Uint8Array[] = [];
    let index = 0;
    while (data.byteLength - index >= TS_PACKET_SIZE) {
      if (data[index] === SYNC_BYTE) {
        let end = index;
        while (end + TS_PACKET_SIZE <= data.byteLength && data[end] === SYNC_BYTE) {
          end += TS_PACKET_SIZE;
        }
        runs.push(data.subarray(index, end));
        index = end;
        continue;
      }
      const next = this.#resync(data, index + 1);
      this.#skipped += next - index;
      index = next;
    }
    this.#rest = index < data.byteLength ? data.slice(index) : new Uint8Array(0);
    return runs;
  }

  /** The stream ended: an incomplete packet left over is dropped (and counted). */
  flush(): void {
    this.#skipped += this.#rest.byteLength;
    this.#rest = new Uint8Array(0);
  }

  /**
   * The first offset from `from` that looks like a packet start: a sync byte followed by sync
   * bytes 188 and 376 bytes later where the data reaches that far. Returns the data length when
   * there is none (then everything but a possible packet start in the tail is garbage).
   */
  #resync(data: Uint8Array, from: number): number {
    for (let offset = from; offset < data.byteLength; offset++) {
      if (data[offset] !== SYNC_BYTE) continue;
      let confirmed = true;
      for (
        let next = offset + TS_PACKET_SIZE;
        next <= offset + 2 * TS_PACKET_SIZE;
        next += TS_PACKET_SIZE
      ) {
        if (next < data.byteLength && data[next] !== SYNC_BYTE) confirmed = false;
      }
      if (confirmed) return offset;
    }
    return data.byteLength;
  }
}

/**
 * A `TransformStream` of {@linkcode TsPacketAligner}: arbitrary chunks in, runs of whole packets out.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tsPacketStream } from "./packet_aligner.ts";
 * const packets = new Blob([new Uint8Array(376).map((_, i) => i % 188 === 0 ? 0x47 : 0)])
 *   .stream().pipeThrough(tsPacketStream());
 * let total = 0;
 * for await (const run of packets) total += run.length;
 * assert(total === 376);
 * ```
 */
export function tsPacketStream(): TransformStream<Uint8Array, Uint8Array> {
  const aligner = new TsPacketAligner();
  return new TransformStream({
    transform(chunk, controller) {
      for (const run of aligner.push(chunk)) controller.enqueue(run);
    },
    flush() {
      aligner.flush();
    },
  });
}
