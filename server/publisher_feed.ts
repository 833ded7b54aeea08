/**
 * The push side of one connection (the node's end of a publisher): pairs each `F` or `P` with the
 * binary frame after it and feeds the stream; `CLOSE` ends the stream cleanly, a broken protocol ends it with `PUBLISHER_LOST`, a
 * lost connection leaves it waiting for the publisher to come back (`LocalPublications.vanish`).
 *
 * @example
 * ```ts ignore
 * const feed = new PublisherFeed({ streamId: "room/a", publications, fail, done });
 * feed.handleText({ type: "F", duration: 2 });
 * feed.handleBinary(bytes);
 * ```
 * @module
 */

import { ErrorCode, ProtocolError } from "../shared/errors.ts";
import type { Message } from "../shared/protocol.ts";
import { MediaPairing } from "../shared/media_pairing.ts";
import type { ConnectionRole } from "./connection_role.ts";
import type { LocalPublications, PublisherHandle } from "./sources/local.ts";
import type { Stream } from "./stream.ts";

/** How a publisher feed is set up. */
export interface PublisherFeedOptions {
  /** The stream it publishes. */
  streamId: string;
  /** Where the stream is registered. */
  publications: LocalPublications;
  /** Called when the publisher must be closed (replaced): the owner sends `E` and closes. */
  fail(code: ErrorCode, message: string): void;
  /** Called after `CLOSE`: the stream ended cleanly and the owner closes the connection. */
  done(): void;
}

/** One publishing connection feeding its stream. */
export class PublisherFeed implements PublisherHandle, ConnectionRole {
  /** Always `publisher`. */
  readonly kind = "publisher";
  /** A publisher is sent nothing but control messages. */
  readonly sentBytes = 0;
  #options: PublisherFeedOptions;
  #stream: Stream;
  #media = new MediaPairing();
  #active = true;

  /** Registers the publication (taking the stream over if it is live). */
  constructor(options: PublisherFeedOptions) {
    this.#options = options;
    this.#stream = options.publications.publish(options.streamId, this);
  }

  /** The stream being fed. */
  get stream(): Stream {
    return this.#stream;
  }

  /** A text message from the publisher (after `OK`). */
  handleText(message: Message): void {
    if (!this.#active || this.#media.receive(message)) return;
    switch (message.type) {
      case "CLOSE":
        this.#finish({ kind: "closed" });
        this.#options.done();
        return;
      case "H":
      case "OK":
      case "UNKNOWN":
        return;
      default:
        throw new ProtocolError(
          ErrorCode.PROTOCOL_ERROR,
          `${message.type} is not allowed while publishing`,
        );
    }
  }

  /**
   * A binary frame from the publisher: the media announced by the last `F` or `P`, stamped with
   * this node's receive time `at` (the origin's stamp, which relays keep; whatever `at` the
   * publisher sent is replaced). The stream applies the size and memory limits (the same for
   * every source) and throws past them.
   */
  handleBinary(data: Uint8Array): void {
    if (!this.#active) return;
    const pending = this.#media.take();
    pending.at = Date.now();
    if (pending.type === "F") this.#stream.pushFragment(pending, data);
    else this.#stream.pushPart(pending, data);
  }

  /** Nothing to check: the stream holds the publisher to its limits. */
  check(): void {}

  /**
   * The connection ended (dropped, or closed for silence) without `CLOSE`: a blip, not an end. The
   * stream waits for the publisher to come back (or ends at once when there is no grace).
   */
  connectionClosed(reason: string): void {
    if (!this.#active) return;
    this.#active = false;
    this.#options.publications.vanish(this.#options.streamId, this, reason);
  }

  /** The publisher broke the protocol (a broken encoder, not a blip): the stream ends at once. */
  protocolBroken(message: string): void {
    this.#finish({
      kind: "failed",
      code: ErrorCode.PUBLISHER_LOST,
      message: `the publisher broke the protocol: ${message}`,
    });
  }

  /** Another `PUSH` took the stream over. */
  replaced(): void {
    if (!this.#active) return;
    this.#active = false;
    this.#options.fail(ErrorCode.PUBLISHER_REPLACED, "another publisher took this stream over");
  }

  #finish(end: Parameters<LocalPublications["unpublish"]>[2]): void {
    if (!this.#active) return;
    this.#active = false;
    this.#options.publications.unpublish(this.#options.streamId, this, end);
  }
}
