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
 * assert(pairing.receive({ type: "F", duration: 2 }));
 * assert.throws(() => pairing.receive({ type: "H" }), ProtocolError, "a binary frame is due");
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

  /**
   * A text message arrived: throws `PROTOCOL_ERROR` where a binary frame is due (a second `F`/`P`
   * included), records an `F` or `P` as the next frame's header, and says whether it was one.
   */
  receive(message: Message): message is MediaHeader {
    if (this.#pending !== null) {
      throw new ProtocolError(
        ErrorCode.PROTOCOL_ERROR,
        `expected the binary frame of the ${this.#pending.type} message, got ${message.type}`,
      );
    }
    if (message.type !== "F" && message.type !== "P") return false;
    this.#pending = message;
    return true;
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
