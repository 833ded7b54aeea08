/**
 * The frame-order rule of the protocol: a binary frame is valid only right after an `F` or `P`
 * message, and exactly one follows each. One place keeps it for every receiver of media.
 *
 * This module runs in browsers and in Deno alike.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MediaPairing } from "./media_pairing.ts";
 * import { ProtocolError } from "./errors.ts";
 * const pairing = new MediaPairing();
 * pairing.announce({ type: "F", duration: 2 });
 * assert(pairing.take().type === "F");
 * assert.throws(() => pairing.take(), ProtocolError);
 * ```
 * @module
 */

import { ErrorCode, ProtocolError } from "./errors.ts";
import type { FragmentMessage, Message, PartMessage } from "./protocol.ts";

/** An `F` or `P` message: what announces a binary frame. */
export type MediaHeader = FragmentMessage | PartMessage;

/** Pairs each `F`/`P` message with the binary frame after it. */
export class MediaPairing {
  #pending: MediaHeader | null = null;

  /** Throws `PROTOCOL_ERROR` when `message` arrives where a binary frame is due. */
  expectText(message: Message): void {
    if (this.#pending !== null) {
      throw new ProtocolError(
        ErrorCode.PROTOCOL_ERROR,
        `expected the binary frame of the ${this.#pending.type} message, got ${message.type}`,
      );
    }
  }

  /** Records the header of the next binary frame (after `expectText` accepted it). */
  announce(header: MediaHeader): void {
    this.expectText(header);
    this.#pending = header;
  }

  /** The header a binary frame belongs to; throws `PROTOCOL_ERROR` when none was announced. */
  take(): MediaHeader {
    const header = this.#pending;
    if (header === null) {
      throw new ProtocolError(
        ErrorCode.PROTOCOL_ERROR,
        "binary frame without a preceding F or P message",
      );
    }
    this.#pending = null;
    return header;
  }
}
