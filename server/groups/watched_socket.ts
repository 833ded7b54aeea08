/**
 * The socket a group spectator's {@linkcode Spectator} writes to: the connection's socket, with
 * two additions. Every media send is counted in the viewer's {@linkcode LinkEstimate} (bytes and
 * time), and the first fragment start sent after a rendition switch gets the switch parameters
 * (`rendition=`, `reason=`, `codecs=`) added to its `F`/`P` text. A spectator that skips the
 * fragment (slow-spectator policy) sends nothing, so the parameters wait for the next start sent.
 *
 * @example
 * ```ts ignore
 * const socket = new WatchedSocket(connectionSocket, link);
 * socket.announce(part0.data, { rendition: "room/live/640x360-30~800", reason: "down" });
 * spectator.offerPart(part0); // goes out as P:...&rendition=room%2Flive%2F640x360-30%7E800&reason=down
 * ```
 * @module
 */

import { parseMessage, writeMessage } from "../../shared/protocol.ts";
import {
  MediaMessage,
  type ServerSocket,
  type SocketListener,
  TextFrame,
} from "../transport/transport.ts";
import type { LinkEstimate } from "./link_estimate.ts";

/** The switch parameters of the first media message of a rendition. */
export interface Announcement {
  /** Rendition id. */
  rendition: string;
  /** Why the node switched (`start`, `down`, `up`, `pin`). */
  reason: string;
  /** Codecs, when known and different from the previous rendition's. */
  codecs?: string;
}

/** A socket wrapper that measures media sends and stamps the first message after a switch. */
export class WatchedSocket implements ServerSocket {
  #socket: ServerSocket;
  #link: LinkEstimate;
  #pending: { announcement: Announcement; data: Uint8Array | null } | null = null;

  /** Wraps the connection's socket. */
  constructor(socket: ServerSocket, link: LinkEstimate) {
    this.#socket = socket;
    this.#link = link;
  }

  /**
   * The next media message whose bytes are `data` (a fragment or part 0 of the new rendition;
   * null: whatever media goes out next) carries `announcement`. A later call replaces it.
   */
  announce(data: Uint8Array | null, announcement: Announcement): void {
    this.#pending = { announcement, data };
  }

  /** Whether an announcement still waits for its message. */
  get announcing(): boolean {
    return this.#pending !== null;
  }

  /** The underlying socket's queue. */
  get bufferedAmount(): number {
    return this.#socket.bufferedAmount;
  }

  /** Not used: the connection owns the listener. */
  listen(listener: SocketListener): void {
    this.#socket.listen(listener);
  }

  /** Passed on. */
  setMaxMessageSize(bytes: number): void {
    this.#socket.setMaxMessageSize(bytes);
  }

  /** Passed on. */
  sendText(frame: TextFrame): void {
    this.#socket.sendText(frame);
  }

  /** Counts the media, stamps the announced message, sends it. */
  sendMedia(message: MediaMessage): void {
    const pending = this.#pending;
    if (pending !== null && (pending.data === null || pending.data === message.data)) {
      this.#pending = null;
      message = stamped(message, pending.announcement);
    }
    this.#socket.sendMedia(message);
    this.#link.sent(message.data.byteLength, performance.now());
  }

  /** Passed on. */
  close(code?: number, reason?: string): void {
    this.#socket.close(code, reason);
  }

  /** Passed on. */
  terminate(): void {
    this.#socket.terminate();
  }
}

/** The same media with the switch parameters added to its `F`/`P` text (made once per switch). */
function stamped(message: MediaMessage, announcement: Announcement): MediaMessage {
  const header = parseMessage(message.header.text);
  if (header.type !== "F" && header.type !== "P") return message;
  return new MediaMessage(
    new TextFrame(writeMessage({
      ...header,
      rendition: announcement.rendition,
      reason: announcement.reason,
      codecs: announcement.codecs,
    })),
    message.data,
  );
}
