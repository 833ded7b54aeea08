/**
 * What a publisher sends and holds: the fragment being made (its parts), and while disconnected
 * only the newest complete fragment, so memory stays bounded (at most two fragments) however long
 * the node is away. A fragment is never sent half: after a reconnect the one in progress is sent
 * again from part 0, and a fragment dropped for congestion is dropped whole.
 *
 * This module runs in browsers and in Deno alike.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
import { PublisherOutbox } from "./outbox.ts";
 * const sent: string[] = [];
 * const outbox = new PublisherOutbox({ firstSeq: 10 });
 * outbox.attach({ send: (message) => sent.push(message.type), congested: false }, true);
 * outbox.addPart({ data: new Uint8Array(188), time: 1 });
 * outbox.addPart({ data: new Uint8Array(188), last: true, duration: 2 });
 * assert(sent.join() === "P,P");
 * ```
 * @module
 */

import { concatBytes } from "../mpegts/packet.ts";
import type { FragmentMessage, PartMessage } from "../protocol.ts";

/** Where the outbox writes: an open connection that the node accepted. */
export interface OutboxSink {
  /** Sends the message and then the binary frame. */
  send(message: FragmentMessage | PartMessage, data: Uint8Array): void;
  /** The connection has too much unsent data: the next fragment is dropped whole. */
  readonly congested: boolean;
}

/** A whole fragment given to the publisher. */
export interface OutgoingFragment {
  /** MPEG-TS bytes, starting with PAT, PMT and a keyframe. */
  data: Uint8Array;
  /** Duration in seconds. */
  duration: number;
  /** Wall-clock time of the first frame (ms since the epoch). @default the time it is given */
  time?: number;
  /** The media timestamps do not continue from the previous fragment. @default false */
  discontinuity?: boolean;
}

/** One part of a fragment given to the publisher. The first part after a last one starts a fragment. */
export interface OutgoingPart {
  /** Whole MPEG-TS packets; the first part of a fragment starts with PAT, PMT and a keyframe. */
  data: Uint8Array;
  /** Wall-clock time of the part's first frame (ms since the epoch). @default the time it is given */
  time?: number;
  /** The part starts with a keyframe (part 0 always does). @default false */
  independent?: boolean;
  /** This part ends the fragment. @default false */
  last?: boolean;
  /** On the last part: the fragment's duration in seconds. */
  duration?: number;
  /** On the first part: the media timestamps do not continue from the previous fragment. */
  discontinuity?: boolean;
}

/** What happened to something given to the outbox. */
export type OutboxResult = "sent" | "held" | "dropped";

/** Options of {@linkcode PublisherOutbox}. */
export interface PublisherOutboxOptions {
  /** Sequence number of the first fragment. */
  firstSeq: number;
  /** A fragment in progress larger than this is dropped (bytes). @default 64 MiB */
  maxFragmentBytes?: number;
  /** Wall clock (ms). @default Date.now */
  now?: () => number;
  /** Called for everything sent or dropped. */
  onSent?: (
    kind: "fragment" | "part" | "dropped",
    seq: number,
    bytes: number,
    complete: boolean,
    part?: number,
  ) => void;
}

interface InProgress {
  seq: number;
  time: number;
  discontinuity: boolean;
  parts: { message: PartMessage; data: Uint8Array }[];
  bytes: number;
  sent: number;
  dropped: boolean;
}

interface Complete {
  message: FragmentMessage;
  data: Uint8Array;
}

/** The sending policy of one publisher. */
export class PublisherOutbox {
  #options: PublisherOutboxOptions;
  #now: () => number;
  #maxBytes: number;
  #nextSeq: number;
  #sink: OutboxSink | null = null;
  #parts = false;
  #current: InProgress | null = null;
  #newest: Complete | null = null;

  /** Creates an outbox with nowhere to send yet. */
  constructor(options: PublisherOutboxOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#maxBytes = options.maxFragmentBytes ?? 64 * 1024 * 1024;
    this.#nextSeq = options.firstSeq;
  }

  /** Sequence number the next fragment gets. */
  get nextSeq(): number {
    return this.#nextSeq;
  }

  /** Whether a fragment is in progress (some of its parts were given). */
  get inProgress(): boolean {
    return this.#current !== null;
  }

  /** Bytes held for sending later (the newest complete fragment and the fragment in progress). */
  get heldBytes(): number {
    return (this.#newest?.data.byteLength ?? 0) + (this.#current?.bytes ?? 0);
  }

  /**
   * Connects the outbox to a sink (the node said `OK`), or disconnects it (`null`). On connect, the
   * newest held fragment goes out whole, then the parts so far of the fragment in progress.
   */
  attach(sink: OutboxSink | null, parts: boolean): void {
    this.#sink = sink;
    this.#parts = parts;
    const current = this.#current;
    if (sink === null) {
      if (current !== null) current.sent = 0;
      return;
    }
    const newest = this.#newest;
    this.#newest = null;
    if (newest !== null) this.#sendWhole(newest);
    if (current !== null && !current.dropped && parts) this.#sendParts(current);
  }

  /** Adds a whole fragment: sent now, held (replacing an older held one), or dropped. */
  addFragment(fragment: OutgoingFragment): OutboxResult {
    if (this.#current !== null) {
      throw new Error("a fragment is in progress in parts: finish it first");
    }
    const complete: Complete = {
      message: {
        type: "F",
        duration: fragment.duration,
        seq: this.#nextSeq++,
        time: this.#stamp(fragment.time),
        discontinuity: fragment.discontinuity || undefined,
      },
      data: fragment.data,
    };
    return this.#complete(complete);
  }

  /** Adds the next part of the fragment in progress (or the first part of a new one). */
  addPart(part: OutgoingPart): OutboxResult {
    let current = this.#current;
    if (current === null) {
      current = this.#current = {
        seq: this.#nextSeq++,
        time: this.#stamp(part.time),
        discontinuity: part.discontinuity === true,
        parts: [],
        bytes: 0,
        sent: 0,
        dropped: this.#sink?.congested === true,
      };
    }
    const index = current.parts.length;
    const message: PartMessage = {
      type: "P",
      seq: current.seq,
      part: index,
      time: index === 0 ? current.time : this.#stamp(part.time),
      independent: index === 0 || part.independent || undefined,
      discontinuity: (index === 0 && current.discontinuity) || undefined,
    };
    if (part.last) {
      message.last = true;
      message.duration = part.duration ?? 0;
      this.#current = null;
    }
    if (!current.dropped) {
      current.parts.push({ message, data: part.data });
      current.bytes += part.data.byteLength;
      if (current.bytes > this.#maxBytes) {
        current.dropped = true;
        current.parts = [];
      }
    }
    if (current.dropped) {
      if (part.last) this.#options.onSent?.("dropped", current.seq, 0, false);
      return "dropped";
    }
    if (this.#sink !== null && this.#parts) {
      this.#sendParts(current);
      return "sent";
    }
    if (!part.last) return "held";
    return this.#complete({
      message: {
        type: "F",
        duration: message.duration!,
        seq: current.seq,
        time: current.time,
        discontinuity: current.discontinuity || undefined,
      },
      data: joinParts(current.parts),
    });
  }

  /** Forgets the fragment in progress (the stream is closing before it was finished). */
  abortFragment(): void {
    const current = this.#current;
    if (current === null) return;
    this.#current = null;
    this.#options.onSent?.("dropped", current.seq, 0, false);
  }

  /** A wall-clock stamp in whole milliseconds: the given one, or now when it is missing or not a number. */
  #stamp(time: number | undefined): number {
    return Math.round(time !== undefined && Number.isFinite(time) ? time : this.#now());
  }

  #complete(complete: Complete): OutboxResult {
    const sink = this.#sink;
    if (sink === null) {
      if (this.#newest !== null) {
        this.#options.onSent?.("dropped", this.#newest.message.seq!, 0, false);
      }
      this.#newest = complete;
      return "held";
    }
    if (sink.congested) {
      this.#options.onSent?.("dropped", complete.message.seq!, 0, false);
      return "dropped";
    }
    this.#sendWhole(complete);
    return "sent";
  }

  #sendWhole(complete: Complete): void {
    this.#sink!.send(complete.message, complete.data);
    this.#options.onSent?.("fragment", complete.message.seq!, complete.data.byteLength, true);
  }

  #sendParts(current: InProgress): void {
    const sink = this.#sink!;
    while (current.sent < current.parts.length) {
      const { message, data } = current.parts[current.sent++];
      sink.send(message, data);
      this.#options.onSent?.(
        "part",
        message.seq,
        data.byteLength,
        message.last === true,
        message.part,
      );
    }
  }
}

function joinParts(parts: { data: Uint8Array }[]): Uint8Array {
  return concatBytes(parts.map((part) => part.data));
}
