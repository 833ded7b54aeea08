/**
 * Test support: a {@linkcode ServerSocket} whose client is the test. It records what the node
 * sends (text, media, closes, frame-size limits) and lets the test speak as the client would
 * (`text`, `binary`, `tooLarge`, `drop`). `bufferedAmount` is settable, to play a slow reader.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RecordingSocket } from "./recording_socket.ts";
 * import { TextFrame } from "../transport/transport.ts";
 * const socket = new RecordingSocket();
 * socket.sendText(new TextFrame("OK"));
 * socket.close(1000, "bye");
 * socket.sendText(new TextFrame("H"));
 * assert.deepEqual(socket.sent, ["OK"], "nothing is sent once closing");
 * ```
 * @module
 */

import { type Message, parseMessage } from "../../shared/protocol.ts";
import type {
  MediaMessage,
  ServerSocket,
  SocketListener,
  TextFrame,
} from "../transport/transport.ts";

/** A recording server socket (see the module documentation). */
export class RecordingSocket implements ServerSocket {
  /** Every frame sent, in order (a media message is its text, then its bytes). */
  readonly sent: (string | Uint8Array)[] = [];
  /** Bytes not yet written, as the node sees them. */
  bufferedAmount = 0;
  /** The frame-size limit the node set last. */
  maxMessageSize = Infinity;
  /** The node's close, once it closed. */
  closed: { code?: number; reason?: string } | null = null;
  /** Whether the node dropped the socket without a handshake. */
  terminated = false;
  /** Whether the connection is gone (`onClose` was delivered). */
  gone = false;
  #listener: SocketListener | null = null;
  #completeCloses: boolean;

  /** A socket; with `completeCloses` the client answers every close at once (the handshake ends). */
  constructor(options: { completeCloses?: boolean } = {}) {
    this.#completeCloses = options.completeCloses ?? false;
  }

  /** Sets the listener (the node). */
  listen(listener: SocketListener): void {
    this.#listener = listener;
  }

  /** Records the limit. */
  setMaxMessageSize(bytes: number): void {
    this.maxMessageSize = bytes;
  }

  /** Records a text frame (nothing once closing, as the transports do). */
  sendText(frame: TextFrame): void {
    if (this.closed === null) this.sent.push(frame.text);
  }

  /** Records a media message's text frame and bytes (nothing once closing). */
  sendMedia(message: MediaMessage): void {
    if (this.closed === null) this.sent.push(message.header.text, message.data);
  }

  /** Records the close (and completes it, with `completeCloses`). */
  close(code?: number, reason?: string): void {
    if (this.closed !== null) return;
    this.closed = { code, reason };
    if (this.#completeCloses) queueMicrotask(() => this.drop(code ?? 1005, reason ?? ""));
  }

  /** Records the drop, and the connection is gone. */
  terminate(): void {
    if (this.terminated) return;
    this.terminated = true;
    this.drop(1006);
  }

  /** The client sends a text frame. */
  text(text: string): void {
    this.#listener?.onText(text);
  }

  /** The client sends a binary frame. */
  binary(data: Uint8Array): void {
    this.#listener?.onBinary(data);
  }

  /** A frame over the limit is arriving. */
  tooLarge(): void {
    this.#listener?.onTooLarge();
  }

  /** The connection closes (the client went away, or the close handshake ended); once. */
  drop(code = 1006, reason = ""): void {
    if (this.gone) return;
    this.gone = true;
    this.#listener?.onClose(code, reason);
  }

  /** Every text message sent, parsed. */
  messages(): Message[] {
    return this.sent.filter((item): item is string => typeof item === "string").map((text) =>
      parseMessage(text)
    );
  }

  /** The types of the text messages sent, in order. */
  types(): string[] {
    return this.messages().map((message) => message.type);
  }
}
