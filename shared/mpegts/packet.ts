/**
 * MPEG-TS packets: the 188-byte unit of the transport stream, and readers for the header fields
 * the cutter needs (PID, payload unit start, adaptation field, random access indicator).
 *
 * This module runs in browsers and in Deno alike.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { packetPid, payloadOffset, TS_PACKET_SIZE } from "./packet.ts";
 * const packet = new Uint8Array(TS_PACKET_SIZE);
 * packet.set([0x47, 0x41, 0x00, 0x10]); // sync, payload unit start, PID 0x100, payload only
 * assert(packetPid(packet) === 0x100 && payloadOffset(packet) === 4);
 * ```
 * @module
 */

/** Size of one transport stream packet in bytes. */
export const TS_PACKET_SIZE = 188;
/** The byte every packet starts with. */
export const SYNC_BYTE = 0x47;
/** PID of the Program Association Table. */
export const PAT_PID = 0x0000;
/** PID of null (stuffing) packets. */
export const NULL_PID = 0x1fff;

/** The 13-bit packet identifier of the packet at `offset`. */
export function packetPid(data: Uint8Array, offset = 0): number {
  return (data[offset + 1] & 0x1f) << 8 | data[offset + 2];
}

/** Whether a PES packet or a PSI section starts in this packet (`payload_unit_start_indicator`). */
export function payloadUnitStart(data: Uint8Array, offset = 0): boolean {
  return (data[offset + 1] & 0x40) !== 0;
}

/** Whether the packet has an adaptation field. */
export function hasAdaptationField(data: Uint8Array, offset = 0): boolean {
  return (data[offset + 3] & 0x20) !== 0;
}

/** Whether the packet carries payload bytes. */
export function hasPayload(data: Uint8Array, offset = 0): boolean {
  return (data[offset + 3] & 0x10) !== 0;
}

/**
 * Whether the adaptation field sets `random_access_indicator`: the packet starts a point where a
 * decoder can begin (a video keyframe; muxers such as ffmpeg also set it on audio frames).
 */
export function randomAccessIndicator(data: Uint8Array, offset = 0): boolean {
  if (!hasAdaptationField(data, offset)) return false;
  const length = data[offset + 4];
  return length > 0 && (data[offset + 5] & 0x40) !== 0;
}

/**
 * Offset of the first payload byte inside the packet (4, or after the adaptation field), or
 * `TS_PACKET_SIZE` when the packet has no payload.
 */
export function payloadOffset(data: Uint8Array, offset = 0): number {
  if (!hasPayload(data, offset)) return TS_PACKET_SIZE;
  if (!hasAdaptationField(data, offset)) return 4;
  return Math.min(TS_PACKET_SIZE, 5 + data[offset + 4]);
}

/** The payload bytes of one packet (a view, never a copy). */
export function packetPayload(packet: Uint8Array): Uint8Array {
  return packet.subarray(payloadOffset(packet), TS_PACKET_SIZE);
}

/**
 * Joins byte arrays into one. A single array is returned as it is (no copy): callers never write
 * into the result.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { concatBytes } from "./packet.ts";
 * assert(concatBytes([new Uint8Array([1]), new Uint8Array([2, 3])]).length === 3);
 * ```
 */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  let size = 0;
  for (const chunk of chunks) size += chunk.byteLength;
  const result = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    result.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return result;
}
