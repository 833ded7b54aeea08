/**
 * Server-to-client WebSocket framing (RFC 6455, unmasked, unfragmented). A server frame is the
 * same bytes for every client, so a message can be framed once and written to every socket.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { frameHeader } from "./frame.ts";
 * assert(frameHeader(0x2, 5).join() === "130,5");
 * assert(frameHeader(0x2, 70000).length === 10);
 * ```
 * @module
 */

/** Opcode of a text frame. */
export const TEXT = 0x1;
/** Opcode of a binary frame. */
export const BINARY = 0x2;

/** The header of a final, unmasked frame carrying `length` payload bytes. */
export function frameHeader(opcode: number, length: number): Uint8Array {
  if (length < 126) return Uint8Array.of(0x80 | opcode, length);
  if (length < 65536) return Uint8Array.of(0x80 | opcode, 126, length >> 8, length & 0xff);
  const header = new Uint8Array(10);
  header[0] = 0x80 | opcode;
  header[1] = 127;
  new DataView(header.buffer).setBigUint64(2, BigInt(length));
  return header;
}

/**
 * The bytes that go before a binary payload to send "text frame, then binary frame": the whole
 * text frame and the binary frame's header, in one buffer.
 */
export function mediaPrefix(text: Uint8Array, binaryLength: number): Uint8Array {
  const textHeader = frameHeader(TEXT, text.byteLength);
  const binaryHeader = frameHeader(BINARY, binaryLength);
  const prefix = new Uint8Array(textHeader.byteLength + text.byteLength + binaryHeader.byteLength);
  prefix.set(textHeader, 0);
  prefix.set(text, textHeader.byteLength);
  prefix.set(binaryHeader, textHeader.byteLength + text.byteLength);
  return prefix;
}
