/**
 * ISO base media file format (ISO/IEC 14496-12) boxes as bytes: a box is its 32-bit size, its
 * four-character type and its payload; a full box adds a version byte and 24 bits of flags.
 *
 * This module runs in browsers and in Deno alike.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { box, u32 } from "./boxes.ts";
 * const free = box("free", u32(7));
 * assert.deepEqual([...free], [0, 0, 0, 12, 0x66, 0x72, 0x65, 0x65, 0, 0, 0, 7]);
 * ```
 * @module
 */

/** Bytes of the arguments one after the other (one copy). */
export function join(parts: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const part of parts) size += part.byteLength;
  const result = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    result.set(part, offset);
    offset += part.byteLength;
  }
  return result;
}

/** One unsigned byte. */
export function u8(value: number): Uint8Array {
  return new Uint8Array([value & 0xff]);
}

/** A big-endian unsigned 16-bit number. */
export function u16(value: number): Uint8Array {
  return new Uint8Array([(value >> 8) & 0xff, value & 0xff]);
}

/** A big-endian unsigned 24-bit number. */
export function u24(value: number): Uint8Array {
  return new Uint8Array([(value >> 16) & 0xff, (value >> 8) & 0xff, value & 0xff]);
}

/** A big-endian 32-bit number (negative values as two's complement). */
export function u32(value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value >>> 0);
  return bytes;
}

/** A big-endian unsigned 64-bit number (exact up to 2^53). */
export function u64(value: number): Uint8Array {
  const bytes = new Uint8Array(8);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, Math.floor(value / 2 ** 32));
  view.setUint32(4, value >>> 0);
  return bytes;
}

/** The four ASCII bytes of a box type or brand. */
export function fourCc(type: string): Uint8Array {
  if (type.length !== 4) throw new RangeError(`not a four-character code: ${type}`);
  return new Uint8Array([...type].map((char) => char.charCodeAt(0)));
}

/** `count` zero bytes. */
export function zeros(count: number): Uint8Array {
  return new Uint8Array(count);
}

/** A box of type `type` holding `payload`. */
export function box(type: string, ...payload: Uint8Array[]): Uint8Array {
  let size = 8;
  for (const part of payload) size += part.byteLength;
  return join([u32(size), fourCc(type), ...payload]);
}

/** A full box: version and flags, then `payload`. */
export function fullBox(
  type: string,
  version: number,
  flags: number,
  ...payload: Uint8Array[]
): Uint8Array {
  return box(type, u8(version), u24(flags), ...payload);
}
