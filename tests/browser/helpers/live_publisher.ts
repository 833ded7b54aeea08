/**
 * A live publisher for player tests: pushes ffmpeg fragments at the pace of their media clock, as
 * an encoder would, either as parts (cut at video PES starts, every `framesPerPart` frames; each
 * part sent when its last frame is complete) or as whole fragments (sent when complete). Every
 * fragment carries `seq` and `time` (the wall clock of its first frame); each loop over the media
 * is marked `discontinuity=1`. If its connection drops it reconnects, like a real publisher.
 *
 * @example
 * ```ts ignore
 * const publisher = new LivePublisher({ url: node.wsUrl, stream: "a", media, parts: true });
 * publisher.start();
 * await publisher.close(); // sends CLOSE
 * ```
 * @module
 */

import { type KnownMessage, writeMessage } from "../../../shared/protocol.ts";
import { pushToken } from "../../helpers/client.ts";
import type { MediaFragment } from "../../helpers/media.ts";
import { pesStarts } from "../../helpers/pes_starts.ts";

/** What to publish and how. */
export interface LivePublisherOptions {
  /** Node WebSocket URL. */
  url: string;
  /** Stream id. */
  stream: string;
  /** Fragments to loop over. */
  media: MediaFragment[];
  /** Send parts (`P`) instead of whole fragments. @default true */
  parts?: boolean;
  /** Frames (video PES packets) per part. @default 6 (200 ms at 30 fps) */
  framesPerPart?: number;
  /** Leave `time` out (an older publisher). @default false */
  noTime?: boolean;
}

interface Piece {
  /** Message to send. */
  message: KnownMessage;
  /** Bytes. */
  data: Uint8Array;
  /** Media seconds (from the start of the loop) when the piece is complete and can be sent. */
  readyAt: number;
  /** Media seconds of its first frame. */
  startsAt: number;
}

/** Cuts one fragment into parts at video (or audio) PES starts, with their media times. */
function cut(
  fragment: MediaFragment,
  framesPerPart: number,
): Array<{ data: Uint8Array; start: number; end: number }> {
  const frames = pesStarts(fragment.data);
  const starts = frames.map((frame) => frame.offset);
  const pts = frames.map((frame) => frame.pts!);
  const first = pts[0];
  const cuts: number[] = [];
  for (let index = 0; index < starts.length; index += framesPerPart) cuts.push(index);
  return cuts.map((index, k) => {
    const from = k === 0 ? 0 : starts[index];
    const nextIndex = cuts[k + 1];
    const to = nextIndex === undefined ? fragment.data.byteLength : starts[nextIndex];
    const start = (pts[index] - first) / 90000;
    const end = nextIndex === undefined ? fragment.duration : (pts[nextIndex] - first) / 90000;
    return { data: fragment.data.subarray(from, to), start, end };
  });
}

/** Publishes media in real time over a real WebSocket. */
export class LivePublisher {
  #options: LivePublisherOptions;
  #socket: WebSocket | null = null;
  #running = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #seq = 0;
  #loop = 0;
  #index = 0;
  #queue: Piece[] = [];
  #origin = 0;
  #loopMedia = 0;
  #connects = 0;
  #newPublisher = true;
  /** No reconnection before this time (`Date.now()`): the publisher is offline. */
  #offlineUntil = 0;
  /** Pieces sent so far. */
  sent = 0;

  /** Prepares the publisher; `start()` connects. */
  constructor(options: LivePublisherOptions) {
    this.#options = options;
  }

  /** Connections opened so far. */
  get connects(): number {
    return this.#connects;
  }

  /** Connects and starts sending in real time. */
  start(): void {
    this.#running = true;
    this.#origin = Date.now();
    this.#connect();
    this.#schedule();
  }

  #connect(): void {
    if (!this.#running) return;
    const socket = new WebSocket(this.#options.url);
    this.#socket = socket;
    socket.onopen = async () => {
      const auth = await pushToken(this.#options.stream);
      socket.send(
        writeMessage({
          type: "PUSH",
          stream: this.#options.stream,
          auth,
          parts: this.#options.parts !== false || undefined,
        }),
      );
      this.#connects++;
    };
    socket.onmessage = () => {};
    socket.onerror = () => {};
    socket.onclose = () => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      this.#newPublisher = true;
      if (this.#running) {
        setTimeout(() => this.#connect(), Math.max(200, this.#offlineUntil - Date.now()));
      }
    };
  }

  /** Builds the pieces of the next fragment. */
  #refill(): void {
    const { media, parts = true, framesPerPart = 6, noTime = false } = this.#options;
    if (this.#index >= media.length) {
      this.#index = 0;
      this.#loop++;
      this.#loopMedia += media.reduce((sum, fragment) => sum + fragment.duration, 0);
    }
    const fragment = media[this.#index];
    const fragmentStart = this.#loopMedia +
      media.slice(0, this.#index).reduce((sum, item) => sum + item.duration, 0);
    const seq = this.#seq++;
    const discontinuity = (this.#index === 0 && this.#loop > 0) || undefined;
    this.#index++;
    const time = (start: number) => noTime ? undefined : Math.round(this.#origin + start * 1000);
    if (!parts) {
      this.#queue.push({
        message: {
          type: "F",
          duration: fragment.duration,
          seq,
          time: time(fragmentStart),
          discontinuity,
        },
        data: fragment.data,
        readyAt: fragmentStart + fragment.duration,
        startsAt: fragmentStart,
      });
      return;
    }
    const pieces = cut(fragment, framesPerPart);
    pieces.forEach((piece, part) => {
      const last = part === pieces.length - 1;
      this.#queue.push({
        message: {
          type: "P",
          seq,
          part,
          time: time(fragmentStart + piece.start),
          discontinuity: part === 0 ? discontinuity : undefined,
          last: last || undefined,
          duration: last ? fragment.duration : undefined,
        },
        data: piece.data,
        readyAt: fragmentStart + piece.end,
        startsAt: fragmentStart + piece.start,
      });
    });
  }

  #schedule(): void {
    if (!this.#running) return;
    if (this.#queue.length === 0) this.#refill();
    const piece = this.#queue[0];
    const wait = this.#origin + piece.readyAt * 1000 - Date.now();
    this.#timer = setTimeout(() => {
      this.#queue.shift();
      this.#send(piece);
      this.#schedule();
    }, Math.max(0, wait));
  }

  #send(piece: Piece): void {
    const socket = this.#socket;
    if (socket === null || socket.readyState !== WebSocket.OPEN || this.#connects === 0) return;
    const message = piece.message;
    // After a reconnection, wait for the next fragment start; it continues the old timeline.
    if (this.#newPublisher) {
      const starts = message.type === "F" || (message.type === "P" && message.part === 0);
      if (!starts) return;
      this.#newPublisher = false;
    }
    socket.send(writeMessage(message));
    socket.send(piece.data);
    this.sent++;
  }

  /**
   * Drops the connection without `CLOSE` (the publisher crashed, or its network went away for
   * `offlineMs`); it reconnects by itself after that, going on with the live media.
   */
  dropConnection(offlineMs = 0): void {
    this.#offlineUntil = Date.now() + offlineMs;
    this.#socket?.close();
  }

  /** Sends `CLOSE` and stops. */
  async close(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    const socket = this.#socket;
    this.#socket = null;
    if (socket !== null && socket.readyState === WebSocket.OPEN) {
      socket.send("CLOSE");
      await new Promise((resolve) => setTimeout(resolve, 100));
      socket.close();
    }
  }

  /** Stops without `CLOSE`. */
  stop(): void {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#socket?.close();
    this.#socket = null;
  }
}
