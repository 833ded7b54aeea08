/**
 * Fragments and parts as a node holds them: the media bytes, shared by every spectator, and the
 * `F`/`P` message that announces them, written once per variant (`jump`, and `at` for spectators
 * granted `clock`) so fan-out never re-encodes it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Fragment } from "./fragment.ts";
 * const fragment = new Fragment({ seq: 4, duration: 2, discontinuity: false, assembled: false }, new Uint8Array(188));
 * assert(fragment.message(false).header.text === "F:duration=2&seq=4");
 * assert(fragment.message(true).header.text === "F:duration=2&seq=4&jump=1");
 * ```
 * @module
 */

import { concatBytes } from "../shared/mpegts/packet.ts";
import { type FragmentMessage, type PartMessage, writeMessage } from "../shared/protocol.ts";
import { MediaMessage, TextFrame } from "./transport/transport.ts";

/** What identifies and times a fragment. */
export interface FragmentInfo {
  /** Sequence number, given at the origin. */
  seq: number;
  /** Duration in seconds. */
  duration: number;
  /** Wall-clock time of the first frame (ms since the epoch), when the publisher gave one. */
  time?: number;
  /** The origin node's receive time (ms since the epoch); of the first part for one built from parts. */
  at?: number;
  /** Timestamps may not continue from the previous fragment. */
  discontinuity: boolean;
  /** Built from parts (spectators that received the parts do not get it again). */
  assembled: boolean;
}

/**
 * Received media bytes and the `F`/`P` message that goes before them, framed once for each value
 * of `jump` and `clock` and shared by every spectator.
 */
abstract class MediaUnit<I> {
  /** Identity and timing. */
  readonly info: I;
  /** The media bytes, never copied per spectator. */
  readonly data: Uint8Array;
  /** `performance.now()` when the node had the bytes. */
  readonly receivedAt: number;
  /** Indexed by `jump` + 2 × `clock`. */
  #messages: (MediaMessage | undefined)[] = [undefined, undefined, undefined, undefined];

  /** Wraps received bytes. */
  constructor(info: I, data: Uint8Array, receivedAt = performance.now()) {
    this.info = info;
    this.data = data;
    this.receivedAt = receivedAt;
  }

  /**
   * The message + bytes, with `jump=1` when the spectator skipped fragments before them, and the
   * origin's receive time `at` for a spectator granted `clock`.
   */
  message(jump: boolean, clock = false): MediaMessage {
    return this.#messages[(jump ? 1 : 0) + (clock ? 2 : 0)] ??= new MediaMessage(
      new TextFrame(writeMessage(this.header(jump, clock))),
      this.data,
    );
  }

  /** The `F` or `P` message of these bytes. */
  protected abstract header(jump: boolean, clock: boolean): FragmentMessage | PartMessage;
}

/** One whole fragment (MPEG-TS bytes). */
export class Fragment extends MediaUnit<FragmentInfo> {
  /** Sequence number. */
  get seq(): number {
    return this.info.seq;
  }

  /** `F` for this fragment. */
  protected header(jump: boolean, clock: boolean): FragmentMessage {
    return {
      type: "F",
      duration: this.info.duration,
      seq: this.info.seq,
      time: this.info.time,
      at: clock ? this.info.at : undefined,
      discontinuity: this.info.discontinuity || undefined,
      jump: jump || undefined,
    };
  }
}

/** What identifies a part. */
export interface PartInfo {
  /** Sequence number of the fragment it belongs to. */
  seq: number;
  /** Index in the fragment, from 0. */
  index: number;
  /** Starts with a keyframe. */
  independent: boolean;
  /** Closes the fragment. */
  last: boolean;
  /** On the last part: the fragment's duration in seconds. */
  duration?: number;
  /** Wall-clock time of the part's first frame (ms since the epoch), when given. */
  time?: number;
  /** The origin node's receive time (ms since the epoch), when known. */
  at?: number;
  /** Timestamps may not continue from the previous fragment (part 0 only). */
  discontinuity: boolean;
}

/** One part of a fragment being made. */
export class Part extends MediaUnit<PartInfo> {
  /** `P` for this part. */
  protected header(jump: boolean, clock: boolean): PartMessage {
    return {
      type: "P",
      seq: this.info.seq,
      part: this.info.index,
      independent: this.info.independent || undefined,
      last: this.info.last || undefined,
      duration: this.info.last ? this.info.duration : undefined,
      time: this.info.time,
      at: clock ? this.info.at : undefined,
      discontinuity: this.info.discontinuity || undefined,
      jump: jump || undefined,
    };
  }
}

/**
 * Joins parts into one buffer (the one copy a node makes of media: whole-fragment spectators and
 * the ring need the fragment in one piece).
 */
export function concatParts(parts: readonly Part[]): Uint8Array {
  return concatBytes(parts.map((part) => part.data));
}
